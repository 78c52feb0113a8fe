import assert from 'node:assert/strict'
import fc from 'fast-check'
import { AclValidationError, draftFromJson, stampDraft, validateMessage, type AclLimits, type AclMessage } from '../../protocols/fipa/index.js'
import { isTraceparent00 } from '../../protocols/fipa/rules.js'
import { clientTag, clientTagIn } from '../../protocols/delivery/index.js'
import { AgentNotFoundError, MessageRouter, SYSTEM_AGENT, type MessageSink } from '../../src/router/index.js'
import { nearValidInput, tightLimits, validMessage } from '../protocols/fipa/arbitraries.js'

/** Records what the router hands to delivery. */
class FakeSink implements MessageSink {
  readonly accepted: AclMessage[] = []
  readonly handledCalls: Array<{ agentId: string, token: string | undefined, sent: AclMessage[] }> = []
  readonly records: Array<{ status: string, message: AclMessage, reason?: string }> = []
  /** Of `accepted`, those handed over as an API client's. */
  readonly fromClients: AclMessage[] = []
  async accept (messages: readonly AclMessage[]): Promise<void> { this.accepted.push(...messages) }
  async acceptFromClient (message: AclMessage): Promise<void> { this.accepted.push(message); this.fromClients.push(message) }
  handled (agentId: string, token: string | undefined, sent: readonly AclMessage[]): void { this.handledCalls.push({ agentId, token, sent: [...sent] }) }
  record (_d: 'in' | 'out' | 'local', status: string, message: AclMessage, _peer?: string, reason?: string): void { this.records.push({ status, message, reason }) }
}

function setup (options: { local?: string[], remote?: Record<string, string>, dht?: Record<string, string>, clients?: string[], registered?: Record<string, string> } = {}): { router: MessageRouter, sink: FakeSink } {
  const local = new Set(options.local ?? [])
  const remote = new Map(Object.entries(options.remote ?? {}))
  const dht = new Map(Object.entries(options.dht ?? {}))
  const clients = new Set(options.clients ?? [])
  const sink = new FakeSink()
  let n = 0
  const router = new MessageRouter({
    localPeer: '12D3KooWAbcdefghTag5SeXz',
    runtime: { has: id => local.has(id) },
    locator: { lookup: id => remote.get(id), resolve: async id => remote.get(id) ?? dht.get(id), registeredOn: id => options.registered?.[id] },
    sink,
    clients: { has: id => clients.has(id) },
    clock: () => 1000,
    newId: () => `id-${++n}`
  })
  return { router, sink }
}

