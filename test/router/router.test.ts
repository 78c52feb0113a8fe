import assert from 'node:assert/strict'
import { AclValidationError, type AclMessage } from '../../protocols/fipa/index.js'
import { AgentNotFoundError, MessageRouter, SYSTEM_AGENT, type MessageSink } from '../../src/router/index.js'

/** Records what the router hands to delivery. */
class FakeSink implements MessageSink {
  readonly accepted: AclMessage[] = []
  readonly handledCalls: Array<{ agentId: string, token: string | undefined, sent: AclMessage[] }> = []
  readonly records: Array<{ status: string, message: AclMessage, reason?: string }> = []
  async accept (messages: readonly AclMessage[]): Promise<void> { this.accepted.push(...messages) }
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
  })

  it('keeps what the client set, and adds the URL\'s agent to its receivers', async () => {
    const { router } = setup({ local: ['a', 'b'] })
    const m = await router.prepareFromClient('a', { performative: 'INFORM', sender: 'me', receivers: ['b'], conversationId: 'c9', replyWith: 'r9' })
    assert.deepEqual(m.receivers, ['a', 'b'])
    assert.equal(m.sender, 'me')
    assert.equal(m.conversationId, 'c9')
    assert.equal(m.replyWith, 'r9')
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
