import assert from 'node:assert/strict'
import {
  SwimArgumentError, SwimLifecycleError, createSwimNode, decodeFrame, encodeFrame, suspicionMinTimeoutMs
} from '../../../protocols/swim/index.js'
import type { MemberUpdate, SwimFrame, SwimOutput } from '../../../protocols/swim/index.js'
import { Harness } from './harness.js'

const IDS = ['a', 'b', 'c', 'd', 'e']

/** Five members, joined through `a`, converged. */
function cluster (seed = 1, config = {}): Harness {
  const h = new Harness(seed)
  for (const id of IDS) h.add(id, { config })
  for (const id of IDS.slice(1)) h.join(id, ['a'])
  h.runUntilTrue(() => h.allSee(IDS), 10_000)
  return h
}

describe('protocols/swim SwimNode (driven under an injected clock)', () => {
  it('joins through a seed: every member learns every other and reports member:join once', () => {
    const h = cluster()
    for (const id of IDS) {
      const joins = h.events.filter((e) => e.node === id && e.event.type === 'member:join').map((e) => e.event.member.id).sort()
      assert.deepEqual(joins, IDS.filter((x) => x !== id))
      assert.equal(h.node(id).liveCount, 5)
    }
  })

  it('probes members in turn and stays healthy on a clean network', () => {
    const h = cluster()
    h.runUntil(h.now + 20_000)
    for (const id of IDS) {
      const m = h.node(id).metrics
      assert.ok(m.probes >= 18, `${id} probed ${m.probes} times in 20 s`)
      assert.equal(m.probesFailed, 0)
      assert.equal(m.suspicions, 0)
      assert.equal(h.node(id).healthScore, 0)
    }
    // randomised round-robin: in 20 probe periods every other member is probed
    const probedByA = new Set(h.sent.filter((s) => s.from === 'a' && s.type === 'ping').map((s) => s.to))
    assert.deepEqual([...probedByA].sort(), ['b', 'c', 'd', 'e'])
  })

  it('probes indirectly through k members when the direct path fails (SWIM §3.1), without suspecting', () => {
    const h = cluster()
    h.drop = (from, to) => (from === 'a' && to === 'e') || (from === 'e' && to === 'a')
    h.runUntil(h.now + 30_000)
    const a = h.node('a').metrics
    assert.ok(a.pingReqs >= 3, `a sent ${a.pingReqs} ping-reqs`)
    assert.equal(a.suspicions, 0)
    assert.ok(IDS.filter((x) => x !== 'a').some((x) => h.node(x).metrics.pingReqsServed > 0))
    assert.equal(h.eventsAbout('e', 'member:suspect').length, 0)
    assert.equal(h.node('a').member('e')?.state, 'alive')
  })

  it('detects a crashed member: suspect, then dead everywhere, sooner than Max thanks to confirmations (Lifeguard §IV-B)', () => {
    const h = cluster()
    const crashedAt = h.now
    h.crash('e')
    const survivors = ['a', 'b', 'c', 'd']
    h.runUntilTrue(() => survivors.every((id) => h.node(id).member('e')?.state === 'dead'), 60_000)
    const suspects = h.eventsAbout('e', 'member:suspect')
    const deaths = h.eventsAbout('e', 'member:dead')
    assert.deepEqual(deaths.map((d) => d.node).sort(), survivors)
    const firstSuspect = Math.min(...suspects.map((s) => s.event.at))
    const firstDeath = Math.min(...deaths.map((d) => d.event.at))
    const min = suspicionMinTimeoutMs(4, 5, 1000)
    assert.ok(firstDeath - firstSuspect >= min, 'not before Min')
    assert.ok(firstDeath - firstSuspect < 6 * min, 'before Max: the suspicion was confirmed')
    assert.ok(firstDeath - crashedAt < 20_000, `detected after ${firstDeath - crashedAt} ms`)
    // helpers answered with nacks, so the accusers know the fault was not theirs
    assert.ok(survivors.some((id) => h.node(id).metrics.nacksReceived > 0))
    for (const id of survivors) assert.equal(h.node(id).healthScore, 0)
  })

  it('lets a suspected member refute by raising its incarnation (SWIM §4.2), and counts the false suspicion', () => {
    const h = cluster()
    const before = h.node('e').incarnation
    h.drop = (from, to) => from === 'e' || to === 'e'
    h.runUntilTrue(() => h.eventsAbout('e', 'member:suspect').length > 0, 30_000)
    h.drop = () => false
    h.runUntilTrue(() => h.allSee(IDS), 30_000)
    assert.ok(h.node('e').incarnation > before)
    assert.ok(h.node('e').metrics.refutations >= 1)
    assert.equal(h.eventsAbout('e', 'member:dead').length, 0)
    assert.ok(h.eventsAbout('e', 'member:alive').length > 0)
    const falseSuspicions = IDS.reduce((n, id) => n + h.node(id).metrics.falseSuspicions, 0)
    assert.ok(falseSuspicions >= 1)
  })

  it('raises its own health score when its messages get nowhere, stretching its probes (Lifeguard §IV-A)', () => {
    const h = cluster()
    h.drop = (from) => from === 'a' // a can hear but not speak: it cannot tell whether others are dead
    const probesBefore = h.node('a').metrics.probes
    h.runUntil(h.now + 15_000)
    assert.ok(h.node('a').healthScore >= 2, `score ${h.node('a').healthScore}`)
    const slowed = h.node('a').metrics.probes - probesBefore
    assert.ok(slowed < 12, `a kept probing ${slowed} times in 15 s`)
    h.drop = () => false
    h.runUntil(h.now + 60_000)
    assert.equal(h.node('a').healthScore, 0, 'successful probes bring it back down')
  })

  it('counts an ack that comes from the target after its probe is over as a late ack', () => {
    const h = cluster()
    h.delay = (from, to, type) => (type === 'ack' && to === 'a' && from === 'c') ? 700 : 1
    h.runUntil(h.now + 30_000)
    assert.ok(h.node('a').metrics.lateAcks >= 1)
  })

  it('takes the host load signal into its health score and probes more slowly', () => {
    const h = cluster()
    const a = h.node('a')
    a.reportLoad(350)
    assert.equal(a.healthScore, 3)
    const before = a.metrics.probes
    h.runUntil(h.now + 20_000)
    assert.ok(a.metrics.probes - before <= 6, `probed ${a.metrics.probes - before} times in 20 s with ×4 intervals`)
    a.reportLoad(0)
    assert.equal(a.healthScore, 0)
  })

  it('leaves gracefully: others report member:leave, not member:dead', () => {
    const h = cluster()
    h.leave('c')
    h.runUntilTrue(() => h.node('c').leaveComplete, 20_000)
    h.crash('c')
    h.runUntil(h.now + 30_000)
    const leaves = h.eventsAbout('c', 'member:leave').map((e) => e.node).sort()
    assert.deepEqual(leaves, ['a', 'b', 'd', 'e'])
    assert.equal(h.eventsAbout('c', 'member:dead').length, 0)
    assert.throws(() => h.join('c', ['a']), SwimLifecycleError)
  })

  it('forgets dead members after deadMemberReclaimMs', () => {
    const h = cluster(3, { deadMemberReclaimMs: 5000 })
    h.crash('e')
    h.runUntilTrue(() => h.node('a').member('e')?.state === 'dead', 60_000)
    h.runUntil(h.now + 5001)
    assert.equal(h.node('a').member('e'), undefined)
    assert.equal(h.node('a').members().length, 4)
  })

  it('heals a partition by itself: reconnect attempts reach the members it declared dead', () => {
    const h = cluster(5, { reconnectIntervalMs: 5000 })
    const left = new Set(['a', 'b'])
    h.drop = (from, to) => left.has(from) !== left.has(to)
    h.runUntilTrue(() => h.node('a').member('d')?.state === 'dead' && h.node('d').member('a')?.state === 'dead', 120_000)
    h.drop = () => false
    h.runUntilTrue(() => h.allSee(IDS), 120_000)
  })

  it('announces a change of its own addrs with a higher incarnation (member:update)', () => {
    const h = cluster()
    const inc = h.node('b').incarnation
    h.apply('b', h.node('b').updateSelf({ addrs: ['/ip4/127.0.0.1/tcp/9'] }, h.now))
    h.runUntilTrue(() => IDS.every((id) => id === 'b' || h.node(id).member('b')?.addrs[0] === '/ip4/127.0.0.1/tcp/9'), 10_000)
    assert.equal(h.node('a').member('b')?.incarnation, inc + 1)
    assert.ok(h.eventsAbout('b', 'member:update').length >= 4)
  })

  it('restores members from a snapshot and probes them like any other', () => {
    const h = new Harness(9)
    h.add('b')
    h.add('a', { members: [{ id: 'b', incarnation: 0, state: 'alive', addrs: [] }, { id: 'ghost', incarnation: 0, state: 'suspect', addrs: [] }] })
    assert.deepEqual(h.events.filter((e) => e.node === 'a').map((e) => e.event.member.id).sort(), ['b', 'ghost'])
    h.runUntilTrue(() => h.node('a').member('ghost')?.state === 'dead', 60_000)
    assert.equal(h.node('a').member('b')?.state, 'alive')
    assert.equal(h.node('b').member('a')?.state, 'alive', 'b learnt a from its gossip')
  })

  it('asks to be woken up, and does nothing before it is due', () => {
    const node = createSwimNode({ id: 'x', random: () => 0.25 })
    const out = node.start(1000)
    assert.ok(Number.isFinite(out.wakeAt) && out.wakeAt >= 1000)
    assert.equal(node.tick(1000).messages.length, 0)
    const late = node.tick(999) // a clock going backwards counts as the last time seen
    assert.ok(late.wakeAt >= 1000)
  })

  it('rejects bad arguments and calls out of lifecycle order with named errors', () => {
    assert.throws(() => createSwimNode({ id: '', random: Math.random }), (e: unknown) => e instanceof SwimArgumentError && e.argument === 'id')
    assert.throws(() => createSwimNode({ id: 'x', random: 'no' as unknown as () => number }), (e: unknown) => e instanceof SwimArgumentError && e.argument === 'random')
    assert.throws(() => createSwimNode({ id: 'x', random: Math.random, meta: new Uint8Array(4096) }), (e: unknown) => e instanceof SwimArgumentError && e.argument === 'meta')
    assert.throws(() => createSwimNode({ id: 'x', random: Math.random, members: [{ id: 'y', incarnation: -1, state: 'alive', addrs: [] }] }), SwimArgumentError)
    const node = createSwimNode({ id: 'x', random: Math.random })
    assert.throws(() => node.handle('y', new Uint8Array([1]), 0), SwimLifecycleError)
    assert.throws(() => node.join([{ id: 'y' }], 0), SwimLifecycleError)
    node.start(0)
    assert.throws(() => node.start(0), SwimLifecycleError)
    assert.throws(() => node.join('y' as unknown as [], 0), (e: unknown) => e instanceof SwimArgumentError && e.argument === 'seeds')
    assert.throws(() => node.join([{ id: '' }], 0), (e: unknown) => e instanceof SwimArgumentError && e.argument === 'seeds[0].id')
    assert.throws(() => node.tick(Number.NaN), SwimArgumentError)
  })

  describe('corrections of stale news', () => {
    /** A started node that knows `peers` as alive at incarnation 0. */
    function node (id: string, peers: string[]): ReturnType<typeof createSwimNode> {
      const n = createSwimNode({ id, random: () => 0.5, members: peers.map((p) => ({ id: p, incarnation: 0, state: 'alive' as const, addrs: [] })) })
      n.start(0)
      return n
    }
    const gossip = (...updates: MemberUpdate[]): Uint8Array => encodeFrame({ type: 'gossip', updates })
    const framesTo = (out: SwimOutput, to: string): SwimFrame[] => out.messages.filter((m) => m.to === to).map((m) => decodeFrame(m.bytes))

    it('tells the sender of an outdated suspicion what it knows (the refutation it missed)', () => {
      const a = node('a', ['b', 'c'])
      a.handle('b', gossip({ kind: 'alive', id: 'b', incarnation: 1, addrs: [] }), 10) // b refuted something
      const out = a.handle('c', gossip({ kind: 'suspect', id: 'b', incarnation: 0, from: 'c' }), 20)
      assert.equal(a.member('b')?.state, 'alive')
      const [f] = framesTo(out, 'c')
      assert.equal(f?.type, 'gossip')
      assert.deepEqual(f.type === 'gossip' && f.updates, [{ kind: 'alive', id: 'b', incarnation: 1, addrs: [] }])
    })

    it('answers an outdated claim about itself with its current incarnation, in the ack when it came with a ping', () => {
      const b = node('b', ['a'])
      b.handle('a', gossip({ kind: 'suspect', id: 'b', incarnation: 0, from: 'a' }), 10)
      assert.equal(b.incarnation, 1, 'refuted')
      const out = b.handle('a', encodeFrame({ type: 'ping', seq: 7, target: 'b', updates: [{ kind: 'suspect', id: 'b', incarnation: 0, from: 'a' }] }), 20)
      const [ack] = framesTo(out, 'a')
      assert.equal(ack.type, 'ack')
      assert.ok(ack.type === 'ack' && ack.updates.some((u) => u.kind === 'alive' && u.id === 'b' && u.incarnation === 1))
      assert.equal(b.incarnation, 1, 'no second refutation for a stale claim')
    })

    it('never passes a death on as a correction', () => {
      const a = node('a', ['b', 'c'])
      a.handle('c', gossip({ kind: 'dead', id: 'b', incarnation: 0, from: 'c' }), 10)
      const out = a.handle('c', gossip({ kind: 'alive', id: 'b', incarnation: 0, addrs: [] }), 20)
      assert.deepEqual(framesTo(out, 'c'), [])
    })

    it('tells a member it holds dead, when that member talks to it, so that it refutes', () => {
      const a = node('a', ['b', 'c'])
      a.handle('c', gossip({ kind: 'dead', id: 'b', incarnation: 0, from: 'c' }), 10)
      const out = a.handle('b', gossip(), 20)
      const [f] = framesTo(out, 'b')
      assert.ok(f?.type === 'gossip' && f.updates.some((u) => u.kind === 'suspect' && u.id === 'b'))
      const b = node('b', ['a'])
      const back = b.handle('a', out.messages[0].bytes, 30)
      assert.equal(b.incarnation, 1)
      assert.ok(framesTo(back, 'a').some((g) => g.type === 'gossip' && g.updates.some((u) => u.kind === 'alive' && u.id === 'b' && u.incarnation === 1)))
    })

    it('does not suspect a member it holds alive because a push-pull says it is dead, but tells the member', () => {
      const a = node('a', ['b', 'c'])
      const out = a.handle('c', encodeFrame({
        type: 'push-pull',
        join: false,
        reply: false,
        members: [{ id: 'c', incarnation: 0, state: 'alive', addrs: [] }, { id: 'b', incarnation: 0, state: 'dead', addrs: [] }]
      }), 10)
      assert.equal(a.member('b')?.state, 'alive')
      assert.equal(out.events.length, 0)
      const [notice] = framesTo(out, 'b')
      assert.ok(notice?.type === 'gossip' && notice.updates[0].kind === 'suspect' && notice.updates[0].id === 'b')
      // ...but a death at a newer incarnation than ours is news: a suspicion by the sender
      const out2 = a.handle('c', encodeFrame({ type: 'push-pull', join: false, reply: true, members: [{ id: 'b', incarnation: 3, state: 'dead', addrs: [] }] }), 20)
      assert.equal(a.member('b')?.state, 'suspect')
      assert.equal(out2.events[0]?.type, 'member:suspect')
    })
  })

  describe('probeSoon: a transport hint that a connection was reset', () => {
    const MANY = Array.from({ length: 12 }, (_, i) => `m${i}`)

    function big (seed: number): Harness {
      const h = new Harness(seed)
      for (const id of MANY) h.add(id)
      for (const id of MANY.slice(1)) h.join(id, ['m0'])
      h.runUntilTrue(() => h.allSee(MANY), 20_000)
      return h
    }

    /** ms from the crash until every survivor holds the victim dead, and when each survivor first pinged it. */
    function crash (h: Harness, hint: boolean): { detection: number, firstPings: number[] } {
      const victim = 'm5'
      const survivors = MANY.filter((id) => id !== victim)
      const crashedAt = h.now
      const sentBefore = h.sent.length
      h.crash(victim)
      if (hint) for (const id of survivors) h.apply(id, h.node(id).probeSoon(victim, h.now))
      const t = h.runUntilTrue(() => survivors.every((id) => h.node(id).member(victim)?.state === 'dead'), 60_000)
      const pings = h.sent.slice(sentBefore).filter((m) => m.to === victim && m.type === 'ping')
      const firstPings = survivors.map((id) => (pings.find((p) => p.from === id)?.at ?? Infinity) - crashedAt)
      return { detection: t - crashedAt, firstPings }
    }

    it('probes the hinted member at once, ahead of its round-robin turn', () => {
      const { firstPings } = crash(big(3), true)
      assert.ok(firstPings.every((ms) => ms <= 1), `first pings after ${firstPings.join(', ')} ms`)
    })

    it('lets every survivor detect a crashed member sooner, by the same rules (same seeds, hint or not)', () => {
      for (const seed of [3, 4, 5]) {
        const plain = crash(big(seed), false)
        const hinted = crash(big(seed), true)
        assert.ok(hinted.detection < plain.detection, `seed ${seed}: hinted ${hinted.detection} ms vs ${plain.detection} ms`)
        const min = suspicionMinTimeoutMs(4, MANY.length, 1000)
        assert.ok(hinted.detection >= min, 'never sooner than the minimum suspicion timeout')
      }
    })

    it('is only a hint: no suspicion of a live member, nothing for unknown, self or dead members', () => {
      const h = cluster()
      const a = h.node('a')
      h.apply('a', a.probeSoon('b', h.now))
      h.runUntil(h.now + 3000)
      assert.equal(a.member('b')?.state, 'alive')
      assert.equal(h.eventsAbout('b', 'member:suspect').length, 0)
      for (const id of ['nobody', 'a']) assert.deepEqual(a.probeSoon(id, h.now).messages, [])
    })
  })
})
