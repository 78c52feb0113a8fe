import assert from 'node:assert/strict'
import {
  Registry, InvalidRegistryOpError, InvalidRegistryOptionsError, InvalidStoredRegistryError, RegistryAgentNotFoundError,
  MemoryRegistryStore, decodeDelta, encodeDelta, signedPayload, type Capability, type RegistryDelta, type RegistryEntry
} from '../../../protocols/registry/index.js'
import { testSigning } from './keys.js'
import { stateBytes } from './sim.js'

const A = 'node-a'
const B = 'node-b'
const C = 'node-c'

function replica (nodeId: string, options: { tombstoneTtlMs?: number, bucketCount?: number } = {}): Registry {
  return new Registry({ nodeId, signing: testSigning(nodeId), tombstoneTtlMs: options.tombstoneTtlMs ?? 10_000, bucketCount: options.bucketCount ?? 16 })
}

function put (reg: Registry, agentId: string, now: number, capabilities: Capability[] = []): RegistryDelta {
  const { delta } = reg.apply({ type: 'put', agentId, node: reg.nodeId, state: 'running', capabilities }, now)
  assert.ok(delta !== undefined)
  return delta
}

function remove (reg: Registry, agentId: string, now: number): RegistryDelta {
  const { delta } = reg.apply({ type: 'remove', agentId }, now)
  assert.ok(delta !== undefined)
  return delta
}

/** One anti-entropy exchange: a sends its digest, b replies, a sends what b misses. */
function sync (a: Registry, b: Registry, now: number): void {
  const reply = b.missingFor(a.digest())
  const bDigest = b.digest()
  a.merge(decodeDelta(encodeDelta(reply)), { now, from: b.nodeId })
  b.merge(decodeDelta(encodeDelta(a.missingFor(bDigest))), { now, from: a.nodeId })
}

