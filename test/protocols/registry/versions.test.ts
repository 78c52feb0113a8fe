import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  comparePriority, mergeVersions, precedes, sameVersions, type AgentRecord, type Version
} from '../../../protocols/registry/index.js'

const recordArb = (by: string): fc.Arbitrary<AgentRecord | null> => fc.oneof(
  fc.constant(null),
  fc.record({
    node: fc.constant(by),
    state: fc.constantFrom('running' as const, 'stopped' as const),
    capabilities: fc.constantFrom([], [{ name: 'echo' }]),
    updatedAt: fc.nat(3),
    registeredAt: fc.nat(3)
  })
)

/**
 * Arbitrary versions, forged ones included (one writer's sequence number with different
 * contents, equal timestamps, any signature bytes): the merge must be a semilattice for
 * any input, not only reachable ones.
 */
const versionArb: fc.Arbitrary<Version> = fc.constantFrom('a', 'b', 'c').chain(by => fc.record({
  by: fc.constant(by),
  seq: fc.integer({ min: 1, max: 3 }),
  hlc: fc.record({ wall: fc.nat(2), logical: fc.nat(1) }),
  record: recordArb(by),
  signature: fc.constantFrom(new Uint8Array(64), new Uint8Array(64).fill(1))
}))
const setArb = fc.array(versionArb, { maxLength: 5 })

const sig = new Uint8Array(64)
const live = (by: string, seq: number, registeredAt: number, wall = registeredAt): Version =>
  ({ by, seq, hlc: { wall, logical: 0 }, record: { node: by, state: 'running', capabilities: [], updatedAt: wall, registeredAt }, signature: sig })
const tombstone = (by: string, seq: number, wall: number): Version => ({ by, seq, hlc: { wall, logical: 0 }, record: null, signature: sig })

describe('version merge', () => {
  it('is commutative, associative and idempotent for any versions', () => {
    fc.assert(fc.property(setArb, setArb, setArb, (a, b, c) => {
      const ab = mergeVersions(a, b)
      assert.ok(sameVersions(ab, mergeVersions(b, a)), 'commutative')
      assert.ok(sameVersions(mergeVersions(ab, c), mergeVersions(a, mergeVersions(b, c))), 'associative')
      assert.ok(sameVersions(mergeVersions(ab, ab), ab), 'idempotent')
      assert.ok(sameVersions(mergeVersions(ab, []), ab), 'empty is the identity')
    }), { numRuns: 500 })
  })

  it('keeps the latest version of each writer, winner first, and drops only versions their own writer superseded', () => {
    fc.assert(fc.property(setArb, setArb, (a, b) => {
      const m = mergeVersions(a, b)
      assert.equal(new Set(m.map(v => v.by)).size, m.length, 'one version per writer')
      for (const x of m) for (const y of m) if (x !== y) assert.ok(!precedes(x, y), 'no kept version supersedes another')
      for (let i = 1; i < m.length; i++) assert.ok(comparePriority(m[i - 1], m[i]) > 0, 'sorted by descending priority')
      for (const v of [...a, ...b]) {
        const kept = m.some(x => comparePriority(x, v) === 0)
        const superseded = m.some(x => precedes(v, x))
        assert.ok(kept || superseded)
        if (superseded) assert.ok(m.some(x => x.by === v.by && precedes(v, x)), 'only by its own writer')
      }
    }), { numRuns: 500 })
  })

  it('supersedes a version only by a later write of the same writer, whatever the timestamps', () => {
    assert.deepEqual(mergeVersions([live('a', 1, 900)], [tombstone('a', 2, 100)]).map(v => v.seq), [2])
    // another writer's tombstone, however late, removes nothing of a's
    const kept = mergeVersions([live('a', 1, 100)], [tombstone('b', 99, 1e12)])
    assert.deepEqual(kept.map(v => v.by), ['a', 'b'])
  })

  it('shows a live registration before tombstones, the earlier registration, then the lower node id', () => {
    assert.equal(mergeVersions([tombstone('a', 5, 1e12)], [live('b', 1, 10)])[0].by, 'b', 'live before removed')
    assert.equal(mergeVersions([live('a', 1, 20, 1e9)], [live('b', 1, 10)])[0].by, 'b', 'earlier registration, whatever the later writes')
    assert.equal(mergeVersions([live('c', 1, 10)], [live('b', 1, 10)])[0].by, 'b', 'same time: lower node id')
    assert.equal(mergeVersions([tombstone('a', 1, 5)], [tombstone('b', 1, 6)])[0].by, 'b', 'tombstones: the later removal first')
  })
})
