/**
 * The registry service with in-memory collaborators: local changes persisted then
 * gossiped, merges persisted before acks, anti-entropy after a cut, reachability from
 * membership events, tombstone collection, failures of writes, peers and bytes.
 */
import assert from 'node:assert/strict'
import { decodeGossip, encodeGossip, encodeSyncFrame, Registry, type AgentChange, type RegistryDelta } from '../../protocols/registry/index.js'
import { MetricsRegistry as Metrics } from '../../src/observability/metrics.js'
import {
  ClusterRegistry, RegistryPersistError, RegistrySyncError, StaticMembership, type RegistryTiming
} from '../../src/registry/index.js'
import { FakeClock } from '../membership/fakes.js'
import { testSigning } from '../protocols/registry/keys.js'
import { Cuts, eventually, FlakyStore, MemoryGossipBus, MemorySyncNet, pipe } from './fakes.js'

function decodeGossipDelta (bytes: Uint8Array): RegistryDelta {
  const msg = decodeGossip(bytes)
  if (msg.type !== 'delta') throw new Error('expected a delta')
  return msg.delta
}

const OFF: Partial<RegistryTiming> = { antiEntropyIntervalMs: 0, maintenanceIntervalMs: 0, connectSyncFallbackMs: 20, syncTimeoutMs: 2000 }

interface Member { id: string, reg: ClusterRegistry, store: FlakyStore, membership: StaticMembership, changes: AgentChange[] }