describe('router', () => {
  it('stamps a client message: id, time, a client sender, conversation, reply-with, a new trace', async () => {
    const { router, sink } = setup({ local: ['echo'] })
    const m = await router.prepareFromClient('echo', { performative: 'request', content: 'hi' })
    assert.equal(m.performative, 'REQUEST')
    assert.equal(m.messageId, 'id-1')
    assert.equal(m.createdAt, 1000)
    assert.match(m.sender, /^client-Tag5SeXz-[0-9a-f]{8}$/, 'a client id of this node (its tag: the last 8 characters of its PeerId)')
    assert.deepEqual(m.receivers, ['echo'])
    assert.equal(m.conversationId, 'id-2')
    assert.equal(m.replyWith, 'id-1')
    assert.match(m.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
    assert.equal(sink.accepted.length, 0, 'preparing sends nothing')
    await router.submit(m)
    assert.deepEqual(sink.accepted, [m])
    assert.deepEqual(sink.fromClients, [m], 'as a client\'s message')
  })

  it('keeps what the client set, and adds the URL\'s agent to its receivers', async () => {
    const { router } = setup({ local: ['a', 'b'] })
    const m = await router.prepareFromClient('a', { performative: 'INFORM', sender: 'me', receivers: ['b'], conversationId: 'c9', replyWith: 'r9' })
    assert.deepEqual(m.receivers, ['a', 'b'])
    assert.equal(m.sender, 'me')
    assert.equal(m.conversationId, 'c9')
    assert.equal(m.replyWith, 'r9')
  })

  it('takes a new conversation id from newConversationId when the client gave none', async () => {
    const minted: string[] = []
    const router = new MessageRouter({
      localPeer: '12D3KooWAbcdefghTag5SeXz',
      runtime: { has: id => id === 'echo' },
      locator: { lookup: () => undefined, resolve: async () => undefined, registeredOn: () => undefined },
      sink: new FakeSink(),
      clients: { has: () => false },
      newId: () => 'message-id',
      newConversationId: () => { minted.push('conv-1'); return 'conv-1' }
    })
    assert.equal((await router.prepareFromClient('echo', { performative: 'REQUEST', content: 'hi' })).conversationId, 'conv-1')
    assert.equal((await router.prepareFromClient('echo', { performative: 'REQUEST', content: 'hi', conversationId: 'given' })).conversationId, 'given')
    assert.deepEqual(minted, ['conv-1'], 'asked only for the draft without one')
  })

  it('rejects a malformed draft, or a sender that is an agent of this node or the AMS', async () => {
    const { router } = setup({ local: ['echo'] })
    await assert.rejects(router.prepareFromClient('echo', { performative: 'SHOUT' }), AclValidationError)
    await assert.rejects(router.prepareFromClient('echo', { performative: 'INFORM', sender: 'echo' }), /echo is an agent on this node/)
    await assert.rejects(router.prepareFromClient('echo', { performative: 'INFORM', sender: SYSTEM_AGENT }), AclValidationError)
  })

  it('refuses a client sender that is a registered agent anywhere, or another node\'s client id', async () => {
    const { router } = setup({ local: ['echo'], registered: { planner: 'peer-b' } })
    await assert.rejects(router.prepareFromClient('echo', { performative: 'INFORM', sender: 'planner' }), /planner is a registered agent \(of node peer-b\)/)
    await assert.rejects(router.prepareFromClient('echo', { performative: 'INFORM', sender: 'client-Xyz23456-0123abcd' }), /API client id of another node/)
    const own = await router.prepareFromClient('echo', { performative: 'INFORM', sender: 'client-Tag5SeXz-0123abcd' })
    assert.equal(own.sender, 'client-Tag5SeXz-0123abcd')
    assert.equal((await router.prepareFromClient('echo', { performative: 'INFORM', sender: 'alice' })).sender, 'alice', 'any other id')
  })

  it('finds receivers here, among clients, in the table, then through the DHT; refuses unknown ones', async () => {
    const { router } = setup({ local: ['here'], clients: ['client-x'], remote: { there: 'peer-b' }, dht: { far: 'peer-c' } })
    for (const to of ['here', 'client-x', 'there', 'far']) await router.prepareFromClient(to, { performative: 'INFORM' })
    await assert.rejects(router.prepareFromClient('nowhere', { performative: 'INFORM' }), (err: unknown) => err instanceof AgentNotFoundError && /on any node of the cluster/.test(err.message))
  })

  it('takes base64 content up to the router\'s limit, not the default one', async () => {
    const big = { performative: 'INFORM', content: { base64: Buffer.alloc(1_500_000).toString('base64') } }
    const { router } = setup({ local: ['echo'] })
    await assert.rejects(router.prepareFromClient('echo', big), /content/)
    const sink = new FakeSink()
    const roomy = new MessageRouter({
      localPeer: '12D3KooWAbcdefghTag5SeXz', runtime: { has: id => id === 'echo' }, sink, clients: { has: () => false },
      locator: { lookup: () => undefined, resolve: async () => undefined, registeredOn: () => undefined },
      limits: { maxContentBytes: 2_000_000 }
    })
    assert.equal(((await roomy.prepareFromClient('echo', big)).content as Uint8Array).length, 1_500_000)
  })

  it('stamps and checks a client draft as draftFromJson, stampDraft and validateMessage did (property)', async () => {
    const PEER = '12D3KooWAbcdefghTag5SeXz'
    // The previous prepareFromClient, up to its receivers lookup (unchanged), with the values it drew at random given.
    function reference (to: string, raw: Record<string, unknown>, limits: Partial<AclLimits>, ids: () => string, drawn: { sender: string, traceparent: string }): AclMessage {
      const draft = draftFromJson(raw, limits) // (it used the default limits: fixed above)
      const messageId = ids()
      const sender = typeof draft.sender === 'string' && draft.sender !== '' ? draft.sender : drawn.sender
      const receivers = Array.isArray(draft.receivers) ? draft.receivers as unknown[] : []
      const message = validateMessage(stampDraft(draft, {
        messageId,
        createdAt: 1000,
        sender,
        receivers: receivers.includes(to) ? receivers : [to, ...receivers],
        conversationId: draft.conversationId ?? ids(),
        replyWith: draft.replyWith ?? messageId,
        traceparent: draft.traceparent ?? drawn.traceparent
      }), limits)
      if (sender === SYSTEM_AGENT || sender === 'echo') throw new AclValidationError([{ field: 'sender', reason: 'an agent on this node' }])
      if (sender === 'planner') throw new AclValidationError([{ field: 'sender', reason: 'a registered agent' }])
      const tag = clientTagIn(sender)
      if (tag !== undefined && tag !== clientTag(PEER)) throw new AclValidationError([{ field: 'sender', reason: 'another node\'s client' }])
      return message
    }
    // Client drafts: near-valid messages without some of what the router stamps, some spelt as JSON spells them.
    const STAMPED = ['messageId', 'createdAt', 'sender', 'receivers', 'conversationId', 'replyWith', 'traceparent']
    const sender = fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom('', 'echo', 'planner', SYSTEM_AGENT, 'client-Xyz23456-0123abcd', 'client-Tag5SeXz-0123abcd') })
    const message = (limits: Partial<AclLimits>): fc.Arbitrary<unknown> => fc.oneof(validMessage(limits), nearValidInput(limits))
    const draft = (limits: Partial<AclLimits>): fc.Arbitrary<Record<string, unknown>> => fc.tuple(message(limits), fc.subarray(STAMPED), fc.boolean(), sender)
      .filter(([m]) => typeof m === 'object' && m !== null && !Array.isArray(m))
      .map(([m, drop, json, sender]) => {
        const raw = Object.assign(Object.create(Object.getPrototypeOf(m) as object | null) as Record<string, unknown>, m)
        for (const key of drop) delete raw[key]
        if (sender !== undefined) raw.sender = sender
        if (json && typeof raw.performative === 'string') raw.performative = raw.performative.toLowerCase().replace('-', '_')
        if (json && raw.content instanceof Uint8Array) raw.content = { base64: Buffer.from(raw.content).toString('base64') }
        return raw
      })
    // Tight limits too, so that the ids the router makes can be too long and every bound is crossed.
    // Room for `to` beside one receiver, and for the ids the router makes (id-1 ... id-99).
    const tight = tightLimits.map(l => ({ ...l, maxReceivers: (l.maxReceivers ?? 1) + 1, maxIdChars: Math.max(l.maxIdChars ?? 5, 5) }))
    const input = fc.oneof(fc.constant({}), tight).chain(l => fc.tuple(fc.constant(l), draft(l)))
    await fc.assert(fc.asyncProperty(input, fc.constantFrom('echo', 'b'), async ([limits, raw], to) => {
      let n = 0
      const router = new MessageRouter({
        localPeer: PEER,
        runtime: { has: id => id === 'echo' },
        locator: { lookup: () => 'peer-b', resolve: async () => 'peer-b', registeredOn: id => id === 'planner' ? 'peer-b' : undefined },
        sink: new FakeSink(),
        clients: { has: () => true },
        clock: () => 1000,
        newId: () => `id-${++n}`,
        limits
      })
      let got: AclMessage | Error
      try {
        got = await router.prepareFromClient(to, raw)
      } catch (err) {
        got = err as Error
      }
      let m = 0
      let expected: AclMessage | Error
      try {
        expected = reference(to, raw, limits, () => `id-${++m}`, got instanceof Error ? { sender: 'client-Tag5SeXz-00000000', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } : { sender: got.sender, traceparent: got.traceparent as string })
      } catch (err) {
        expected = err as Error
      }
      if (expected instanceof Error || got instanceof Error) {
        assert.ok(got instanceof AclValidationError && expected instanceof AclValidationError, `${String(got)} / ${String(expected)}`)
        assert.deepEqual(got.issues.map(i => i.field), expected.issues.map(i => i.field))
        if (got.issues[0].field !== 'sender') assert.deepEqual(got.issues, expected.issues)
        return
      }
      assert.deepEqual(got, expected)
      assert.deepEqual(Object.keys(got), Object.keys(expected), 'field order')
      assert.equal(n, m, 'as many ids drawn')
      if (typeof raw.sender !== 'string' || raw.sender === '') assert.match(got.sender, /^client-Tag5SeXz-[0-9a-f]{8}$/)
      if (raw.traceparent == null) assert.ok(isTraceparent00(got.traceparent), got.traceparent)
    }), { numRuns: 1500 })
  })

  it('stamps what an agent sent, as that agent, and hands it over with the handled message\'s token', () => {
    const { router, sink } = setup()
    router.handled('echo', 'tok-1', [{ ok: true, draft: { performative: 'INFORM', sender: 'someone-else', receivers: ['x'], content: 'r' } }])
    const [call] = sink.handledCalls
    assert.equal(call.agentId, 'echo')
    assert.equal(call.token, 'tok-1')
    assert.equal(call.sent.length, 1)
    assert.equal(call.sent[0].sender, 'echo', 'agents cannot spoof their sender')
    assert.equal(call.sent[0].messageId, 'id-1')
  })

  it('answers an agent\'s malformed message with NOT-UNDERSTOOD from the AMS, sent with the handled message', () => {
    const { router, sink } = setup()
    router.handled('echo', 'tok-2', [
      { ok: false, error: 'unsupported ABI version 9' },
      { ok: true, draft: { performative: 'INFORM', receivers: ['not an id!'], conversationId: 'c1' } }
    ])
    const sent = sink.handledCalls[0].sent
    assert.equal(sent.length, 2)
    for (const m of sent) {
      assert.equal(m.performative, 'NOT-UNDERSTOOD')
      assert.equal(m.sender, SYSTEM_AGENT)
      assert.deepEqual(m.receivers, ['echo'])
    }
    assert.match(String(sent[0].content), /unsupported ABI version 9/)
    assert.equal(sent[1].conversationId, 'c1')
    assert.equal(sink.records.filter(r => r.status === 'rejected').length, 2)
  })

  it('puts an agent\'s reply in its request\'s trace, as a child span; starts a trace otherwise', () => {
    const { router, sink } = setup()
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    router.handled('echo', undefined, [
      { ok: true, draft: { performative: 'INFORM', receivers: ['x'], traceparent: parent } },
      { ok: true, draft: { performative: 'INFORM', receivers: ['x'] } }
    ])
    const [child, fresh] = sink.handledCalls[0].sent
    const [, traceId, spanId] = (child.traceparent as string).split('-')
    assert.equal(traceId, '0af7651916cd43dd8448eb211c80319c')
    assert.notEqual(spanId, 'b7ad6b7169203331')
    assert.notEqual((fresh.traceparent as string).split('-')[1], traceId)
  })

  it('accepts what a start function sends on its own', async () => {
    const { router, sink } = setup()
    router.sendFromAgent('boot', { ok: true, draft: { performative: 'INFORM', receivers: ['x'] } })
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(sink.accepted[0]?.sender, 'boot')
  })
})
