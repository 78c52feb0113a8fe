import assert from 'node:assert/strict'
import { AclValidationError, type AclMessage } from '../../protocols/fipa/index.js'
import { AgentNotFoundError, DeliveryError, MessageRouter, ReplyTimeoutError, SYSTEM_AGENT, type Ack, type AgentLocator } from '../../src/router/index.js'
import type { DeliverResult } from '../../src/runtime/types.js'

/** A runtime whose agents are plain functions; mailboxes are arrays. */
class FakeRuntime {
  readonly inbox = new Map<string, AclMessage[]>()
  readonly behaviour = new Map<string, (m: AclMessage) => void>()
  result: DeliverResult = 'queued'
  add (id: string, onMessage?: (m: AclMessage) => void): void {
    this.inbox.set(id, [])
    if (onMessage != null) this.behaviour.set(id, onMessage)
  }

  has (id: string): boolean { return this.inbox.has(id) }
  deliver (id: string, m: AclMessage): DeliverResult {
    if (this.result !== 'queued') return this.result
    this.inbox.get(id)!.push(m)
    const b = this.behaviour.get(id)
    if (b != null) queueMicrotask(() => { b(m) })
    return 'queued'
  }
}

class FakeLocator implements AgentLocator {
  readonly table = new Map<string, string>()
  readonly dht = new Map<string, string>()
  readonly learned: Array<[string, string]> = []
  readonly forgotten: Array<[string, string]> = []
  resolveDelay?: Promise<void>
  lookup (id: string): string | undefined { return this.table.get(id) }
  async resolve (id: string, o: { exclude?: string } = {}): Promise<string | undefined> {
    await this.resolveDelay
    const t = this.table.get(id)
    if (t != null && t !== o.exclude) return t
    const d = this.dht.get(id)
    return d !== o.exclude ? d : undefined
  }

  learn (id: string, peer: string): void { this.learned.push([id, peer]) }
  forget (id: string, peer: string): void {
    this.forgotten.push([id, peer])
    if (this.table.get(id) === peer) this.table.delete(id)
  }
}

class FakeLink {
  readonly sent: Array<{ peer: string, message: AclMessage }> = []
  answer: (peer: string, m: AclMessage) => Ack | Error = () => ({ status: 'ok' })
  async send (peer: string, message: AclMessage): Promise<Ack> {
    this.sent.push({ peer, message })
    const a = this.answer(peer, message)
    if (a instanceof Error) throw a
    return a
  }
}

function setup (): { router: MessageRouter, runtime: FakeRuntime, locator: FakeLocator, link: FakeLink } {
  const runtime = new FakeRuntime()
  const locator = new FakeLocator()
  const link = new FakeLink()
  let n = 0
  const router = new MessageRouter({ localPeer: 'self', runtime, locator, link, clock: () => 1000, newId: () => `id-${++n}` })
  return { router, runtime, locator, link }
}

/** Waits until `check` holds, bounded by microtask/macrotask turns (no wall-clock sleep). */
async function settle (check: () => boolean, turns = 50): Promise<void> {
  for (let i = 0; i < turns && !check(); i++) await new Promise(resolve => setImmediate(resolve))
  assert.ok(check(), 'condition did not hold')
}