describe('ClusterRegistry (service, in-memory collaborators)', function () {
  this.timeout(10_000)
  let cuts: Cuts
  let bus: MemoryGossipBus
  let net: MemorySyncNet
  let now: number
  let members: Member[]

  beforeEach(() => {
    cuts = new Cuts()
    bus = new MemoryGossipBus(cuts)
    net = new MemorySyncNet(cuts)
    now = 1_700_000_000_000
    members = []
  })

  afterEach(async () => { await Promise.all(members.map(async m => { await m.reg.stop() })) })

  /** A member; with `virtual`, its sync policy's timer runs on that fake clock. */
  async function member (id: string, options: { store?: FlakyStore, timing?: Partial<RegistryTiming>, metrics?: Metrics, ttl?: number, virtual?: FakeClock } = {}): Promise<Member> {
    const store = options.store ?? new FlakyStore()
    const membership = new StaticMembership(members.map(m => m.id))
    const reg = new ClusterRegistry({
      nodeId: id,
      signing: testSigning(id),
      store,
      gossip: bus.gossip(id),
      sync: net.network(id),
      membership,
      timing: { ...OFF, ...options.timing },
      crdt: { tombstoneTtlMs: options.ttl },
      clock: () => now,
      ...(options.virtual === undefined ? {} : { timers: options.virtual.timers, monotonicClock: () => (options.virtual as FakeClock).now }),
      metrics: options.metrics
    })
    const changes: AgentChange[] = []
    reg.addEventListener('change', evt => { changes.push(evt.detail) })
    await reg.start()
    const m = { id, reg, store, membership, changes }
    for (const other of members) other.membership.emit('member:alive', id)
    members.push(m)
    // the lower id starts an exchange on the connection: let those finish
    for (const other of members) if (other.id < id) await other.reg.syncWith(id)
    return m
  }

  const put = (m: Member, agentId: string, capability = 'echo'): Promise<unknown> =>
    m.reg.commit({ type: 'put', agentId, node: m.id, state: 'running', capabilities: [{ name: capability }] })

  it('persists a local change before publishing it; the others learn it from gossip', async () => {
    const a = await member('node-a')
    const b = await member('node-b')
    const writesAtPublish: number[] = []
    bus.onPublish = () => { writesAtPublish.push(a.store.writes) }
    const changes = await a.reg.commit({ type: 'put', agentId: 'echo', node: 'node-a', state: 'running', capabilities: [{ name: 'echo', version: '1' }] }, {
      with: [{ type: 'del', sublevel: undefined as never, key: 'agent-row' }]
    })
    assert.deepEqual(writesAtPublish, [1], 'the delta went out after its one write')
    assert.equal(a.store.extraRows, 1, 'the other rows went in the same write')
    assert.equal(changes[0].kind, 'added')
    await eventually('b to learn echo', () => b.reg.get('echo') !== undefined)
    assert.deepEqual(b.reg.list({ capability: 'echo' }).map(x => [x.agentId, x.node]), [['echo', 'node-a']])
    assert.equal(b.changes[0]?.kind, 'added')
    assert.ok(b.store.writes >= 1, 'b persisted what it merged')
    assert.deepEqual(b.reg.lookup('echo'), { node: 'node-a', reachable: true, version: 'node-a/1' })
  })

  it('looks an agent up as it is now: one answer while it is unchanged, a new one after each change', async () => {
    const a = await member('node-a')
    await put(a, 'echo')
    const first = a.reg.lookup('echo')
    assert.deepEqual(first, { node: 'node-a', reachable: true, version: 'node-a/1' })
    assert.equal(a.reg.lookup('echo'), first, 'the same answer while the agent is unchanged')
    await a.reg.commit({ type: 'put', agentId: 'echo', node: 'node-a', state: 'draining', capabilities: [{ name: 'echo' }] })
    assert.deepEqual(a.reg.lookup('echo'), { node: 'node-a', reachable: true, version: 'node-a/2' })
    await a.reg.commit({ type: 'remove', agentId: 'echo' })
    assert.deepEqual(a.reg.lookup('echo'), { removedBy: 'node-a' })
  })

  it('converges two members after a cut through one anti-entropy exchange, both ways, and counts it', async () => {
    const metrics = new Metrics()
    const a = await member('node-a', { metrics })
    const b = await member('node-b')
    await put(a, 'shared')
    await eventually('b to learn shared', () => b.reg.get('shared') !== undefined)
    cuts.separate('node-a', 'node-b')
    await put(a, 'only-a')
    await put(b, 'only-b')
    await a.reg.commit({ type: 'remove', agentId: 'shared' })
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(b.reg.get('only-a'), undefined, 'nothing crossed the cut')
    assert.notEqual(a.reg.summary().digest, b.reg.summary().digest)

    cuts.heal()
    const answered = b.reg.summary().stats.syncAnswered
    const out = await a.reg.syncWith('node-b')
    assert.ok(out.entriesSent >= 2 && out.entriesReceived >= 1, JSON.stringify(out))
    await eventually('the responder to finish', () => b.reg.summary().stats.syncAnswered === answered + 1 && b.reg.get('only-a') !== undefined)
    assert.equal(a.reg.summary().digest, b.reg.summary().digest)
    for (const m of [a, b]) {
      assert.deepEqual(m.reg.list().map(x => x.agentId), ['only-a', 'only-b'], m.id)
      assert.equal(m.reg.get('shared'), undefined, `${m.id}: the removal wins`)
    }
    const text = await metrics.metrics()
    assert.match(text, /caxton_registry_sync_rounds_total\{outcome="initiated"\} [1-9]/)
    assert.match(text, /caxton_registry_sync_bytes_total\{direction="sent"\} [1-9]/)
    assert.match(text, /caxton_registry_agents 2/)
  })

  it('marks a dead member\'s agents unreachable and syncs at once when it returns', async () => {
    const a = await member('node-a')
    const b = await member('node-b')
    await put(b, 'remote')
    await eventually('a to learn remote', () => a.reg.get('remote') !== undefined)
    a.membership.emit('member:dead', 'node-b')
    assert.equal(a.reg.get('remote')?.status, 'unreachable')
    assert.deepEqual(a.reg.summary().unreachableNodes, ['node-b'])
    assert.equal(a.changes.at(-1)?.kind, 'updated')

    cuts.separate('node-a', 'node-b')
    await b.reg.commit({ type: 'update', agentId: 'remote', state: 'failed' })
    cuts.heal()
    const opened = net.opened
    a.membership.emit('member:alive', 'node-b')
    assert.equal(a.reg.get('remote')?.status, 'running', 'reachable again at once (old state until synced)')
    // node-a < node-b: a starts the exchange without waiting
    await eventually('a to sync with b', () => a.reg.get('remote')?.state === 'failed')
    assert.equal(net.opened, opened + 1)
  })

  it('retries the exchange of a reconnection that a busy responder refused', async () => {
    const a = await member('node-a')
    const b = await member('node-b')
    a.membership.emit('member:dead', 'node-b')
    cuts.separate('node-a', 'node-b')
    await put(b, 'while-apart')
    cuts.heal()
    net.failNextOpens = 2
    a.membership.emit('member:alive', 'node-b')
    await eventually('a third attempt to bring while-apart', () => a.reg.get('while-apart') !== undefined)
    assert.equal(net.failNextOpens, 0)
    assert.equal(a.reg.summary().stats.syncFailed, 2)
  })

  it('the higher id syncs on a reconnection only if the lower one did not', async () => {
    const clock = new FakeClock()
    const metrics = new Metrics()
    await member('node-a', { virtual: clock })
    const b = await member('node-b', { virtual: clock, metrics })
    const a = members[0]
    const idle = async (m: Member, answered: number): Promise<boolean> =>
      m.reg.summary().stats.syncAnswered === answered && (await metrics.getSingleMetric('caxton_registry_syncs_active')?.get())?.values[0]?.value === 0
    await eventually('b to finish answering a\'s first exchange', async () => await idle(b, 1))

    const opened = net.opened
    b.membership.emit('member:alive', 'node-a') // b is the higher id: waits connectSyncFallbackMs (20)
    await clock.advance(19)
    assert.equal(net.opened, opened, 'nothing before the fallback delay')
    await clock.advance(1)
    await eventually('b\'s fallback exchange to end', async () => net.opened === opened + 1 && await idle(b, 1))

    b.membership.emit('member:alive', 'node-a')
    a.membership.emit('member:alive', 'node-b') // a, the lower id, syncs at once
    await eventually('a\'s exchange to end at b', async () => net.opened === opened + 2 && await idle(b, 2))
    await clock.advance(20)
    assert.equal(net.opened, opened + 2, 'b saw a\'s exchange complete and did not start another')
    assert.equal(clock.pending, 0, 'no timer left: both periodic rounds are off')
  })

  it('drives the sync policy on one timer: anti-entropy and maintenance come due in virtual time; none is left after stop', async () => {
    const clock = new FakeClock()
    const a = await member('node-a', { virtual: clock, timing: { antiEntropyIntervalMs: 1000, maintenanceIntervalMs: 5000 }, ttl: 1 })
    const b = await member('node-b')
    assert.equal(clock.pending, 1, 'one timer for both rounds')
    cuts.separate('node-a', 'node-b')
    await put(b, 'late')
    await put(a, 'gone')
    await a.reg.commit({ type: 'remove', agentId: 'gone' })
    cuts.heal()
    const initiated = a.reg.summary().stats.syncInitiated
    await clock.advance(1200) // the round comes due within 1000 ± 20%
    await eventually('the round to bring late to a', () => a.reg.get('late') !== undefined)
    assert.equal(a.reg.summary().stats.syncInitiated, initiated + 1, 'one round')
    assert.equal(a.reg.summary().tombstones, 1)
    now += 1 // past the 1 ms TTL
    await clock.advance(6000 - 1200) // maintenance comes due within 5000 ± 20%
    await eventually('maintenance to collect the tombstone', () => a.reg.summary().tombstones === 0)
    await a.reg.stop()
    assert.equal(clock.pending, 0)
  })

  it('acks tombstones and collects them once every live member holds them; a late delta does not resurrect', async () => {
    const a = await member('node-a')
    const b = await member('node-b')
    await put(a, 'gone')
    await eventually('b to learn gone', () => b.reg.get('gone') !== undefined)
    const stale = encodeGossip({ type: 'delta', delta: { entries: [a.reg.registry.entry('gone')!] } })
    await a.reg.commit({ type: 'remove', agentId: 'gone' })
    await eventually('b to hold the tombstone', () => b.reg.summary().tombstones === 1)
    await eventually('b\'s ack to reach a', () => a.reg.summary().stats.acksReceived >= 1)
    assert.deepEqual(await a.reg.runMaintenance(), ['gone'])
    // a sent the tombstone: that counts as a's acknowledgement at b (SPEC §5)
    assert.deepEqual(await b.reg.runMaintenance(), ['gone'])
    // the old live version arrives late: gossiped again at b, replayed by an exchange at a
    const before = b.reg.summary().stats.versionsStale
    ;(b.reg as unknown as { onGossip: (from: string, data: Uint8Array) => void }).onGossip('node-a', stale)
    await eventually('the stale delta to be counted', () => b.reg.summary().stats.versionsStale === before + 1)
    assert.equal(a.reg.registry.merge({ entries: [decodeGossipDelta(stale).entries[0]] }, { now, from: 'node-b' }).stale, 1)
    for (const m of [a, b]) assert.equal(m.reg.get('gone'), undefined, `${m.id} keeps gone removed`)
  })

  it('collects an unacknowledged tombstone after the TTL', async () => {
    const a = await member('node-a', { ttl: 60_000 })
    a.membership.emit('member:alive', 'node-silent')
    await put(a, 'x')
    await a.reg.commit({ type: 'remove', agentId: 'x' })
    assert.deepEqual(await a.reg.runMaintenance(), [], 'node-silent has not acknowledged')
    now += 60_000
    assert.deepEqual(await a.reg.runMaintenance(), ['x'])
  })

  it('alone (just restarted, or cut off), collects tombstones only at the TTL', async () => {
    const a = await member('node-a', { ttl: 60_000 })
    await put(a, 'x')
    await a.reg.commit({ type: 'remove', agentId: 'x' })
    assert.deepEqual(await a.reg.runMaintenance(), [], 'no member to hear from is not everyone acknowledging')
    now += 60_000
    assert.deepEqual(await a.reg.runMaintenance(), ['x'])
  })

  it('refuses and stops syncing once a write fails, without publishing the unwritten change', async () => {
    const a = await member('node-a')
    await member('node-b')
    a.store.failWrites = true
    await assert.rejects(put(a, 'lost'), RegistryPersistError)
    assert.equal(bus.published.length, 0)
    assert.equal(a.reg.isHealthy, false)
    await assert.rejects(put(a, 'again'), { code: 'REGISTRY_UNAVAILABLE' })
    await assert.rejects(a.reg.syncWith('node-b'), RegistryPersistError)
  })

  it('survives garbage from peers: undecodable gossip is counted, a broken exchange is a RegistrySyncError', async () => {
    const a = await member('node-a')
    await member('node-b')
    ;(a.reg as unknown as { onGossip: (from: string, data: Uint8Array) => void }).onGossip('node-b', Uint8Array.of(1, 2, 3))
    assert.equal(a.reg.summary().stats.gossipRejected, 1)

    // a responder that answers with a digest instead of a reply
    const liar = new Registry({ nodeId: 'node-liar', signing: testSigning('node-liar') })
    const sync = { start: async () => {}, stop: async () => {}, open: async () => {
      const [mine, theirs] = pipe()
      void theirs.receive(AbortSignal.timeout(1000)).then(async () => { await theirs.send(encodeSyncFrame({ type: 'digest', digest: liar.digest() })) })
      return mine
    } }
    const b = new ClusterRegistry({ nodeId: 'node-c', signing: testSigning('node-c'), store: new FlakyStore(), gossip: bus.gossip('node-c'), sync, membership: new StaticMembership(), timing: OFF })
    await b.start()
    try {
      await assert.rejects(b.syncWith('node-liar'), (err: unknown) => err instanceof RegistrySyncError && /expected a reply frame, got digest/.test(err.message))
      assert.equal(b.summary().stats.syncFailed, 1)
    } finally {
      await b.stop()
    }
  })

  it('restarts from its store with the same registry', async () => {
    const store = new FlakyStore()
    const a = await member('node-a', { store })
    await put(a, 'one')
    await put(a, 'two')
    await a.reg.commit({ type: 'remove', agentId: 'one' })
    const digest = a.reg.summary().digest
    await a.reg.stop()
    members.splice(members.indexOf(a), 1)
    const again = await member('node-a', { store: new FlakyStore(store.shared) })
    assert.equal(again.reg.summary().digest, digest)
    assert.deepEqual(again.reg.list().map(x => x.agentId), ['two'])
    await put(again, 'three')
    assert.equal(again.reg.get('three')?.version.seq, 4, 'write sequence numbers continue after the restart')
  })

  it('runs anti-entropy on its own timer with a random live member', async () => {
    const a = await member('node-a', { timing: { antiEntropyIntervalMs: 30 } })
    const b = await member('node-b')
    cuts.separate('node-a', 'node-b')
    await put(b, 'late')
    cuts.heal()
    await eventually('the timer to bring late to a', () => a.reg.get('late') !== undefined)
    assert.ok(a.reg.summary().stats.syncInitiated >= 1)
  })
})
