import assert from 'node:assert/strict'
import fc from 'fast-check'
import { OutboxScheduler, admit, type AckAnswer, type OutboxItem, type RouteAnswer, type SchedulerConfig } from '../../../protocols/delivery/index.js'

const config: SchedulerConfig = { backoff: { baseMs: 100, factor: 2, capMs: 1000 }, breaker: { threshold: 3, coolDownMs: 1000 }, maxInFlightPerPeer: 100 }
const FAR = 1e12
const toB: (r: string) => RouteAnswer = () => ({ peer: 'B' })

let nextOrder = 0
function item (sender: string, receiver: string, deadline = FAR): OutboxItem {
  nextOrder++
  return { order: nextOrder, messageId: `m${nextOrder}`, sender, receiver, deadline }
}

function sent (s: OutboxScheduler, now: number, route = toB, max?: number): Array<[number, number]> {
  const { batches } = s.take(now, route, max)
  return [...batches.values()].flat().map(x => [x.item.order, x.after])
}

describe('protocols/delivery OutboxScheduler', () => {
  beforeEach(() => { nextOrder = 0 })

  it('sends a pair in order, each naming its pending predecessor', () => {
    const s = new OutboxScheduler(config, () => 0.5)
    const [a, b, c] = [item('x', 'y'), item('x', 'y'), item('x', 'y')]
    for (const i of [a, b, c]) s.add(i)
    assert.deepEqual(sent(s, 0), [[1, 0], [2, 1], [3, 2]])
    assert.deepEqual(sent(s, 0), [], 'nothing is sent twice')
    assert.equal(s.acked(1, 'ok', undefined, 1)?.kind, 'delivered')
    assert.equal(s.size, 2)
  })

  it('a delivered entry leaves no wake-up behind (its deadline no longer counts)', () => {
    const s = new OutboxScheduler(config, () => 0.5)
    for (let i = 0; i < 3; i++) s.add(item('x', 'y', 5000))
    sent(s, 0)
    for (let order = 1; order <= 3; order++) assert.equal(s.acked(order, 'ok', undefined, 1)?.kind, 'delivered')
    assert.equal(s.nextWakeAt(), undefined)
  })

  it('after thousands of delivered entries, gives up exactly the undelivered ones at their deadlines', () => {
    const s = new OutboxScheduler({ ...config, maxInFlightPerPeer: 10_000 }, () => 0.5)
    const n = 5000
    for (let i = 0; i < n; i++) s.add(item(`s${i % 10}`, 'y', 1000 + i))
    sent(s, 0, toB, n)
    const kept = new Set<number>()
    for (let order = 1; order <= n; order++) {
      if (order % 7 === 0) kept.add(order)
      else assert.equal(s.acked(order, 'ok', undefined, 1)?.kind, 'delivered')
    }
    // The kept ones fail (the stream broke): they wait, and expire at their deadlines.
    assert.deepEqual(s.failed('B', [...kept], 'stream closed', 2), [])
    assert.equal(s.nextWakeAt() !== undefined && s.nextWakeAt()! <= 1000 + 6, true)
    const given = s.expire(1000 + n).map(g => g.item.order).sort((a, b) => a - b)
    assert.deepEqual(given, [...kept].sort((a, b) => a - b))
    assert.equal(s.size, 0)
  })

  it('takes one entry per pair per round (round-robin)', () => {
    const s = new OutboxScheduler(config, () => 0.5)
    for (let i = 0; i < 3; i++) { s.add(item('a', 'z')); s.add(item('b', 'z')) }
    assert.deepEqual(sent(s, 0, toB, 4).map(x => x[0]), [1, 2, 3, 4])
  })

  it('keeps at most maxInFlightPerPeer in flight; an ack lets the next go', () => {
    const s = new OutboxScheduler({ ...config, maxInFlightPerPeer: 2 }, () => 0.5)
    for (let i = 0; i < 4; i++) s.add(item('x', 'y'))
    assert.deepEqual(sent(s, 0).map(x => x[0]), [1, 2])
    s.acked(1, 'ok', undefined, 1)
    assert.deepEqual(sent(s, 1), [[3, 2]])
    assert.equal(s.peerState('B', 1)?.inFlight, 2)
  })

  it('removes an entry in flight only when told to: its slot is freed and its late answer ignored', () => {
    const s = new OutboxScheduler({ ...config, maxInFlightPerPeer: 1 }, () => 0.5)
    s.add(item('x', 'y'))
    s.add(item('x', 'z'))
    assert.deepEqual(sent(s, 0).map(x => x[0]), [1])
    assert.equal(s.remove(1, 1), false, 'in flight: kept unless told')
    assert.equal(s.remove(1, 1, { inFlight: true }), true)
    assert.equal(s.acked(1, 'ok', undefined, 2), undefined, 'its answer is ignored')
    assert.deepEqual(sent(s, 2).map(x => x[0]), [2], 'its slot went to the next entry')
    assert.equal(s.size, 1)
  })

  it('retries a refused entry after its backoff, and never lets a later one overtake it', () => {
    const s = new OutboxScheduler(config, () => 0.5)
    for (let i = 0; i < 3; i++) s.add(item('x', 'y'))
    sent(s, 0)
    assert.equal(s.acked(1, 'mailbox-full', 'full', 10)?.kind, 'retry')
    assert.equal(s.acked(2, 'out-of-order', undefined, 10)?.kind, 'retry')
    assert.equal(s.acked(3, 'out-of-order', undefined, 10)?.kind, 'retry')
    assert.equal(s.nextWakeAt(), 60, 'first retry waits random × base = 0.5 × 100 ms')
    assert.deepEqual(sent(s, 59), [])
    assert.deepEqual(sent(s, 60), [[1, 0], [2, 1], [3, 2]])
    assert.equal(s.status(1)?.attempts, 2)
    assert.equal(s.status(1)?.lastError, 'full')
  })

  it('opens the breaker after threshold transport failures, probes after the cool-down, then flows', () => {
    const s = new OutboxScheduler(config, () => 0)
    for (let i = 0; i < 5; i++) s.add(item(`s${i}`, 'y'))
    for (let t = 0; t < 3; t++) {
      const out = sent(s, t * 10).map(x => x[0])
      assert.equal(out.length, 5)
      s.failed('B', out, 'connection reset', t * 10)
    }
    assert.equal(s.peerState('B', 20)?.breaker, 'open')
    assert.deepEqual(sent(s, 500), [], 'open: nothing goes')
    assert.equal(s.nextWakeAt(), 1020)
    const probe = sent(s, 1020)
    assert.equal(probe.length, 1, 'half-open: one probe')
    assert.deepEqual(sent(s, 1021), [])
    s.acked(probe[0][0], 'ok', undefined, 1022)
    assert.equal(s.peerState('B', 1022)?.breaker, 'closed')
    assert.equal(sent(s, 1022).length, 4)
    assert.equal(s.peerState('B', 1022)?.trips, 1)
  })

  it('a failed probe keeps the breaker open for another cool-down', () => {
    const s = new OutboxScheduler({ ...config, breaker: { threshold: 1, coolDownMs: 1000 } }, () => 0)
    s.add(item('x', 'y'))
    s.failed('B', sent(s, 0).map(x => x[0]), 'refused', 0)
    s.failed('B', sent(s, 1000).map(x => x[0]), 'refused', 1000)
    assert.equal(s.peerState('B', 1999)?.breaker, 'open')
    assert.deepEqual(sent(s, 1999), [])
    assert.equal(sent(s, 2000).length, 1)
  })

  it('peerBack ends an open breaker and wakes entries that waited for the peer', () => {
    const s = new OutboxScheduler({ ...config, breaker: { threshold: 1, coolDownMs: 60_000 } }, () => 0.5)
    s.add(item('x', 'y'))
    s.add(item('u', 'v'))
    let down = true
    const route = (r: string): RouteAnswer => r === 'v' && down ? { wait: 'node B is dead', peer: 'B' } : { peer: 'B' }
    const first = sent(s, 0, route)
    assert.deepEqual(first.map(x => x[0]), [1])
    s.failed('B', [1], 'reset', 0)
    assert.deepEqual(sent(s, 1000, route), [])
    down = false
    s.peerBack('B', 1000)
    assert.deepEqual(sent(s, 1000, route).map(x => x[0]), [1], 'half-open at once: one probe')
    s.acked(1, 'ok', undefined, 1001)
    assert.deepEqual(sent(s, 1001, route).map(x => x[0]), [2], 'the entry that waited for B goes without its backoff')
  })

  it('gives up waiting entries at their deadline, naming the last error; in-flight ones only if not ok', () => {
    const s = new OutboxScheduler(config, () => 0.5)
    s.add(item('x', 'y', 100))
    s.add(item('u', 'v', 100))
    s.add(item('p', 'q', 100))
    sent(s, 0)
    s.acked(1, 'mailbox-full', 'agent y\'s inbox is full', 10)
    assert.deepEqual(s.expire(99), [])
    const gone = s.expire(100)
    assert.equal(gone.length, 1)
    assert.equal(gone[0].item.order, 1)
    assert.equal(gone[0].cause, 'expired')
    assert.match(gone[0].reason, /before its deadline \(1 attempt; last error: agent y's inbox is full\)/)
    assert.equal(s.acked(2, 'ok', undefined, 150)?.kind, 'delivered', 'an ok after the deadline still counts')
    const v = s.acked(3, 'not-running', undefined, 150)
    assert.equal(v?.kind, 'given-up')
    assert.equal(s.size, 0)
  })

  it('gives up at once what the route refuses, or the receiver rejects or finds expired', () => {
    const s = new OutboxScheduler(config, () => 0.5)
    s.add(item('x', 'nobody'))
    s.add(item('x', 'y'))
    s.add(item('u', 'v'))
    const { batches, givenUp } = s.take(0, r => r === 'nobody' ? { refuse: 'no agent nobody in the cluster' } : { peer: 'B' })
    assert.deepEqual(givenUp.map(g => [g.item.order, g.cause, g.reason]), [[1, 'not-found', 'no agent nobody in the cluster']])
    assert.deepEqual([...batches.values()].flat().map(x => [x.item.order, x.after]), [[2, 0], [3, 0]], 'a given-up predecessor is no longer waited for')
    assert.equal(s.acked(2, 'rejected', 'bad', 1)?.kind, 'given-up')
    const e = s.acked(3, 'expired', 'too late', 1)
    assert.ok(e?.kind === 'given-up' && e.given.cause === 'expired')
  })

  it('reroutes on no-such-agent', () => {
    const s = new OutboxScheduler(config, () => 0)
    s.add(item('x', 'y'))
    sent(s, 0)
    const v = s.acked(1, 'no-such-agent', undefined, 1)
    assert.ok(v?.kind === 'reroute' && v.peer === 'B')
    assert.deepEqual(sent(s, 1, () => ({ peer: 'C' })), [[1, 0]])
  })

  it('ignores answers for unknown or finished entries', () => {
    const s = new OutboxScheduler(config, () => 0)
    s.add(item('x', 'y'))
    sent(s, 0)
    s.acked(1, 'ok', undefined, 1)
    assert.equal(s.acked(1, 'ok', undefined, 1), undefined)
    assert.deepEqual(s.failed('B', [1], 'x', 1), [])
  })

  it('refuses entries out of order for their pair, or twice', () => {
    const s = new OutboxScheduler(config, () => 0)
    s.add({ order: 5, messageId: 'a', sender: 'x', receiver: 'y', deadline: FAR })
    assert.throws(() => s.add({ order: 5, messageId: 'a', sender: 'x', receiver: 'y', deadline: FAR }), RangeError)
    assert.throws(() => s.add({ order: 4, messageId: 'b', sender: 'x', receiver: 'y', deadline: FAR }), RangeError)
  })

  it('delivers every entry exactly once and in order per pair, whatever the peer answers (property)', () => {
    const p = fc.integer({ min: 0, max: 30 }).map(n => n / 100)
    const run = fc.record({
      pairs: fc.integer({ min: 1, max: 4 }),
      entries: fc.integer({ min: 1, max: 40 }),
      // Per delivery: the ack is lost after the receiver accepted; the receiver's inbox is full; the stream breaks first.
      loseAck: p,
      refuse: p,
      transport: p,
      window: fc.integer({ min: 1, max: 8 }),
      seed: fc.integer()
    })
    fc.assert(fc.property(run, ({ pairs, entries, loseAck, refuse, transport, window, seed }) => {
      let x = seed
      const random = (): number => { x = (x * 1103515245 + 12345) & 0x7fffffff; return x / 0x80000000 }
      const outcome = (): string => {
        const r = random()
        return r < transport ? 'transport' : r < transport + refuse ? 'refuse' : r < transport + refuse + loseAck ? 'lose-ack' : 'ok'
      }
      const s = new OutboxScheduler({ ...config, maxInFlightPerPeer: window }, random)
      const items: OutboxItem[] = []
      for (let i = 1; i <= entries; i++) {
        const it = { order: i, messageId: `m${i}`, sender: `s${i % pairs}`, receiver: 'r', deadline: FAR }
        items.push(it)
        s.add(it)
      }
      // The receiving node: per-pair last order, a seen set, the accepted sequence.
      const last = new Map<string, number>()
      const seen = new Set<number>()
      const accepted: OutboxItem[] = []
      let now = 0
      for (let step = 0; step < 10_000 && s.size > 0; step++) {
        const wake = s.nextWakeAt()
        if (wake !== undefined && wake > now) now = wake
        s.expire(now)
        const { batches } = s.take(now, toB)
        const batch = batches.get('B') ?? []
        const failedOrders: number[] = []
        for (const { item: it, after } of batch) {
          const o = outcome()
          if (o === 'transport') { failedOrders.push(it.order); continue }
          const verdict = admit(last.get(it.sender) ?? 0, it.order, after)
          let answer: AckAnswer
          if (verdict === 'out-of-order') answer = 'out-of-order'
          else if (verdict === 'seen-before') answer = seen.has(it.order) ? 'ok' : 'rejected'
          else if (o === 'refuse') answer = 'mailbox-full'
          else {
            last.set(it.sender, it.order)
            seen.add(it.order)
            accepted.push(it)
            answer = 'ok'
          }
          if (o === 'lose-ack' && answer === 'ok') { failedOrders.push(it.order); continue }
          s.acked(it.order, answer, undefined, now)
        }
        if (failedOrders.length > 0) s.failed('B', failedOrders, 'lost', now)
        now += 1
      }
      assert.equal(s.size, 0, 'everything delivered')
      assert.equal(accepted.length, entries, 'each accepted once')
      assert.equal(new Set(accepted.map(a => a.order)).size, entries)
      for (let p = 0; p < pairs; p++) {
        const orders = accepted.filter(a => a.sender === `s${p}`).map(a => a.order)
        assert.deepEqual(orders, [...orders].sort((a, b) => a - b), `pair s${p} in order`)
      }
    }), { numRuns: 300 })
  })
})