describe('router', () => {
  it('stamps a client message and delivers it to a local agent', async () => {
    const { router, runtime } = setup()
    runtime.add('echo')
    const out = await router.sendFromClient({ to: 'echo', draft: { performative: 'request', content: 'hi' } })
    const [m] = runtime.inbox.get('echo')!
    assert.equal(m.performative, 'REQUEST')
    assert.equal(m.messageId, out.messageId)
    assert.equal(m.sender, out.sender)
    assert.match(out.sender, /^client-/)
    assert.equal(m.conversationId, out.conversationId)
    assert.equal(m.replyWith, out.messageId)
    assert.match(m.traceparent!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
    assert.equal(router.recent({}).length, 1)
  })

  it('waits for the reply in the same conversation', async () => {
    const { router, runtime } = setup()
    runtime.add('echo', m => {
      router.sendFromAgent('echo', { ok: true, draft: { performative: 'INFORM', receivers: [m.sender], content: m.content, inReplyTo: m.replyWith, conversationId: m.conversationId } })
    })
    const out = await router.sendFromClient({ to: 'echo', draft: { performative: 'REQUEST', content: 'ping' }, waitMs: 5000 })
    assert.equal(out.reply?.performative, 'INFORM')
    assert.equal(out.reply?.sender, 'echo')
    assert.equal(out.reply?.inReplyTo, out.messageId)
    assert.equal(out.reply?.content, 'ping')
  })

  it('times out a wait with ReplyTimeoutError', async () => {
    const { router, runtime } = setup()
    runtime.add('silent')
    await assert.rejects(router.sendFromClient({ to: 'silent', draft: { performative: 'REQUEST' }, waitMs: 5 }), ReplyTimeoutError)
  })

  it('rejects a malformed client message before routing anything', async () => {
    const { router, runtime } = setup()
    runtime.add('echo')
    await assert.rejects(router.sendFromClient({ to: 'echo', draft: { performative: 'SHOUT' } }), /SHOUT/)
    await assert.rejects(router.sendFromClient({ to: 'echo', draft: { performative: 'REQUEST', replyBy: 'tomorrow' } }), AclValidationError)
    await assert.rejects(router.sendFromClient({ to: 'echo', draft: { performative: 'REQUEST', sender: 'echo' } }), /agent on this node/)
    assert.equal(runtime.inbox.get('echo')!.length, 0)
  })

  it('answers a client with AgentNotFoundError when no node hosts the receiver', async () => {
    const { router, link } = setup()
    await assert.rejects(router.sendFromClient({ to: 'nobody', draft: { performative: 'REQUEST' } }), AgentNotFoundError)
    assert.equal(link.sent.length, 0)
  })

  it('answers an agent\'s malformed message with NOT-UNDERSTOOD from the AMS, and routes nothing', async () => {
    const { router, runtime, link } = setup()
    runtime.add('a')
    router.sendFromAgent('a', { ok: true, draft: { performative: 'REQUEST', receivers: ['b c'] } })
    router.sendFromAgent('a', { ok: false, error: 'truncated TLV' })
    const inbox = runtime.inbox.get('a')!
    assert.equal(inbox.length, 2)
    assert.ok(inbox.every(m => m.performative === 'NOT-UNDERSTOOD' && m.sender === SYSTEM_AGENT))
    assert.match(String(inbox[0].content), /receivers\[0\]/)
    assert.match(String(inbox[1].content), /truncated TLV/)
    assert.equal(link.sent.length, 0)
  })

  it('puts an agent\'s reply in its request\'s trace, as a child span; starts a trace otherwise', async () => {
    const { router, runtime } = setup()
    runtime.add('a')
    runtime.add('b')
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    router.sendFromAgent('a', { ok: true, draft: { performative: 'INFORM', receivers: ['b'], traceparent: parent } })
    router.sendFromAgent('a', { ok: true, draft: { performative: 'INFORM', receivers: ['b'] } })
    const [child, fresh] = runtime.inbox.get('b')!
    const [, traceId, spanId] = child.traceparent!.split('-')
    assert.equal(traceId, '0af7651916cd43dd8448eb211c80319c')
    assert.notEqual(spanId, 'b7ad6b7169203331')
    assert.match(fresh.traceparent!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
    assert.notEqual(fresh.traceparent!.split('-')[1], traceId)
  })

  it('sets the sender of an agent\'s message to the agent itself', async () => {
    const { router, runtime } = setup()
    runtime.add('a')
    runtime.add('b')
    router.sendFromAgent('a', { ok: true, draft: { performative: 'INFORM', receivers: ['b'], sender: 'someone-else' } })
    assert.equal(runtime.inbox.get('b')![0].sender, 'a')
  })

  it('sends to the peer the locator names and records the delivery', async () => {
    const { router, runtime, locator, link } = setup()
    runtime.add('a')
    locator.table.set('far', 'peer-1')
    router.sendFromAgent('a', { ok: true, draft: { performative: 'INFORM', receivers: ['far'], content: 'x' } })
    await settle(() => router.recent({}).some(r => r.direction === 'out'))
    assert.equal(link.sent[0].peer, 'peer-1')
    assert.equal(link.sent[0].message.receivers[0], 'far')
    assert.equal(runtime.inbox.get('a')!.length, 0, 'no failure report')
  })

  it('reports FAILURE with the reason when the peer cannot be reached', async () => {
    const { router, runtime, locator, link } = setup()
    runtime.add('a')
    locator.table.set('far', 'peer-1')
    link.answer = (peer) => new DeliveryError(peer, 'timeout', 'no ack within 10 ms')
    router.sendFromAgent('a', { ok: true, draft: { performative: 'REQUEST', receivers: ['far'], replyWith: 'r1', conversationId: 'c1' } })
    await settle(() => runtime.inbox.get('a')!.length === 1)
    const f = runtime.inbox.get('a')![0]
    assert.equal(f.performative, 'FAILURE')
    assert.equal(f.sender, SYSTEM_AGENT)
    assert.equal(f.inReplyTo, 'r1')
    assert.equal(f.conversationId, 'c1')
    assert.match(String(f.content), /peer-1.*timeout/)
  })

  it('retries once elsewhere when the named peer does not host the agent, then forgets the stale route', async () => {
    const { router, runtime, locator, link } = setup()
    runtime.add('a')
    locator.table.set('moved', 'old-peer')
    locator.dht.set('moved', 'new-peer')
    link.answer = (peer) => peer === 'old-peer' ? { status: 'no-such-agent' } : { status: 'ok' }
    router.sendFromAgent('a', { ok: true, draft: { performative: 'INFORM', receivers: ['moved'] } })
    await settle(() => link.sent.length === 2)
    assert.deepEqual(link.sent.map(s => s.peer), ['old-peer', 'new-peer'])
    assert.deepEqual(locator.forgotten, [['moved', 'old-peer']])
    await settle(() => router.recent({}).some(r => r.peer === 'new-peer'))
    assert.equal(runtime.inbox.get('a')!.length, 0)
  })

  it('reports FAILURE for a full mailbox, and never answers a report with a report', async () => {
    const { router, runtime } = setup()
    runtime.add('a')
    runtime.add('b')
    runtime.result = 'mailbox-full'
    router.sendFromAgent('a', { ok: true, draft: { performative: 'INFORM', receivers: ['b'] } })
    // The FAILURE to `a` also meets a full mailbox: it must not loop.
    const failed = router.recent({}).filter(r => r.status === 'failed')
    assert.equal(failed.length, 2)
    assert.equal(failed[0].message.sender, SYSTEM_AGENT)
  })

  it('keeps the order of messages to a receiver whose route is being looked up', async () => {
    const { router, runtime, locator, link } = setup()
    runtime.add('a')
    locator.dht.set('far', 'peer-2')
    let release!: () => void
    locator.resolveDelay = new Promise<void>(resolve => { release = resolve })
    for (let i = 0; i < 5; i++) router.sendFromAgent('a', { ok: true, draft: { performative: 'INFORM', receivers: ['far'], content: `m${i}` } })
    release()
    await settle(() => link.sent.length === 5)
    assert.deepEqual(link.sent.map(s => s.message.content), ['m0', 'm1', 'm2', 'm3', 'm4'])
  })

  it('delivers a peer\'s message once, learns the sender\'s node, acks no-such-agent for strangers', () => {
    const { router, runtime, locator } = setup()
    runtime.add('b')
    const m: AclMessage = { messageId: 'm-1', createdAt: 1, performative: 'INFORM', sender: 'x', receivers: ['b'] }
    assert.deepEqual(router.receiveFromPeer('peer-9', m), { status: 'ok' })
    assert.deepEqual(router.receiveFromPeer('peer-9', m), { status: 'ok' })
    assert.equal(runtime.inbox.get('b')!.length, 1, 'duplicate dropped')
    assert.deepEqual(locator.learned, [['x', 'peer-9']])
    const stranger = router.receiveFromPeer('peer-9', { ...m, messageId: 'm-2', receivers: ['nobody'] })
    assert.equal(stranger.status, 'no-such-agent')
  })

  it('keeps an API client routable for clientTtlMs after its last message, then forgets it', async () => {
    const runtime = new FakeRuntime()
    const locator = new FakeLocator()
    let now = 0
    const router = new MessageRouter({ localPeer: 'self', runtime, locator, link: new FakeLink(), clock: () => now, clientTtlMs: 1000 })
    runtime.add('a')
    await router.sendFromClient({ to: 'a', draft: { performative: 'REQUEST', sender: 'alice' } })
    const late: AclMessage = { messageId: 'late-1', createdAt: 0, performative: 'INFORM', sender: 'x', receivers: ['alice'] }
    now = 999
    router.expireClients()
    assert.equal(router.receiveFromPeer('p', late).status, 'ok', 'still routable within the TTL')
    now = 999 + 1001
    router.expireClients()
    assert.equal(router.receiveFromPeer('p', { ...late, messageId: 'late-2' }).status, 'no-such-agent')
  })

  it('routes a reply from a remote agent back to a waiting client', async () => {
    const { router, locator, link } = setup()
    locator.table.set('echo', 'peer-3')
    link.answer = (_peer, m) => {
      queueMicrotask(() => {
        router.receiveFromPeer('peer-3', { messageId: 'r-1', createdAt: 2, performative: 'INFORM', sender: 'echo', receivers: [m.sender], inReplyTo: m.replyWith, conversationId: m.conversationId, content: m.content })
      })
      return { status: 'ok' }
    }
    const out = await router.sendFromClient({ to: 'echo', draft: { performative: 'REQUEST', content: 'far away' }, waitMs: 5000 })
    assert.equal(out.reply?.content, 'far away')
    assert.equal(out.reply?.inReplyTo, out.messageId)
  })
})
