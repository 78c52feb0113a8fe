import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  clockFromRecord, comparePriority, mergeVersions, precedes, sameVersions, type AgentRecord, type Version
} from '../../../protocols/registry/index.js'

const recordArb: fc.Arbitrary<AgentRecord | null> = fc.oneof(
  fc.constant(null),
  fc.record({
    node: fc.constantFrom('a', 'b'),
    state: fc.constantFrom('running' as const, 'stopped' as const),
    capabilities: fc.constantFrom([], [{ name: 'echo' }]),
    updatedAt: fc.nat(3)
  })
)

/**
 * Arbitrary versions, forged ones included (equal clocks with different content, equal
 * HLC timestamps): the merge must be a semilattice for any input, not only reachable ones.
 */
const versionArb: fc.Arbitrary<Version> = fc.record({
  by: fc.constantFrom('a', 'b', 'c'),
  counters: fc.record({ a: fc.nat(2), b: fc.nat(2), c: fc.nat(2) }),
  hlc: fc.record({ wall: fc.nat(2), logical: fc.nat(1) }),
  record: recordArb
}).map(({ by, counters, hlc, record }) => ({
  clock: clockFromRecord({ ...counters, [by]: Math.max(1, counters[by as 'a' | 'b' | 'c']) }),
  by,
  hlc,
  record
}))
const setArb = fc.array(versionArb, { maxLength: 5 })

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

  it('keeps an antichain, winner first, and drops only versions something else supersedes', () => {
    fc.assert(fc.property(setArb, setArb, (a, b) => {
      const m = mergeVersions(a, b)
      for (const x of m) for (const y of m) if (x !== y) assert.ok(!precedes(x, y), 'no kept version supersedes another')
      for (let i = 1; i < m.length; i++) assert.ok(comparePriority(m[i - 1], m[i]) > 0, 'sorted by descending priority')
      for (const v of [...a, ...b]) {
        const kept = m.some(x => comparePriority(x, v) === 0)
        const superseded = m.some(x => precedes(v, x))
        assert.ok(kept || superseded)
      }
    }), { numRuns: 500 })
  })

  it('lets a dominating clock win whatever its timestamp', () => {
    const old: Version = { clock: clockFromRecord({ a: 1 }), by: 'a', hlc: { wall: 900, logical: 0 }, record: null }
    const newer: Version = { clock: clockFromRecord({ a: 1, b: 1 }), by: 'b', hlc: { wall: 100, logical: 0 }, record: null }
    assert.deepEqual(mergeVersions([old], [newer]), [newer])
  })

  it('breaks ties between concurrent versions by HLC timestamp, then by writer id', () => {
    const rec: AgentRecord = { node: 'a', state: 'running', capabilities: [], updatedAt: 0 }
    const fromA: Version = { clock: clockFromRecord({ a: 1 }), by: 'a', hlc: { wall: 10, logical: 0 }, record: rec }
    const fromB: Version = { clock: clockFromRecord({ b: 1 }), by: 'b', hlc: { wall: 10, logical: 1 }, record: rec }
    assert.equal(mergeVersions([fromA], [fromB])[0], fromB, 'higher HLC wins')
    const fromC: Version = { clock: clockFromRecord({ c: 1 }), by: 'c', hlc: { wall: 10, logical: 1 }, record: null }
    assert.equal(mergeVersions([fromB], [fromC])[0], fromC, 'same HLC: higher node id wins')
    assert.equal(mergeVersions([fromC, fromA], [fromB]).length, 3, 'all three kept as concurrent versions')
  })
})
