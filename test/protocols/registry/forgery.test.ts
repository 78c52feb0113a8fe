/**
 * The registry forgeries of issue 12 against the CRDT itself, each run by an outsider (a
 * key nobody has seen) and by a member (a replica of the cluster with its own key and
 * registrations): the attacker signs whatever it likes with its own key, and sends it as
 * gossip (a delta) and as anti-entropy (a delta with complete buckets and a context).
 * B hosts `echo`; A must keep seeing it on B, unchanged, and B must keep writing.
 * (The node refuses the outsider's messages before they reach the CRDT:
 * `test/registry/forgery.test.ts`.)
 */
import assert from 'node:assert/strict'
import {
  Registry, decodeDelta, encodeDelta, signedPayload, type AgentRecord, type MergeUpdate, type RegistryDelta, type Version
} from '../../../protocols/registry/index.js'
import { testSigning } from './keys.js'

const A = 'node-a'
const B = 'node-b'
const NOW = 1_700_000_000_000
const ALL_BUCKETS = { bucketCount: 16, buckets: Array.from({ length: 16 }, (_, i) => i) }

const replica = (id: string): Registry => new Registry({ nodeId: id, signing: testSigning(id), bucketCount: 16 })

/** A version claiming writer `by`, signed by `signer` (the attacker: its key is all it has). */
function craft (signer: string, agentId: string, v: { by: string, seq: number, wall: number, record: AgentRecord | null }): Version {
  const unsigned = { by: v.by, seq: v.seq, hlc: { wall: v.wall, logical: 0 }, record: v.record }
  return { ...unsigned, signature: testSigning(signer).sign(signedPayload(agentId, unsigned)) }
}

const running = (node: string, registeredAt: number, updatedAt = registeredAt): AgentRecord =>
  ({ node, state: 'running', capabilities: [{ name: 'echo' }], updatedAt, registeredAt })