describe('Registry', () => {
  describe('local operations', () => {
    it('registers an agent and returns the delta, the visible change and the batch to persist', () => {
      const reg = replica(A)
      const update = reg.apply({ type: 'put', agentId: 'echo', node: A, state: 'running', capabilities: [{ name: 'echo', version: '1.0.0' }] }, 1_000)
      assert.equal(update.changes.length, 1)
      assert.equal(update.changes[0].kind, 'added')
      assert.equal(update.delta?.entries.length, 1)
      assert.deepEqual(update.batch.put.map(e => e.agentId), ['echo'])
      assert.deepEqual(update.batch.knowledge, [{ node: A, upTo: 1, extra: [] }])
      assert.deepEqual(update.batch.hlc, { wall: 1_000, logical: 0 })
      const agent = reg.get('echo')
      assert.equal(agent?.node, A)
      assert.equal(agent?.status, 'running')
      assert.equal(agent?.updatedAt, 1_000)
      assert.deepEqual(agent?.version, { by: A, seq: 1, hlc: { wall: 1_000, logical: 0 } })
      assert.equal(reg.size, 1)
      assert.deepEqual([...reg.entries()].map(a => a.agentId), ['echo'])
    })

    it('numbers its writes 1, 2, 3 across agents (the dots of its versions)', () => {
      const reg = replica(A)
      put(reg, 'x', 1)
      put(reg, 'y', 2)
      reg.apply({ type: 'update', agentId: 'x', state: 'draining' }, 3)
      assert.equal(reg.get('y')?.version.seq, 2)
      assert.equal(reg.get('x')?.version.seq, 3)
      assert.equal(reg.get('x')?.state, 'draining')
      assert.deepEqual(reg.context(), [{ node: A, upTo: 3, extra: [] }])
    })

    it('updates some fields and keeps the others', () => {
      const reg = replica(A)
      put(reg, 'x', 1, [{ name: 'echo' }])
      const { changes } = reg.apply({ type: 'update', agentId: 'x', state: 'stopped' }, 2)
      assert.equal(changes[0].kind, 'updated')
      assert.equal(reg.get('x')?.state, 'stopped')
      assert.deepEqual(reg.get('x')?.capabilities, [{ name: 'echo' }])
    })

    it('carries the agent\'s version when the host gives one: kept by updates without one, signed, and sent', () => {
      const reg = replica(A)
      const plain = put(reg, 'old', 1)
      assert.equal(plain.entries[0].versions[0].record?.agentVersion, undefined)
      assert.equal(reg.get('old')?.agentVersion, undefined)
      reg.apply({ type: 'put', agentId: 'x', node: A, state: 'running', agentVersion: 1 }, 2)
      reg.apply({ type: 'update', agentId: 'x', state: 'draining' }, 3)
      assert.equal(reg.get('x')?.agentVersion, 1)
      const { delta } = reg.apply({ type: 'update', agentId: 'x', state: 'running', agentVersion: 2 }, 4)
      assert.equal(reg.get('x')?.agentVersion, 2)
      // Another replica takes the version, checking its signature over the version too.
      const other = replica(B)
      other.merge(decodeDelta(encodeDelta(delta as RegistryDelta)), { now: 5, from: A })
      assert.equal(other.get('x')?.agentVersion, 2)
      const v = (delta as RegistryDelta).entries[0].versions[0]
      const forged = { ...v, record: { ...v.record, agentVersion: 3 } }
      assert.notDeepEqual(signedPayload('x', forged as never), signedPayload('x', v))
      for (const bad of [0, 1.5, '2']) {
        assert.throws(() => reg.apply({ type: 'update', agentId: 'x', agentVersion: bad as never }, 6), (err: unknown) => err instanceof InvalidRegistryOpError && err.field === 'agentVersion')
      }
    })

    it('refuses to update an agent it has no live entry for', () => {
      const reg = replica(A)
      assert.throws(() => reg.apply({ type: 'update', agentId: 'ghost', state: 'running' }, 1), (err: unknown) =>
        err instanceof RegistryAgentNotFoundError && err.agentId === 'ghost')
      put(reg, 'x', 1)
      remove(reg, 'x', 2)
      assert.throws(() => reg.apply({ type: 'update', agentId: 'x', state: 'running' }, 3), RegistryAgentNotFoundError)
    })

    it('treats removing an agent it does not know, or already removed, as a no-op', () => {
      const reg = replica(A)
      assert.equal(reg.apply({ type: 'remove', agentId: 'ghost' }, 1).delta, undefined)
      put(reg, 'x', 1)
      remove(reg, 'x', 2)
      const again = reg.apply({ type: 'remove', agentId: 'x' }, 3)
      assert.equal(again.delta, undefined)
      assert.equal(again.batch.put.length, 0)
    })

    it('names the invalid field of an operation', () => {
      const reg = replica(A)
      const bad: Array<[unknown, string]> = [
        [{ type: 'put', agentId: '../etc', node: A, state: 'running' }, 'agentId'],
        [{ type: 'put', agentId: 'x', node: '', state: 'running' }, 'node'],
        [{ type: 'put', agentId: 'x', node: B, state: 'running' }, 'node'],
        [{ type: 'put', agentId: 'x', node: A, state: 'sleeping' }, 'state'],
        [{ type: 'put', agentId: 'x', node: A, state: 'running', capabilities: [{ name: '' }] }, 'capabilities[0].name'],
        [{ type: 'put', agentId: 'x', node: A, state: 'running', capabilities: [{ name: 'a' }, { name: 'a' }] }, 'capabilities'],
        [{ type: 'put', agentId: 'x', node: A, state: 'running', capabilities: [{ name: 'a', schema: { f: () => 1 } }] }, 'capabilities[0].schema.f'],
        [{ type: 'put', agentId: 'x', node: A, state: 'running', capabilities: [{ name: 'a', colour: 'red' }] }, 'capabilities[0]'],
        [{ type: 'rename', agentId: 'x' }, 'type']
      ]
      for (const [op, field] of bad) {
        assert.throws(() => reg.apply(op as never, 1), (err: unknown) => err instanceof InvalidRegistryOpError && err.field === field, field)
      }
      assert.throws(() => reg.apply({ type: 'remove', agentId: 'x' }, Number.NaN), (err: unknown) => err instanceof InvalidRegistryOpError && err.field === 'now')
      assert.equal(reg.entryCount, 0, 'nothing was written')
    })

    it('stores schemas with sorted keys, so equal schemas encode the same', () => {
      const a = replica(A)
      put(a, 'x', 1, [{ name: 'plan', schema: { type: 'object', properties: { z: {}, a: {} } } }])
      assert.deepEqual(Object.keys((a.get('x')?.capabilities[0].schema as Record<string, unknown>)), ['properties', 'type'])
      assert.deepEqual(Object.keys((a.get('x')?.capabilities[0].schema as { properties: object }).properties), ['a', 'z'])
    })

    it('refuses invalid options', () => {
      const signing = testSigning(A)
      assert.throws(() => new Registry({ nodeId: '', signing }), (err: unknown) => err instanceof InvalidRegistryOptionsError && err.field === 'nodeId')
      assert.throws(() => new Registry({ nodeId: A, signing, bucketCount: 0 }), (err: unknown) => err instanceof InvalidRegistryOptionsError && err.field === 'bucketCount')
      assert.throws(() => new Registry({ nodeId: A, signing, tombstoneTtlMs: -5 }), InvalidRegistryOptionsError)
      assert.throws(() => new Registry({ nodeId: A } as never), (err: unknown) => err instanceof InvalidRegistryOptionsError && err.field === 'signing')
    })

    it('signs every write, so that any replica can check it came from its writer', () => {
      const a = replica(A)
      const delta = put(a, 'x', 1)
      const v = delta.entries[0].versions[0]
      assert.equal(v.signature.length, 64)
      assert.ok(testSigning(B).verify(A, signedPayload('x', v), v.signature))
      assert.equal(testSigning(B).verify(B, signedPayload('x', v), v.signature), false, 'not a signature of B')
      assert.equal(testSigning(B).verify(A, signedPayload('y', v), v.signature), false, 'bound to its agent id')
    })
  })

  describe('merging', () => {
    it('reports added, updated and removed agents', () => {
      const a = replica(A)
      const b = replica(B)
      assert.deepEqual(b.merge(put(a, 'x', 1), { now: 2 }).changes.map(c => c.kind), ['added'])
      const upd = a.apply({ type: 'update', agentId: 'x', state: 'draining' }, 3)
      assert.deepEqual(b.merge(upd.delta as RegistryDelta, { now: 4 }).changes.map(c => c.kind), ['updated'])
      assert.deepEqual(b.merge(remove(a, 'x', 5), { now: 6 }).changes.map(c => c.kind), ['removed'])
      assert.equal(b.get('x'), undefined)
    })

    it('keeps both registrations when two hosts register one agent id, and shows the earlier one everywhere', () => {
      const a = replica(A)
      const b = replica(B)
      const fromA = put(a, 'x', 1_000, [{ name: 'a-side' }])
      const fromB = put(b, 'x', 1_005, [{ name: 'b-side' }])
      a.merge(fromB, { now: 1_006 })
      b.merge(fromA, { now: 1_006 })
      assert.equal(a.get('x')?.capabilities[0].name, 'a-side', 'the earlier registration keeps the id')
      assert.equal(a.get('x')?.registeredAt, 1_000)
      assert.equal(stateBytes(a), stateBytes(b))
      assert.equal(a.get('x')?.conflicts, 1)
      // a later write of either host changes its own registration only
      const next = b.apply({ type: 'update', agentId: 'x', state: 'stopped' }, 1_007)
      a.merge(next.delta as RegistryDelta, { now: 1_008 })
      assert.equal(a.entry('x')?.versions.length, 2)
      assert.equal(a.get('x')?.node, A)
      assert.equal(a.entry('x')?.versions.find(v => v.by === B)?.record?.state, 'stopped')
      assert.equal(a.entry('x')?.versions.find(v => v.by === B)?.record?.registeredAt, 1_005, 'an update keeps the registration time')
    })

    it('breaks a tie of equal registration times by the lower node id', () => {
      const a = replica(A)
      const b = replica(B)
      const fromA = put(a, 'x', 1_000, [{ name: 'a-side' }])
      const fromB = put(b, 'x', 1_000, [{ name: 'b-side' }])
      a.merge(fromB, { now: 1_000 })
      b.merge(fromA, { now: 1_000 })
      assert.equal(a.get('x')?.version.by, A)
      assert.equal(b.get('x')?.version.by, A)
    })

    it('rejects an old version of a removed agent, and counts it stale', () => {
      const a = replica(A)
      const b = replica(B)
      const registered = put(a, 'x', 1)
      const removed = remove(a, 'x', 2)
      b.merge(removed, { now: 3 })
      const late = b.merge(registered, { now: 4 })
      assert.equal(late.stale, 1)
      assert.equal(late.changes.length, 0)
      assert.equal(b.get('x'), undefined)
    })

    it('a host removes only its own registration: another host\'s of the same id stays, and is shown', () => {
      const a = replica(A)
      const b = replica(B)
      b.merge(put(a, 'x', 1), { now: 1 })
      put(b, 'x', 2, [{ name: 'b-side' }])
      assert.equal(b.apply({ type: 'update', agentId: 'x', state: 'failed' }, 3).changes.length, 0, 'b updates its own registration; a\'s is still shown')
      const removal = remove(a, 'x', 10)
      b.merge(removal, { now: 11 })
      assert.equal(b.get('x')?.node, B)
      assert.equal(b.get('x')?.state, 'failed')
      assert.equal(b.get('x')?.conflicts, 0)
      assert.equal(b.tombstoneCount, 1)
    })

    it('moves an agent: one host removes it, another registers it', () => {
      const a = replica(A)
      const b = replica(B)
      b.merge(put(a, 'x', 1), { now: 1 })
      b.merge(remove(a, 'x', 2), { now: 2 })
      a.merge(put(b, 'x', 3), { now: 3 })
      for (const r of [a, b]) {
        assert.equal(r.get('x')?.node, B)
        assert.equal(r.get('x')?.conflicts, 0)
      }
      assert.equal(stateBytes(a), stateBytes(b))
    })
  })

  describe('tombstone collection', () => {
    it('keeps a tombstone until every live member acknowledged it, then forgets it and still rejects late versions', () => {
      const a = replica(A)
      const b = replica(B)
      const c = replica(C)
      const registered = put(a, 'x', 1)
      b.merge(registered, { now: 1, from: A })
      c.merge(registered, { now: 1, from: A })
      const removed = remove(a, 'x', 2)
      const atB = b.merge(removed, { now: 3, from: A })
      assert.deepEqual(atB.newTombstones, [{ agentId: 'x', by: A, seq: 2 }])
      a.acknowledge(B, b.tombstoneAck())
      assert.deepEqual(a.collectGarbage({ now: 4, members: [A, B, C] }).collected, [], 'C has not acknowledged')
      c.merge(removed, { now: 3, from: A })
      a.acknowledge(C, c.tombstoneAck())
      const gc = a.collectGarbage({ now: 5, members: [A, B, C] })
      assert.deepEqual(gc.collected, ['x'])
      assert.deepEqual(gc.batch.delete, ['x'])
      assert.equal(a.entry('x'), undefined)
      assert.equal(a.tombstoneCount, 0)
      const late = a.merge(registered, { now: 6 })
      assert.equal(late.stale, 1)
      assert.equal(a.get('x'), undefined)
    })

    it('collects a tombstone without acknowledgements once tombstoneTtlMs has passed', () => {
      const a = replica(A, { tombstoneTtlMs: 1_000 })
      put(a, 'x', 1)
      remove(a, 'x', 2)
      assert.deepEqual(a.collectGarbage({ now: 1_001, members: [A, B] }).collected, [])
      assert.deepEqual(a.collectGarbage({ now: 1_002, members: [A, B] }).collected, ['x'])
    })

    it('collects the tombstones of two hosts\' removals of the same agent, each when acknowledged', () => {
      const a = replica(A)
      const b = replica(B)
      b.merge(put(a, 'x', 1), { now: 1, from: A })
      a.merge(put(b, 'x', 1), { now: 1, from: B })
      const fromA = remove(a, 'x', 2)
      const fromB = remove(b, 'x', 2)
      a.merge(fromB, { now: 3, from: B })
      b.merge(fromA, { now: 3, from: A })
      assert.equal(a.entry('x')?.versions.length, 2)
      assert.equal(a.tombstoneCount, 2)
      assert.deepEqual(a.collectGarbage({ now: 4, members: [A, B] }).collected, ['x'], 'b sent its own tombstone, so holds it')
      assert.equal(a.tombstoneCount, 1, 'a\'s own tombstone waits for b\'s acknowledgement')
      a.acknowledge(B, b.tombstoneAck())
      a.collectGarbage({ now: 4, members: [A, B] })
      assert.equal(a.entry('x'), undefined)
      assert.equal(a.merge(fromA, { now: 5 }).stale + a.merge(fromB, { now: 5 }).stale, 2)
    })

    it('a re-registration after collection wins, also on replicas still holding the tombstone', () => {
      const a = replica(A)
      const b = replica(B)
      b.merge(put(a, 'x', 1), { now: 1, from: A })
      b.merge(remove(a, 'x', 2), { now: 2, from: A })
      a.acknowledge(B, b.tombstoneAck())
      assert.deepEqual(a.collectGarbage({ now: 3, members: [A, B] }).collected, ['x'])
      const again = put(a, 'x', 4, [{ name: 'v2' }])
      b.merge(again, { now: 5 })
      assert.equal(b.get('x')?.capabilities[0].name, 'v2')
      sync(a, b, 6)
      assert.equal(stateBytes(a), stateBytes(b))
      assert.equal(b.entry('x')?.versions.length, 1, 'the collected tombstone is pruned on b too')
    })

    it('a member that was away during the removal and the collection drops its stale copy on its first exchange', () => {
      const a = replica(A)
      const b = replica(B)
      const away = replica(C)
      const registered = put(a, 'x', 1)
      b.merge(registered, { now: 1, from: A })
      away.merge(registered, { now: 1, from: A })
      // the member goes away; x is removed and its tombstone collected among the live members
      b.merge(remove(a, 'x', 2), { now: 2, from: A })
      a.acknowledge(B, b.tombstoneAck())
      b.acknowledge(A, a.tombstoneAck())
      assert.deepEqual(a.collectGarbage({ now: 3, members: [A, B] }).collected, ['x'])
      assert.deepEqual(b.collectGarbage({ now: 3, members: [A, B] }).collected, ['x'])
      // it comes back and gossips what it has: rejected
      assert.equal(b.merge({ entries: [away.entry('x') as never] }, { now: 4, from: C }).stale, 1)
      // its first anti-entropy exchange removes the agent there too
      sync(away, a, 5)
      assert.equal(away.get('x'), undefined)
      assert.equal(away.entry('x'), undefined)
      assert.equal(stateBytes(away), stateBytes(a))
      sync(b, away, 6)
      assert.equal(b.get('x'), undefined)
    })

    it('waits for its context to cover the tombstone before collecting it', () => {
      const a = replica(A)
      const c = replica(C)
      put(c, 'y', 1) // c's write 1: never delivered to a
      a.merge(put(c, 'x', 2), { now: 3, from: C })
      a.merge(remove(c, 'x', 4), { now: 4, from: C })
      assert.deepEqual(a.context().find(o => o.node === C), { node: C, upTo: 0, extra: [2, 3] })
      a.acknowledge(C, c.tombstoneAck())
      // acknowledged by every member, but a does not know c's write 1: a version of x
      // might hide there, so the tombstone stays, even past the TTL
      assert.deepEqual(a.collectGarbage({ now: 6, members: [A, C] }).collected, [])
      assert.deepEqual(a.collectGarbage({ now: 1_000_000, members: [A] }).collected, [], 'a does not declare another node\'s writes lost')
      sync(a, c, 7)
      assert.equal(a.get('y')?.node, C)
      assert.deepEqual(a.collectGarbage({ now: 8, members: [A, C] }).collected, ['x'])
    })
  })

  describe('signatures', () => {
    it('checks each new version\'s signature once: ahead (a step each), and merge checks no more', () => {
      const a = replica(A)
      const b = replica(B)
      for (let i = 0; i < 5; i++) put(b, `agent-${i}`, i)
      a.merge(put(b, 'held', 9), { now: 9 })
      const snapshot = decodeDelta(encodeDelta(b.snapshot()))
      let steps = 0
      for (const _ of a.verifyAhead(snapshot)) steps++
      assert.equal(steps, 5, 'the version held already needs no check')
      const out = a.merge(snapshot, { now: 10, from: B })
      assert.equal(out.verified, 0)
      assert.equal(out.accepted, 5)
      const again = a.merge(decodeDelta(encodeDelta({ entries: [(b.entry('agent-0') as RegistryEntry)] })), { now: 11 })
      assert.equal(again.verified, 0, 'held: nothing to check')
    })

    it('refuses a version whose signature does not verify, and takes it when it comes signed', () => {
      const a = replica(A)
      const b = replica(B)
      const good = put(b, 'x', 1)
      const v = good.entries[0].versions[0]
      const broken = { entries: [{ agentId: 'x', versions: [{ ...v, signature: new Uint8Array(64) }] }] }
      const out = a.merge(broken, { now: 2, from: B })
      assert.deepEqual(out.rejected, [{ agentId: 'x', by: B, seq: 1, reason: 'signature' }])
      assert.equal(a.get('x'), undefined)
      assert.deepEqual(a.context(), [], 'a refused version\'s dot is not incorporated')
      assert.equal(a.merge(good, { now: 3, from: B }).accepted, 1)
    })

    it('refuses a version from further ahead than maxClockDriftMs, and takes it once time has caught up', () => {
      const a = replica(A)
      const b = replica(B)
      const ahead = put(b, 'x', 100_000)
      assert.deepEqual(a.merge(ahead, { now: 30_000 }).rejected.map(r => r.reason), ['future'])
      assert.equal(a.get('x'), undefined)
      assert.equal(a.merge(ahead, { now: 40_000 }).accepted, 1)
    })
  })

  describe('reads and the capability index', () => {
    it('finds agents by capability name and keeps the index in step with updates and removals', () => {
      const reg = replica(A)
      put(reg, 'a1', 1, [{ name: 'echo' }, { name: 'sum' }])
      const b = replica(B)
      reg.merge(put(b, 'a2', 2, [{ name: 'echo' }]), { now: 2 })
      assert.deepEqual(reg.findByCapability('echo').map(a => a.agentId).sort(), ['a1', 'a2'])
      assert.deepEqual(reg.capabilityNames(), ['echo', 'sum'])
      reg.apply({ type: 'update', agentId: 'a1', capabilities: [{ name: 'sum' }] }, 3)
      assert.deepEqual(reg.findByCapability('echo').map(a => a.agentId), ['a2'])
      reg.merge(remove(b, 'a2', 4), { now: 4 })
      assert.deepEqual(reg.findByCapability('echo'), [])
      assert.deepEqual(reg.capabilityNames(), ['sum'])
      assert.deepEqual(reg.agentsOn(A).map(a => a.agentId), ['a1'])
      assert.deepEqual(reg.agentsOn(B), [])
    })

    it('marks the agents of an unreachable node, without replicating it, and clears the mark', () => {
      const a = replica(A)
      const b = replica(B)
      b.merge(put(a, 'x', 1, [{ name: 'echo' }]), { now: 1 })
      const before = stateBytes(b)
      const changes = b.setNodeReachable(A, false)
      assert.deepEqual(changes.map(c => [c.kind, c.agentId]), [['updated', 'x']])
      assert.equal(b.get('x')?.status, 'unreachable')
      assert.equal(b.get('x')?.state, 'running')
      assert.deepEqual(b.findByCapability('echo', { reachableOnly: true }), [])
      assert.equal(b.findByCapability('echo').length, 1)
      assert.equal(stateBytes(b), before, 'not a replicated write')
      assert.deepEqual(b.setNodeReachable(A, false), [], 'already marked')
      // a new version from the node while marked keeps the mark
      b.merge(a.apply({ type: 'update', agentId: 'x', state: 'draining' }, 2).delta as RegistryDelta, { now: 2 })
      assert.equal(b.get('x')?.status, 'unreachable')
      b.setNodeReachable(A, true)
      assert.equal(b.get('x')?.status, 'draining')
      assert.equal(b.isReachable(A), true)
    })
  })

  describe('incremental sync and anti-entropy', () => {
    it('sends only the versions a replica has not incorporated', () => {
      const a = replica(A)
      const b = replica(B)
      b.merge(put(a, 'x', 1), { now: 1 })
      put(a, 'y', 2)
      const delta = a.deltaSince(b.context())
      assert.deepEqual(delta.entries.map(e => e.agentId), ['y'])
    })

    it('has nothing to send when the digests are equal', () => {
      const a = replica(A)
      const b = replica(B)
      b.merge(put(a, 'x', 1), { now: 1 })
      sync(a, b, 2)
      const none = a.missingFor(b.digest())
      assert.deepEqual(none.entries, [])
      assert.equal(none.context, undefined)
    })

    it('sends only the buckets that differ', () => {
      const a = replica(A, { bucketCount: 64 })
      const b = replica(B, { bucketCount: 64 })
      for (let i = 0; i < 100; i++) b.merge(put(a, `agent-${i}`, i), { now: i })
      put(a, 'agent-late', 200)
      const reply = a.missingFor(b.digest())
      assert.ok(reply.entries.length < 10, `sent ${reply.entries.length} entries`)
      assert.ok(reply.entries.some(e => e.agentId === 'agent-late'))
    })

    it('converges even when the replicas use different bucket counts', () => {
      const a = replica(A, { bucketCount: 8 })
      const b = replica(B, { bucketCount: 32 })
      put(a, 'x', 1)
      put(b, 'y', 2)
      remove(b, 'y', 3)
      sync(a, b, 4)
      assert.deepEqual([...a.rawEntries()].map(e => e.agentId).sort(), [...b.rawEntries()].map(e => e.agentId).sort())
      assert.deepEqual(a.context(), b.context())
    })

    it('a fresh replica becomes identical by merging a snapshot', () => {
      const a = replica(A)
      put(a, 'x', 1)
      remove(a, 'x', 2)
      put(a, 'y', 3)
      const fresh = replica(B)
      fresh.merge(decodeDelta(encodeDelta(a.snapshot())), { now: 4, from: A })
      assert.equal(stateBytes(fresh), stateBytes(a))
      assert.deepEqual(fresh.digest(), a.digest())
    })
  })

  describe('restore', () => {
    it('restores from its store with the same state, clock and next write sequence', async () => {
      const store = new MemoryRegistryStore()
      const a = replica(A)
      for (const u of [
        a.apply({ type: 'put', agentId: 'x', node: A, state: 'running' }, 1_000),
        a.apply({ type: 'put', agentId: 'y', node: A, state: 'running' }, 1_001),
        a.apply({ type: 'remove', agentId: 'x' }, 1_002)
      ]) await store.write(u.batch)
      const restored = Registry.restore({ nodeId: A, signing: testSigning(A), tombstoneTtlMs: 10_000, bucketCount: 16 }, await store.load())
      assert.equal(stateBytes(restored), stateBytes(a))
      assert.deepEqual(restored.hlc, a.hlc)
      put(restored, 'z', 500) // physical clock went backwards across the restart
      assert.equal(restored.get('z')?.version.seq, 4)
      assert.ok(restored.get('z')?.version.hlc.wall === 1_002)
    })

    it('refuses a stored entry without versions', () => {
      assert.throws(() => Registry.restore({ nodeId: A, signing: testSigning(A) }, { entries: [{ agentId: 'x', versions: [] }], knowledge: [] }), InvalidStoredRegistryError)
    })
  })
})
