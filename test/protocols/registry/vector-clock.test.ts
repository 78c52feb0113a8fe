import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  clockFromRecord, clockGet, clockLeq, clocksEqual, clockToRecord, compareClocks, incrementClock, isCanonicalClock, mergeClocks,
  type VectorClock
} from '../../../protocols/registry/index.js'

/** Clocks over a few nodes with small counters, so that equal and ordered pairs are common. */
const clockArb: fc.Arbitrary<VectorClock> = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.nat(3), { maxKeys: 4 }).map(clockFromRecord)

const opposite = { before: 'after', after: 'before', equal: 'equal', concurrent: 'concurrent' } as const

describe('vector clocks', () => {
  it('compares by table', () => {
    const c = (r: Record<string, number>): VectorClock => clockFromRecord(r)
    const cases: Array<[VectorClock, VectorClock, string]> = [
      [c({}), c({}), 'equal'],
      [c({ a: 1 }), c({ a: 1 }), 'equal'],
      [c({}), c({ a: 1 }), 'before'],
      [c({ a: 1 }), c({ a: 2 }), 'before'],
      [c({ a: 1 }), c({ a: 1, b: 1 }), 'before'],
      [c({ a: 2, b: 1 }), c({ a: 1, b: 1 }), 'after'],
      [c({ a: 1 }), c({ b: 1 }), 'concurrent'],
      [c({ a: 2, b: 1 }), c({ a: 1, b: 2 }), 'concurrent'],
      [c({ a: 1, c: 1 }), c({ a: 1, b: 1 }), 'concurrent']
    ]
    for (const [x, y, expected] of cases) assert.equal(compareClocks(x, y), expected, `${JSON.stringify(x)} vs ${JSON.stringify(y)}`)
  })

  it('compare is antisymmetric and equal means identical', () => {
    fc.assert(fc.property(clockArb, clockArb, (a, b) => {
      const ab = compareClocks(a, b)
      assert.equal(compareClocks(b, a), opposite[ab])
      assert.equal(ab === 'equal', clocksEqual(a, b))
    }))
  })

  it('the order is transitive', () => {
    fc.assert(fc.property(clockArb, clockArb, clockArb, (a, b, c) => {
      if (clockLeq(a, b) && clockLeq(b, c)) assert.ok(clockLeq(a, c))
    }))
  })

  it('merge is commutative, associative, idempotent and the least upper bound', () => {
    fc.assert(fc.property(clockArb, clockArb, clockArb, (a, b, c) => {
      assert.deepEqual(mergeClocks(a, b), mergeClocks(b, a))
      assert.deepEqual(mergeClocks(mergeClocks(a, b), c), mergeClocks(a, mergeClocks(b, c)))
      assert.deepEqual(mergeClocks(a, a), a)
      const m = mergeClocks(a, b)
      assert.ok(clockLeq(a, m) && clockLeq(b, m))
      // least: any upper bound of both is above the merge
      if (clockLeq(a, c) && clockLeq(b, c)) assert.ok(clockLeq(m, c))
      assert.ok(isCanonicalClock(m))
    }))
  })

  it('increment moves strictly after and keeps the canonical form', () => {
    fc.assert(fc.property(clockArb, fc.constantFrom('a', 'b', 'c', 'd', 'e', '0'), (c, node) => {
      const next = incrementClock(c, node)
      assert.equal(compareClocks(c, next), 'before')
      assert.equal(clockGet(next, node), clockGet(c, node) + 1)
      assert.ok(isCanonicalClock(next))
      const jumped = incrementClock(c, node, clockGet(c, node) + 10)
      assert.equal(clockGet(jumped, node), clockGet(c, node) + 10)
    }))
  })

  it('refuses to move a counter backwards', () => {
    const c = clockFromRecord({ a: 3 })
    assert.throws(() => incrementClock(c, 'a', 3), RangeError)
    assert.throws(() => incrementClock(c, 'a', 1.5), RangeError)
  })

  it('converts to and from records, dropping zeros', () => {
    fc.assert(fc.property(clockArb, c => {
      assert.deepEqual(clockFromRecord(clockToRecord(c)), c)
    }))
    assert.deepEqual(clockFromRecord({ b: 0, a: 2 }), [['a', 2]])
    assert.throws(() => clockFromRecord({ a: -1 }), RangeError)
  })

  it('spots clocks that are not canonical', () => {
    assert.equal(isCanonicalClock([['b', 1], ['a', 1]]), false)
    assert.equal(isCanonicalClock([['a', 1], ['a', 2]]), false)
    assert.equal(isCanonicalClock([['a', 0]]), false)
    assert.equal(isCanonicalClock([['a', 1], ['b', 2]]), true)
  })
})
