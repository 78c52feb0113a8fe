/**
 * Durable delivery on real LevelDB folders and an in-memory network: each guarantee of
 * protocols/delivery/SPEC.md, including crashes (a peer dropped without draining and
 * reopened on its folder).
 */
import assert from 'node:assert/strict'
import { waitFor } from '../../sim/cluster/index.js'
import { OutboxFullError } from '../../src/delivery/index.js'
import { crash, FakeNet, FakeRuntime, handle, holdNextBatch, msg, openPeer, spyBatches, type Peer } from './fakes.js'

describe('delivery service', function () {
  this.timeout(20_000)
  let net: FakeNet
  const open: Peer[] = []
  beforeEach(() => { net = new FakeNet() })
  afterEach(async () => {
    for (const p of open.splice(0)) {
      await p.delivery.stop().catch(() => {})
      await p.storage.close().catch(() => {})
    }
  })

  async function peer (id: string, options: Parameters<typeof openPeer>[2] = {}): Promise<Peer> {
    const p = await openPeer(net, id, options)
    open.push(p)
    return p
  }

  /** Crashes `p` and opens it again on its folder with a new runtime hosting `agent`. */
  async function crashAndReopen (p: Peer, agent: string): Promise<{ again: Peer, runtime: FakeRuntime }> {
    await crash(p)
    open.splice(open.indexOf(p), 1)
    const runtime = new FakeRuntime()
    runtime.add(agent)
    return { again: await peer(p.id, { dir: p.dir, runtime, routes: p.routes }), runtime }
  }

  async function pair (): Promise<[Peer, Peer]> {
    const routes = new Map([['b-agent', 'B'], ['a-agent', 'A']])
    const a = await peer('A', { routes })
    const b = await peer('B', { routes })
    a.runtime.add('a-agent')
    b.runtime.add('b-agent')
    return [a, b]
  }

  it('accepts a message for a local agent straight into its durable inbox; handling removes it', async () => {
    const a = await peer('A')
    a.runtime.add('echo')
    await a.delivery.accept([msg('client-1', ['echo'], { content: 'hi' })])
    assert.equal(a.runtime.queued('echo')[0]?.content, 'hi')
    assert.equal(a.delivery.summary().inbox, 1)
    assert.equal(a.delivery.summary().outbox.messages, 0, 'no outbox entry for a local agent with room')
    handle(a, 'echo')
    await a.delivery.flushed()
    assert.equal(a.delivery.summary().inbox, 0)
    await crash(a)
    open.pop()
    const again = await peer('A', { dir: a.dir, runtime: (() => { const r = new FakeRuntime(); r.add('echo'); return r })() })
    assert.equal(again.runtime.queued('echo').length, 0, 'nothing left to hand back after a restart')
  })

  it('a message accepted into an inbox survives a crash before it is handled', async () => {
    const a = await peer('A')
    a.runtime.add('echo')
    await a.delivery.accept([msg('client-1', ['echo'], { content: 'keep me' })])
    const { again, runtime } = await crashAndReopen(a, 'echo')
    assert.deepEqual(runtime.queued('echo').map(m => m.content), ['keep me'])
    handle(again, 'echo')
    await again.delivery.flushed()
    assert.equal(again.delivery.summary().inbox, 0)
  })

  it('delivers to a remote agent: persisted at the receiver before the ack, then gone from the outbox', async () => {
    const [a, b] = await pair()
    await a.delivery.accept([msg('a-agent', ['b-agent'], { content: 'over there' })])
    await waitFor('b to get it', () => b.runtime.queued('b-agent')[0])
    await waitFor('a\'s outbox to empty', () => a.delivery.summary().outbox.messages === 0 ? true : undefined)
    // Acked means durable at the receiver: B crashes now, and still has it after a restart.
    await crash(b)
    open.splice(open.indexOf(b), 1)
    const runtime = new FakeRuntime()
    runtime.add('b-agent')
    await peer('B', { dir: b.dir, runtime, routes: b.routes })
    assert.deepEqual(runtime.queued('b-agent').map(m => m.content), ['over there'])
  })

  it('an API client\'s message leaves while its outbox row is written, and is accepted once the row is on disk', async () => {
    const a = await peer('A', { routes: new Map([['b-agent', 'B']]) })
    const b = await peer('B')
    b.runtime.add('b-agent')
    a.clients.touch('client-1')
    const held = holdNextBatch(spyBatches(a))
    let accepted = false
    const accepting = a.delivery.acceptFromClient(msg('client-1', ['b-agent'], { content: 'early' })).then(() => { accepted = true })
    await held.entered
    await waitFor('b to have it before a\'s row is written', () => b.runtime.queued('b-agent')[0])
    assert.equal(accepted, false, 'not accepted before its row is on disk')
    held.release()
    await accepting
    await waitFor('a\'s outbox to empty', () => a.delivery.summary().outbox.messages === 0 ? true : undefined)
  })

  it('an API client\'s message whose outbox row fails is refused, and not sent again', async () => {
    const a = await peer('A', { routes: new Map([['b-agent', 'B']]) })
    const b = await peer('B')
    b.runtime.add('b-agent')
    a.clients.touch('client-1')
    net.down.add('B')
    const held = holdNextBatch(spyBatches(a))
    const m = msg('client-1', ['b-agent'], { content: 'lost write' })
    const accepting = a.delivery.acceptFromClient(m)
    await held.entered
    // Its first send fails (B is down) while the row is being written; then the write fails.
    await waitFor('the first send to fail', async () => (await a.delivery.status(m.messageId))?.receivers[0]?.state === 'queued' ? true : undefined)
    held.release(new Error('disk full'))
    await assert.rejects(accepting, /disk full/)
    assert.equal(a.delivery.summary().outbox.messages, 0)
    net.down.delete('B')
    const before = net.frames.length
    await a.delivery.flushed()
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.equal(net.frames.length, before, 'no retry of what was never accepted')
  })

  describe('a message from a peer is handed to its agent while its rows are written (SPEC.md §3)', () => {
    const reply = (m: ReturnType<typeof msg>): ReturnType<typeof msg>[] => [msg('b-agent', [m.sender], { performative: 'INFORM', inReplyTo: m.replyWith, content: `re: ${String(m.content)}` })]
    const inboxRows = (batches: string[][]): string[] => batches.flat().filter(k => k.slice(1).startsWith('!inbox!'))
    /** A pair; A sends `content` to b-agent, and B's batch holding its rows waits in the gate. */
    async function sendWithRowsHeld (content: string): Promise<{ a: Peer, b: Peer, spy: ReturnType<typeof spyBatches>, held: ReturnType<typeof holdNextBatch> }> {
      const [a, b] = await pair()
      const spy = spyBatches(b)
      const held = holdNextBatch(spy)
      await a.delivery.accept([msg('a-agent', ['b-agent'], { content })])
      await held.entered
      return { a, b, spy, held }
    }

    it('a handler that returns before the rows are written joins their batch: one write, no inbox row, the ack after it', async () => {
      const [a, b] = await pair()
      const spy = spyBatches(b)
      // A fast agent: it returns before B's batch is taken.
      b.runtime.onDeliver = id => { queueMicrotask(() => handle(b, id, reply)) }
      await a.delivery.accept([msg('a-agent', ['b-agent'], { content: 'quick' })])
      const got = await waitFor('the reply at a', () => a.runtime.queued('a-agent')[0])
      assert.equal(got.content, 're: quick')
      await waitFor('a\'s outbox to empty', () => a.delivery.summary().outbox.messages === 0 ? true : undefined)
      const first = spy.batches[0]
      assert.ok(first.some(k => k.startsWith('+!inbox-seen!')), 'the seen row is in the first batch')
      assert.ok(first.some(k => k.startsWith('+!outbox!')), 'and the reply, in the same batch')
      assert.deepEqual(inboxRows(spy.batches), [], 'no inbox row was written or deleted')
      assert.equal(b.delivery.summary().inbox, 0)
    })

    it('a handler that returns while the rows are being written waits for them: its results go in the next batch', async () => {
      const { a, b, spy, held } = await sendWithRowsHeld('slow')
      handle(b, 'b-agent', reply)
      assert.equal(a.runtime.queued('a-agent').length, 0, 'nothing leaves before the rows are on disk')
      held.release()
      const got = await waitFor('the reply at a', () => a.runtime.queued('a-agent')[0])
      assert.equal(got.content, 're: slow')
      const [first, second] = spy.batches
      assert.ok(first.some(k => k.startsWith('+!inbox!')) && first.some(k => k.startsWith('+!inbox-seen!')), 'the inbox and seen rows first')
      assert.ok(second.some(k => k.startsWith('-!inbox!')) && second.some(k => k.startsWith('+!outbox!')), 'then the handling')
    })

    it('when the rows fail to be written, the peer is told, the handler\'s results are dropped, and the copy sent again is handled', async () => {
      const { a, b, spy, held } = await sendWithRowsHeld('again')
      held.release(new Error('disk full'))
      // The first copy is refused ('not-running'); the handler returns only after that.
      await waitFor('a second copy at b', () => b.runtime.queued('b-agent').length === 2 ? true : undefined)
      handle(b, 'b-agent', reply)
      handle(b, 'b-agent', reply)
      await waitFor('a\'s outbox to empty', () => a.delivery.summary().outbox.messages === 0 ? true : undefined)
      await waitFor('the reply at a', () => a.runtime.queued('a-agent')[0])
      await b.delivery.flushed()
      await a.delivery.flushed()
      assert.deepEqual(a.runtime.queued('a-agent').map(m => m.content), ['re: again'], 'one reply: the first handling left nothing')
      assert.equal(spy.batches.flat().filter(k => k.startsWith('+!outbox!')).length, 1)
    })

    it('an agent that fails before the rows are written: they are written, then dead-lettered, and the sender told', async () => {
      const { a, b, held } = await sendWithRowsHeld('doomed')
      const tokens = (b.runtime.agents.get('b-agent')?.queue ?? []).map(q => q.token as string)
      const disposed = b.delivery.disposeInbox(tokens, 'agent-failed', 'agent b-agent failed: trap')
      held.release()
      await disposed
      assert.equal((await b.delivery.listDeadLetters({ agent: 'b-agent' })).total, 1)
      const failure = await waitFor('the FAILURE at a', () => a.runtime.queued('a-agent').find(m => m.performative === 'FAILURE'))
      assert.match(String(failure.content), /agent b-agent failed: trap/)
      assert.equal(b.delivery.summary().inbox, 0)
    })
  })

  describe('an API client\'s message for an agent on this node is handed over at once, its rows held (SPEC.md §1.1)', () => {
    const inboxRows = (batches: string[][]): string[] => batches.flat().filter(k => k.slice(1).startsWith('!inbox!'))
    const answer = (m: ReturnType<typeof msg>): ReturnType<typeof msg>[] => [msg('echo', [m.sender], { performative: 'INFORM', content: `re: ${String(m.content)}` })]
    async function local (): Promise<{ a: Peer, spy: ReturnType<typeof spyBatches> }> {
      const a = await peer('A')
      a.runtime.add('echo')
      a.clients.touch('client-1')
      return { a, spy: spyBatches(a) }
    }

    it('a handler that returns within the hold: one write with its results, no inbox row; accepted once that write is done', async () => {
      const { a, spy } = await local()
      let handledFirst = false
      a.runtime.onDeliver = id => { queueMicrotask(() => { handle(a, id, answer); handledFirst = true }) }
      const m = msg('client-1', ['echo'], { content: 'quick' })
      await a.delivery.acceptFromClient(m)
      assert.equal(handledFirst, true, 'handled before the accept resolved')
      assert.equal(spy.batches.length, 1, 'one write')
      assert.deepEqual(inboxRows(spy.batches), [], 'no inbox row written or deleted')
      assert.deepEqual(a.clients.got.map(g => [g.id, g.message.content]), [['client-1', 're: quick']])
      assert.equal((await a.delivery.status(m.messageId))?.receivers[0].state, 'handled')
      assert.equal(a.delivery.summary().inbox, 0)
    })

    it('a handler slower than the hold: the inbox row is written and accepted first, the handling deletes it, and it survives a crash meanwhile', async () => {
      const { a, spy } = await local()
      const m = msg('client-1', ['echo'], { content: 'slow' })
      await a.delivery.acceptFromClient(m)
      assert.equal(a.runtime.queued('echo')[0]?.content, 'slow', 'the agent had it at once')
      assert.ok(spy.batches[0].some(k => k.startsWith('+!inbox!')), 'accepted with its inbox row')
      assert.equal(a.delivery.summary().inbox, 1)
      const { again, runtime } = await crashAndReopen(a, 'echo')
      assert.deepEqual(runtime.queued('echo').map(q => q.content), ['slow'])
      const spy2 = spyBatches(again)
      handle(again, 'echo')
      await again.delivery.flushed()
      assert.ok(spy2.batches.flat().some(k => k.startsWith('-!inbox!')), 'the handling deletes it')
      assert.equal(again.delivery.summary().inbox, 0)
    })

    it('when the write fails, the accept is refused and what the handler sent is dropped', async () => {
      const { a, spy } = await local()
      a.runtime.onDeliver = id => { queueMicrotask(() => handle(a, id, answer)) }
      const held = holdNextBatch(spy)
      const accepting = a.delivery.acceptFromClient(msg('client-1', ['echo'], { content: 'lost' }))
      await held.entered
      held.release(new Error('disk full'))
      await assert.rejects(accepting, /could not be written/)
      await a.delivery.flushed()
      assert.deepEqual(a.clients.got, [], 'no answer left the node')
      assert.equal(a.delivery.summary().outbox.messages, 0)
    })

    it('takes the usual path for several receivers: each copy written to its inbox first', async () => {
      const { a, spy } = await local()
      a.runtime.add('other')
      await a.delivery.acceptFromClient(msg('client-1', ['echo', 'other'], { content: 'two' }))
      assert.equal(inboxRows(spy.batches).filter(k => k.startsWith('+')).length, 2)
      assert.equal(a.runtime.queued('echo').length, 1)
      assert.equal(a.runtime.queued('other').length, 1)
    })

    it('keeps FIFO: once the agent was full and a message of the pair waits in the outbox, the next ones queue behind it', async () => {
      const a = await peer('A')
      a.runtime.add('tight', 2)
      a.clients.touch('client-1')
      const contents = Array.from({ length: 8 }, (_, i) => `n${i}`)
      for (const c of contents) await a.delivery.acceptFromClient(msg('client-1', ['tight'], { content: c }))
      assert.ok(a.delivery.summary().outbox.messages > 0, 'some waited in the outbox')
      const got: string[] = []
      await waitFor('all eight handled', () => {
        let m
        while ((m = handle(a, 'tight')) !== undefined) got.push(String(m.content))
        return got.length === contents.length ? true : undefined
      }, 10_000, 5)
      assert.deepEqual(got, contents)
    })
  })

  it('a reply to an API client on another node finds its way after the replying node restarts', async () => {
    const a = await peer('A', { routes: new Map([['b-agent', 'B']]) })
    a.clients.touch('client-x')
    const b = await peer('B', { routes: new Map() })
    b.runtime.add('b-agent')
    const request = msg('client-x', ['b-agent'], { content: 'answer me', replyWith: 'q-1' })
    await a.delivery.accept([request])
    await waitFor('b to have it', () => b.runtime.queued('b-agent')[0])
    await crash(b)
    open.splice(open.indexOf(b), 1)
    // A new process: no route to client-x but what its stored inbox says.
    const runtime = new FakeRuntime()
    runtime.add('b-agent')
    const b2 = await peer('B', { dir: b.dir, runtime, routes: new Map() })
    handle(b2, 'b-agent', m => [msg('b-agent', [m.sender], { performative: 'INFORM', inReplyTo: m.replyWith, content: 'here' })])
    const got = await waitFor('the reply at a', () => a.clients.got.find(g => g.id === 'client-x'))
    assert.equal(got.message.content, 'here')
    assert.equal(got.message.inReplyTo, 'q-1')
  })

  it('keeps what the sender accepted across a crash of the sender, and sends it after the restart', async () => {
    const [a, b] = await pair()
    net.down.add('B')
    await a.delivery.accept([msg('a-agent', ['b-agent'], { content: 'one' }), msg('a-agent', ['b-agent'], { content: 'two' })])
    await crash(a)
    open.splice(open.indexOf(a), 1)
    net.down.delete('B')
    const a2 = await peer('A', { dir: a.dir, routes: a.routes })
    await waitFor('both at b', () => b.runtime.queued('b-agent').length === 2 ? true : undefined)
    assert.deepEqual(b.runtime.queued('b-agent').map(m => m.content), ['one', 'two'])
    await waitFor('a2\'s outbox to empty', () => a2.delivery.summary().outbox.messages === 0 ? true : undefined)
  })

  it('a lost ack makes the sender retry; the receiver acks the copy and hands it over once', async () => {
    const [a, b] = await pair()
    net.loseAcks = true
    await a.delivery.accept([msg('a-agent', ['b-agent'], { content: 'once' })])
    await waitFor('a first copy at b', () => b.runtime.queued('b-agent')[0])
    net.loseAcks = false
    await waitFor('a\'s outbox to empty', () => a.delivery.summary().outbox.messages === 0 ? true : undefined)
    const copies = net.frames.filter(f => f.frame.message.content === 'once').length
    assert.ok(copies >= 2, `sent ${copies} times`)
    assert.equal(b.runtime.queued('b-agent').length, 1, 'handed to the agent once')
  })

  it('keeps FIFO per sender and receiver when the receiver\'s inbox is full for a while', async () => {
    const routes = new Map([['b-agent', 'B']])
    const a = await peer('A', { routes })
    const runtime = new FakeRuntime()
    runtime.add('b-agent', 3)
    const b = await peer('B', { routes, runtime })
    const contents = Array.from({ length: 12 }, (_, i) => `n${i}`)
    await a.delivery.accept(contents.map(c => msg('a-agent', ['b-agent'], { content: c })))
    const got: string[] = []
    await waitFor('all twelve handled', () => {
      let m
      while ((m = handle(b, 'b-agent')) !== undefined) got.push(String(m.content))
      return got.length === 12 ? true : undefined
    }, 10_000, 5)
    assert.deepEqual(got, contents)
  })

  it('waits for a node membership holds dead instead of failing, and delivers once it is back', async () => {
    const [a, b] = await pair()
    a.downPeers.add('B')
    const m = msg('a-agent', ['b-agent'], { content: 'patience' })
    await a.delivery.accept([m])
    await waitFor('a to hold it for the dead node', async () => (await a.delivery.status(m.messageId))?.receivers[0].reason === 'node B is dead' ? true : undefined, 5000, 5)
    assert.equal(b.runtime.queued('b-agent').length, 0)
    assert.equal(net.frames.length, 0, 'nothing was sent to it')
    assert.equal(a.delivery.summary().outbox.messages, 1)
    a.downPeers.delete('B')
    a.delivery.peerBack('B')
    await waitFor('b to get it', () => b.runtime.queued('b-agent')[0])
  })

  it('dead-letters at the deadline and tells the sender with FAILURE, in the same write', async () => {
    const [a] = await pair()
    net.down.add('B')
    a.clients.touch('client-9')
    const m = msg('client-9', ['b-agent'], { content: 'too late', replyBy: Date.now() + 200, replyWith: 'r-1', conversationId: 'c-1' })
    await a.delivery.accept([m])
    const failure = await waitFor('the FAILURE', () => a.clients.got.find(g => g.message.performative === 'FAILURE'))
    assert.equal(failure.id, 'client-9')
    assert.equal(failure.message.sender, 'ams')
    assert.equal(failure.message.inReplyTo, 'r-1')
    assert.equal(failure.message.conversationId, 'c-1')
    assert.match(String(failure.message.content), /not delivered before its deadline \(\d+ attempts?; last error: cannot reach node B\)/)
    const { entries } = await a.delivery.listDeadLetters({})
    assert.equal(entries.length, 1)
    assert.equal(entries[0].messageId, m.messageId)
    assert.equal(entries[0].cause, 'expired')
    assert.equal(entries[0].receiver, 'b-agent')
    assert.equal(a.delivery.summary().outbox.messages, 0)
    const status = await a.delivery.status(m.messageId)
    assert.equal(status?.receivers[0].state, 'dead-lettered')
    assert.equal(status?.receivers[0].deadLetterId, entries[0].id)
  })

  it('dead-letters at once what no node hosts, with cause not-found', async () => {
    const a = await peer('A')
    a.runtime.add('a-agent')
    await a.delivery.accept([msg('a-agent', ['nobody'])])
    const failure = await waitFor('the FAILURE to a-agent', () => a.runtime.queued('a-agent').find(m => m.performative === 'FAILURE'))
    assert.match(String(failure.content), /no agent nobody on any node of the cluster/)
    assert.equal((await a.delivery.listDeadLetters({ cause: 'not-found' })).total, 1)
  })

  it('tracks a multi-receiver message per receiver', async () => {
    const [a, b] = await pair()
    a.runtime.add('local-1')
    net.down.add('B')
    const m = msg('a-agent', ['local-1', 'b-agent'])
    await a.delivery.accept([m])
    assert.equal(a.runtime.queued('local-1').length, 1)
    const s = await a.delivery.status(m.messageId)
    assert.deepEqual(s?.receivers.map(r => [r.receiver, r.state]).sort(), [['b-agent', 'queued'], ['local-1', 'delivered']])
    net.down.delete('B')
    await waitFor('b to get it', () => b.runtime.queued('b-agent')[0])
    await waitFor('b-agent delivered', async () => (await a.delivery.status(m.messageId))?.receivers.find(r => r.receiver === 'b-agent')?.state === 'delivered' ? true : undefined)
  })

  it('refuses with OutboxFullError past its bounds, and turns on the agents\' send back-pressure', async () => {
    const routes = new Map([['b-agent', 'B']])
    const a = await peer('A', { routes, config: { outboxMaxMessages: 3, outboxMaxMessagesPerPeer: 3 } })
    net.down.add('B')
    await a.delivery.accept([1, 2, 3].map(() => msg('x', ['b-agent'])))
    assert.equal(a.runtime.backpressure, true)
    await assert.rejects(a.delivery.accept([msg('x', ['b-agent'])]), (err: unknown) => err instanceof OutboxFullError && err.retryAfterMs > 0)
    assert.equal(a.delivery.summary().outbox.messages, 3, 'nothing of the refused call was accepted')
  })

  it('when an agent fails, its unhandled messages are dead-lettered and their senders told', async () => {
    const a = await peer('A')
    a.runtime.add('fragile')
    a.runtime.add('sender')
    await a.delivery.accept([msg('sender', ['fragile'], { content: '1' }), msg('sender', ['fragile'], { content: '2' })])
    const tokens = (a.runtime.agents.get('fragile')?.queue ?? []).map(q => q.token as string)
    await a.delivery.disposeInbox(tokens, 'agent-failed', 'agent fragile failed: trap')
    const failures = a.runtime.queued('sender').filter(m => m.performative === 'FAILURE')
    assert.equal(failures.length, 2)
    assert.match(String(failures[0].content), /agent fragile failed: trap/)
    assert.equal((await a.delivery.listDeadLetters({ agent: 'fragile' })).total, 2)
    assert.equal(a.delivery.summary().inbox, 2, 'fragile\'s two are gone; the two FAILUREs wait in sender\'s inbox')
  })

  it('replays a dead letter; a copy the receiver had already accepted is not handed over twice', async () => {
    const [a, b] = await pair()
    // The receiver persists the message but every ack is lost until the deadline.
    net.loseAcks = true
    const m = msg('a-agent', ['b-agent'], { content: 'ambiguous', replyBy: Date.now() + 300 })
    await a.delivery.accept([m])
    await waitFor('a dead letter', async () => (await a.delivery.listDeadLetters({})).entries[0])
    net.loseAcks = false
    const [dl] = (await a.delivery.listDeadLetters({})).entries
    await a.delivery.replayDeadLetter(dl.id)
    assert.equal((await a.delivery.listDeadLetters({})).total, 0)
    await waitFor('the replay acked', () => a.delivery.summary().outbox.messages === 0 ? true : undefined)
    assert.equal(b.runtime.queued('b-agent').filter(x => x.content === 'ambiguous').length, 1)
  })

  it('opens a peer\'s circuit breaker after repeated failures and shows it', async () => {
    const [a] = await pair()
    net.down.add('B')
    await a.delivery.accept([msg('a-agent', ['b-agent'])])
    await waitFor('the breaker to open', () => a.delivery.peers().find(p => p.peer === 'B' && p.breaker !== 'closed'))
    assert.ok((a.delivery.peers().find(p => p.peer === 'B')?.trips ?? 0) >= 1)
    assert.equal(a.delivery.queuedFor('B'), 1)
  })

  it('refuses a message from a peer that does not host its sender: another node\'s agent, another node\'s API client, an id bound to another node', async () => {
    // Node ids long enough to carry a client tag (their last 8 characters).
    const [A, B, C] = ['nodeAAAAAAAA', 'nodeBBBBBBBB', 'nodeCCCCCCCC']
    const registered = new Map([['b-agent', B], ['a-agent', A]])
    const routes = new Map([['a-agent', A], ['b-agent', B]])
    const a = await peer(A, { routes: new Map(routes), registered })
    const c = await peer(C, { routes: new Map(routes), registered })
    a.runtime.add('a-agent')
    // An unregistered id first heard of from B is bound to B.
    a.routes.set('alice', B)
    const forged = [
      msg('b-agent', ['a-agent'], { content: 'I am b-agent' }),
      msg('client-BBBBBBBB-0123abcd', ['a-agent'], { content: 'I am a client of B' }),
      msg('alice', ['a-agent'], { content: 'I am alice' })
    ]
    const honest = [
      msg('client-CCCCCCCC-0123abcd', ['a-agent'], { content: 'a client of C' }),
      msg('ams', ['a-agent'], { performative: 'FAILURE', content: 'from C\'s AMS' }),
      msg('bob', ['a-agent'], { content: 'bob, new here' })
    ]
    await c.delivery.accept([...forged, ...honest])
    await waitFor('three refused as dead letters at C', async () => (await c.delivery.listDeadLetters({ cause: 'rejected' })).total === 3 ? true : undefined)
    await waitFor('the honest ones at A', () => a.runtime.queued('a-agent').length === 3 ? true : undefined)
    assert.deepEqual(a.runtime.queued('a-agent').map(m => m.content).sort(), ['a client of C', 'bob, new here', 'from C\'s AMS'])
    const { entries } = await c.delivery.listDeadLetters({ cause: 'rejected' })
    assert.deepEqual(entries.map(e => e.reason).sort(), [
      `sender alice writes from node ${B}, not from node ${C}`,
      `sender b-agent is an agent of node ${B}, not of node ${C}`,
      `sender client-BBBBBBBB-0123abcd is an API client of another node than ${C}`
    ])
    assert.equal(a.routes.get('bob'), C, 'a new unregistered id is bound to the node it came from')
  })

  it('takes messages to the AMS (the node itself) without answering or dead-lettering them', async () => {
    const a = await peer('A')
    await a.delivery.accept([msg('some-agent', ['ams'], { performative: 'NOT-UNDERSTOOD' })])
    assert.deepEqual(a.delivery.summary(), { outbox: { messages: 0, bytes: 0 }, inbox: 0, deadLetters: 0 })
  })

  it('writes a handled log line per handled message, with what its handler sent', async () => {
    const a = await peer('A')
    a.runtime.add('echo')
    a.runtime.add('other')
    const m = msg('other', ['echo'], { content: 'log me', conversationId: 'c-log' })
    await a.delivery.accept([m])
    const reply = msg('echo', ['other'], { performative: 'INFORM', inReplyTo: m.messageId })
    handle(a, 'echo', () => [reply])
    await a.delivery.flushed()
    const log = await a.delivery.handledLog()
    assert.equal(log.length, 1)
    assert.equal(log[0].messageId, m.messageId)
    assert.equal(log[0].receiver, 'echo')
    assert.deepEqual(log[0].sent, [reply.messageId])
    assert.equal(log[0].conversationId, 'c-log')
    assert.equal(a.runtime.queued('other')[0]?.messageId, reply.messageId, 'the reply committed with the handling')
  })
})