for (const role of ['outsider', 'member'] as const) {
  describe(`registry forgeries by ${role === 'outsider' ? 'an outsider' : 'a member'} (CRDT)`, () => {
    const M = role === 'outsider' ? 'node-x' : 'node-m'
    let a: Registry
    let b: Registry
    let echo: RegistryDelta

    /** Delivers `delta` from the attacker to `to`, as gossip and, with complete buckets and a context, as anti-entropy. */
    function attack (to: Registry, entries: RegistryDelta['entries'], context: RegistryDelta['context'] = to.context()): MergeUpdate[] {
      const gossip = to.merge(decodeDelta(encodeDelta({ entries })), { now: NOW + 10, from: M })
      const sync = to.merge(decodeDelta(encodeDelta({ entries, context, complete: ALL_BUCKETS })), { now: NOW + 10, from: M })
      return [gossip, sync]
    }

    function echoIntact (r: Registry): void {
      const seen = r.get('echo')
      assert.equal(seen?.node, B, `${r.nodeId} sees echo on B`)
      assert.equal(seen?.state, 'running')
      assert.deepEqual(seen?.capabilities, [{ name: 'echo' }])
    }

    beforeEach(() => {
      a = replica(A)
      b = replica(B)
      echo = b.apply({ type: 'put', agentId: 'echo', node: B, state: 'running', capabilities: [{ name: 'echo' }] }, NOW).delta as RegistryDelta
      a.merge(echo, { now: NOW, from: B })
      if (role === 'member') {
        // a member with registrations of its own, known to A
        const m = replica(M)
        a.merge(m.apply({ type: 'put', agentId: 'm-agent', node: M, state: 'running' }, NOW).delta as RegistryDelta, { now: NOW, from: M })
      }
    })

    it('a tombstone "by B" (not signed by B) removes nothing', () => {
      for (const out of attack(a, [{ agentId: 'echo', versions: [craft(M, 'echo', { by: B, seq: 2, wall: NOW + 5, record: null })] }])) {
        assert.deepEqual(out.rejected.map(r => [r.agentId, r.by, r.reason]), [['echo', B, 'signature']])
        assert.deepEqual(out.changes.filter(c => c.agentId === 'echo'), [])
      }
      echoIntact(a)
      assert.equal(a.tombstoneCount, 0)
    })

    it('its own tombstone of B\'s agent removes nothing of B\'s', () => {
      attack(a, [{ agentId: 'echo', versions: [craft(M, 'echo', { by: M, seq: 7, wall: NOW + 5, record: null })] }])
      echoIntact(a)
      assert.equal(a.get('echo')?.conflicts, 0)
    })

    it('a record "by B" re-pointing or changing B\'s agent is refused; its own registration of the id does not take it', () => {
      const forged = craft(M, 'echo', { by: B, seq: 2, wall: NOW + 5, record: { ...running(B, NOW), capabilities: [] } })
      for (const out of attack(a, [{ agentId: 'echo', versions: [forged] }])) assert.equal(out.rejected[0]?.reason, 'signature')
      echoIntact(a)
      // a registration of its own, timestamped honestly: B registered echo first
      const own = craft(M, 'echo', { by: M, seq: 9, wall: NOW + 5, record: running(M, NOW + 5) })
      attack(a, [{ agentId: 'echo', versions: [own] }])
      echoIntact(a)
      assert.equal(a.get('echo')?.conflicts, 1, 'kept, and counted as a conflict')
      // the record's node is its writer on the wire: a record naming another node cannot be expressed
      assert.equal(decodeDelta(encodeDelta({ entries: [{ agentId: 'echo', versions: [own] }] })).entries[0].versions[0].record?.node, M)
    })

    it('a version "by B" with write number 2^53−1 is refused, and B\'s next writes work and reach A', () => {
      const max = Number.MAX_SAFE_INTEGER
      for (const r of [a, b]) {
        for (const out of attack(r, [{ agentId: 'echo', versions: [craft(M, 'echo', { by: B, seq: max, wall: NOW + 5, record: null })] }])) {
          assert.equal(out.rejected[0]?.reason, 'signature')
        }
        // and its own version at 2^53−1, with a context claiming B's writes up to there
        attack(r, [{ agentId: 'other', versions: [craft(M, 'other', { by: M, seq: max, wall: NOW + 5, record: running(M, NOW) })] }],
          [{ node: B, upTo: max, extra: [] }, { node: M, upTo: max, extra: [] }].sort((x, y) => (x.node < y.node ? -1 : 1)))
      }
      assert.ok(a.context().every(o => o.node !== B || o.upTo === 1), 'A took nobody\'s word about B\'s writes')
      const next = b.apply({ type: 'put', agentId: 'deployed-after', node: B, state: 'running' }, NOW + 20)
      assert.equal(next.delta?.entries[0].versions[0].seq, 2)
      const removal = b.apply({ type: 'remove', agentId: 'echo' }, NOW + 21)
      const atA = a.merge(next.delta as RegistryDelta, { now: NOW + 22, from: B })
      assert.equal(atA.accepted, 1)
      assert.equal(a.merge(removal.delta as RegistryDelta, { now: NOW + 22, from: B }).accepted, 1)
      assert.equal(a.get('deployed-after')?.node, B)
      assert.equal(a.get('echo'), undefined)
    })

    it('a far-future timestamp wins nothing and does not move A\'s clock', () => {
      const clock = a.hlc
      const future = NOW + 365 * 86_400_000
      for (const out of attack(a, [{ agentId: 'echo', versions: [craft(M, 'echo', { by: M, seq: 11, wall: future, record: running(M, 0, future) })] }])) {
        assert.deepEqual(out.rejected.map(r => r.reason), ['future'])
      }
      echoIntact(a)
      assert.equal(a.get('echo')?.conflicts, 0)
      assert.deepEqual(a.hlc, clock)
    })

    it('an anti-entropy delta with an inflated complete context prunes nothing of anyone else', () => {
      const context = [A, B, M].sort().map(node => ({ node, upTo: 1_000_000, extra: [] }))
      const before = a.context()
      const out = a.merge(decodeDelta(encodeDelta({ entries: [], context, complete: ALL_BUCKETS })), { now: NOW + 10, from: M })
      assert.equal(out.pruned, role === 'member' ? 1 : 0, 'a member drops only its own registration, which it no longer lists')
      echoIntact(a)
      assert.deepEqual(a.context().filter(o => o.node !== M), before.filter(o => o.node !== M), 'only M\'s word about M\'s own writes is taken')
      // B's next write is not mistaken for one seen superseded
      const next = b.apply({ type: 'update', agentId: 'echo', state: 'draining' }, NOW + 20)
      assert.equal(a.merge(next.delta as RegistryDelta, { now: NOW + 21, from: B }).accepted, 1)
      assert.equal(a.get('echo')?.state, 'draining')
    })

    it('a signed version of B is bound to its agent: replayed for another agent it is refused, replayed late it is stale', () => {
      const v = echo.entries[0].versions[0]
      for (const out of attack(a, [{ agentId: 'echo-2', versions: [v] }])) assert.equal(out.accepted, 0)
      assert.equal(a.get('echo-2'), undefined)
      const fresh = replica('node-c')
      for (const out of attack(fresh, [{ agentId: 'echo-2', versions: [v] }])) assert.equal(out.rejected[0]?.reason, 'signature')
      assert.equal(fresh.get('echo-2'), undefined)
      a.merge(b.apply({ type: 'update', agentId: 'echo', state: 'stopped' }, NOW + 30).delta as RegistryDelta, { now: NOW + 30, from: B })
      for (const out of attack(a, echo.entries)) assert.equal(out.stale, 1)
      assert.equal(a.get('echo')?.state, 'stopped')
    })
  })
}
