/**
 * The membership service with fake collaborators (virtual clock and timers, in-memory
 * network, memory store, fixed load): joining, crash detection, restart from the
 * remembered table, graceful leave, rejoin while alone, the connection hint, the load
 * signal, bad input, metrics. Everything runs in virtual time with seeded randomness.
 */
import assert from 'node:assert/strict'
import { MembershipNotRunningError, type SwimMembership } from '../../src/membership/index.js'
import { createMetricsRegistry } from '../../src/observability/metrics.js'
import type { MembershipView } from '../../src/registry/index.js'
import { FakeClock, FakeNetwork, FixedLoad, MemoryStore, fakeMember, record } from './fakes.js'

const converged = (ms: SwimMembership[]): boolean => ms.every(m => m.alive().length === ms.length - 1)

describe('membership service (fakes, virtual time)', function () {
  let clock: FakeClock
  let network: FakeNetwork

  beforeEach(() => {
    clock = new FakeClock()
    network = new FakeNetwork(clock)
  })

  it('joins through seeds (with and without /p2p/<id>), and reports join then alive', async () => {
    const a = fakeMember(network, 'a')
    const b = fakeMember(network, 'b', { seeds: ['/mem/a/p2p/a'] })
    const c = fakeMember(network, 'c', { seeds: ['/mem/b'] })
    const seenByA = record(a)
    const viaView: string[] = []
    const view: MembershipView = a
    view.addEventListener('member:alive', (evt) => { viaView.push(evt.detail) })
    await a.start()
    await b.start()
    await c.start()
    await clock.until('all three to know each other', () => converged([a, b, c]), 5000)

    assert.deepEqual(a.alive().sort(), ['b', 'c'])
    assert.deepEqual(view.alive().sort(), ['b', 'c'])
    assert.deepEqual([...viaView].sort(), ['b', 'c'])
    const joinB = seenByA.indexOf('member:join b')
    assert.ok(joinB >= 0 && seenByA[joinB + 1] === 'member:alive b', seenByA.join(', '))
    const members = a.members()
    assert.deepEqual(members.map(m => [m.id, m.self, m.state]), [['a', true, 'alive'], ['b', false, 'alive'], ['c', false, 'alive']])
    assert.ok(members.every(m => m.changedAt > 1_700_000_000_000), 'changedAt is wall-clock time')
    assert.deepEqual(a.summary().counts, { alive: 3, suspect: 0, dead: 0, left: 0 })
  })

  it('marks a crashed member dead everywhere, then alive again when it restarts from its remembered table', async () => {
    const stores = { a: new MemoryStore(), b: new MemoryStore(), c: new MemoryStore() }
    const a = fakeMember(network, 'a', { store: stores.a })
    const b = fakeMember(network, 'b', { store: stores.b, seeds: ['/mem/a/p2p/a'] })
    const c = fakeMember(network, 'c', { store: stores.c, seeds: ['/mem/a/p2p/a'] })
    const seenByA = record(a)
    for (const m of [a, b, c]) await m.start()
    await clock.until('convergence', () => converged([a, b, c]), 5000)
    await clock.advance(2000) // the tables are saved once a second
    assert.deepEqual(stores.c.snapshot?.members.map(m => m.id).sort(), ['a', 'b'])
    const before = c.summary().incarnation

    network.crash('c')
    const took = await clock.until('a and b to mark c dead', () => a.stateOf('c') === 'dead' && b.stateOf('c') === 'dead', 30_000)
    assert.ok(took > 1000, `detection cannot be instant (${took} ms)`)
    assert.ok(seenByA.includes('member:suspect c') && seenByA.includes('member:dead c'))
    assert.equal(a.downReason('c'), 'node c is dead')
    assert.equal(a.downReason('b'), undefined)
    assert.deepEqual(a.alive(), ['b'])

    // Restart under the same id from its store, with no seeds: it rejoins by itself.
    const c2 = fakeMember(network, 'c', { store: stores.c, seed: 99 })
    await c2.start()
    assert.equal(c2.summary().incarnation, before + 1, 'comes back one above its last incarnation')
    await clock.until('everyone to hold c alive again', () => a.stateOf('c') === 'alive' && b.stateOf('c') === 'alive' && converged([a, b, c2]), 10_000)
    assert.ok(seenByA.lastIndexOf('member:join c') > seenByA.indexOf('member:dead c'))
    assert.equal(a.downReason('c'), undefined)
  })

  it('probes a member at once when its connection closes, so a crash is detected sooner', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']
    const crashAndWait = async (hint: boolean): Promise<number> => {
      clock = new FakeClock()
      network = new FakeNetwork(clock)
      const ms = ids.map((id, i) => fakeMember(network, id, { seeds: i === 0 ? [] : ['/mem/a/p2p/a'], seed: 7 + i }))
      for (const m of ms) await m.start()
      await clock.until('convergence', () => converged(ms), 10_000)
      await clock.advance(3000)
      network.crash('h')
      if (hint) for (const id of ids.slice(0, -1)) network.disconnect('h', id)
      return await clock.until('every survivor to mark h dead', () => ms.slice(0, -1).every(m => m.stateOf('h') === 'dead'), 60_000)
    }
    const plain = await crashAndWait(false)
    const hinted = await crashAndWait(true)
    assert.ok(hinted < plain, `with the hint ${hinted} ms, without ${plain} ms`)
  })

  it('reports remembered members only once heard from: one that never answers is reported dead, never alive', async () => {
    const store = new MemoryStore()
    store.snapshot = {
      incarnation: 3,
      members: [
        { id: 'a', state: 'alive', incarnation: 0, addrs: ['/mem/a/p2p/a'] },
        { id: 'gone', state: 'alive', incarnation: 0, addrs: ['/mem/gone/p2p/gone'] }
      ]
    }
    const a = fakeMember(network, 'a')
    await a.start()
    const c = fakeMember(network, 'c', { store })
    const seen = record(c)
    await c.start()
    assert.deepEqual(c.alive(), [], 'nothing confirmed yet')
    assert.deepEqual(c.members().map(m => [m.id, m.state]), [['c', 'alive'], ['a', 'alive'], ['gone', 'alive']], 'the protocol probes them as alive')
    await clock.until('a to answer', () => c.alive().includes('a'), 2000)
    assert.deepEqual(seen.slice(0, 2), ['member:join a', 'member:alive a'])
    await clock.until('the one that never answers to be found dead', () => c.stateOf('gone') === 'dead', 30_000)
    assert.ok(!seen.some(e => e.endsWith(' gone') && e !== 'member:dead gone' && !e.startsWith('member:suspect')), seen.join(', '))
    assert.ok(seen.includes('member:dead gone'))
    assert.deepEqual(c.alive(), ['a'])
  })

  it('leaves gracefully: the others see member:leave and never member:dead, and the table is saved', async () => {
    const store = new MemoryStore()
    const a = fakeMember(network, 'a')
    const b = fakeMember(network, 'b', { seeds: ['/mem/a/p2p/a'] })
    const c = fakeMember(network, 'c', { seeds: ['/mem/a/p2p/a'], store })
    const seenByA = record(a)
    for (const m of [a, b, c]) await m.start()
    await clock.until('convergence', () => converged([a, b, c]), 5000)

    const stopping = c.stop()
    await clock.advance(3000)
    await stopping
    assert.equal(c.running, false)
    await clock.until('a and b to see c leave', () => a.stateOf('c') === 'left' && b.stateOf('c') === 'left', 5000)
    await clock.advance(30_000)
    assert.ok(seenByA.includes('member:leave c'))
    assert.ok(!seenByA.includes('member:dead c'), seenByA.join(', '))
    assert.equal(a.downReason('c'), 'node c left the cluster')
    assert.deepEqual(store.snapshot?.members.map(m => m.id).sort(), ['a', 'b'])
    await assert.rejects(c.join(), MembershipNotRunningError)
  })

  it('keeps exactly one protocol timer (plus housekeeping), and none after stop', async () => {
    const a = fakeMember(network, 'a')
    await a.start()
    for (let i = 0; i < 20; i++) {
      await clock.advance(777)
      assert.equal(clock.pending, 2)
    }
    const stopping = a.stop()
    await clock.advance(10)
    await stopping
    assert.equal(clock.pending, 0)
  })

  it('retries its seeds while alone, so a node started before its seed still joins', async () => {
    const b = fakeMember(network, 'b', { seeds: ['/mem/a/p2p/a', '/mem/a'], joinRetryMs: 1000 })
    await b.start()
    await clock.advance(3000)
    assert.deepEqual(b.alive(), [])
    const a = fakeMember(network, 'a')
    await a.start()
    const took = await clock.until('b to join a', () => converged([a, b]), 5000)
    assert.ok(took <= 2000, `joined ${took} ms after the seed came up (joinRetryMs 1000)`)
  })

  it('syncs at once with a member held dead when it connects again (a healed partition)', async () => {
    // No reconnect rounds, no join retries: only the connection hint can heal the cut.
    const config = { reconnectIntervalMs: 0 }
    const a = fakeMember(network, 'a', { config, joinRetryMs: 600_000 })
    const b = fakeMember(network, 'b', { config, joinRetryMs: 600_000, seeds: ['/mem/a/p2p/a'] })
    const c = fakeMember(network, 'c', { config, joinRetryMs: 600_000, seeds: ['/mem/a/p2p/a'] })
    for (const m of [a, b, c]) await m.start()
    await clock.until('convergence', () => converged([a, b, c]), 5000)
    network.cut('a', 'c')
    network.cut('b', 'c')
    await clock.until('both sides to hold the other dead', () => a.stateOf('c') === 'dead' && c.stateOf('a') === 'dead' && c.stateOf('b') === 'dead', 60_000)
    network.heal('a', 'c')
    network.heal('b', 'c')
    await clock.advance(5000)
    assert.equal(a.stateOf('c'), 'dead', 'without a hint nothing heals here')
    network.connect('c', 'a')
    const took = await clock.until('one cluster again', () => converged([a, b, c]), 5000)
    assert.ok(took < 1000, `healed ${took} ms after the connection`)
  })

  it('feeds the event-loop delay into the local health score', async () => {
    const load = new FixedLoad(0)
    const a = fakeMember(network, 'a', { loadMonitor: load })
    await a.start()
    assert.ok(load.started)
    await clock.advance(1100)
    assert.equal(a.summary().healthScore, 0)
    load.delayMs = 400 // local preset: one point per 50 ms, capped at awarenessMaxMultiplier − 1
    await clock.advance(1000)
    assert.equal(a.summary().healthScore, 7)
    load.delayMs = 0
    await clock.advance(1000)
    assert.equal(a.summary().healthScore, 0)
    const stopping = a.stop()
    await clock.advance(10)
    await stopping
    assert.equal(load.started, false)
  })

  it('ignores frames that are not SWIM, counting them, and starts without an unreadable table', async () => {
    const store = new MemoryStore()
    store.corrupt = true
    const a = fakeMember(network, 'a', { store })
    await a.start()
    assert.deepEqual(a.members().map(m => m.id), ['a'])
    const transport = network.transports.get('a')
    assert.doesNotThrow(() => transport?.handlers?.frame('b', Uint8Array.of(0xc1, 0xff, 0x00)))
    assert.doesNotThrow(() => transport?.handlers?.frame('b', new Uint8Array(0)))
    assert.equal(a.counters?.decodeErrors, 2)
    assert.deepEqual(a.members().map(m => m.id), ['a'])
  })

  it('exports its counters and member counts as Prometheus metrics', async () => {
    const metrics = createMetricsRegistry()
    const a = fakeMember(network, 'a', { metrics })
    const b = fakeMember(network, 'b', { seeds: ['/mem/a/p2p/a'] })
    await a.start()
    await b.start()
    await clock.until('convergence', () => converged([a, b]), 5000)
    await clock.advance(5000)
    const text = await metrics.metrics()
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])
    assert.ok(value('caxton_membership_probes_total') >= 3, text)
    assert.equal(value('caxton_membership_probes_total'), a.counters?.probes)
    assert.equal(value('caxton_membership_suspicions_total'), 0)
    assert.equal(value('caxton_membership_false_suspicions_total'), 0)
    assert.match(text, /^caxton_membership_members\{state="alive"\} 2$/m)
    assert.match(text, /^caxton_membership_members\{state="dead"\} 0$/m)
    assert.match(text, /^caxton_membership_health_score 0$/m)
  })
})
