/**
 * `planBatch`: the order of a worker batch's turns and where the worker posts results
 * early (src/runtime/batch-plan.ts).
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { EARLY_RESULTS_MS, planBatch } from '../../src/runtime/batch-plan.js'

interface T { id: string, ms: number }
const cost = (t: T): number => t.ms

describe('planBatch', () => {
  it('puts a cheap turn before an expensive one and posts its results before the expensive one runs', () => {
    const turns: T[] = [{ id: 'flood', ms: 0.4 }, { id: 'echo', ms: 0.005 }]
    assert.equal(planBatch(turns, cost), 0)
    assert.deepEqual(turns.map(t => t.id), ['echo', 'flood'])
  })

  it('posts no early results when the rest of the batch is cheap, or nothing at the front is', () => {
    const cheap: T[] = [{ id: 'a', ms: 0.01 }, { id: 'b', ms: 0.02 }]
    assert.equal(planBatch(cheap, cost), -1)
    const dear: T[] = [{ id: 'a', ms: 0.3 }, { id: 'b', ms: 0.2 }]
    assert.equal(planBatch(dear, cost), -1)
    assert.deepEqual(dear.map(t => t.id), ['b', 'a'])
    assert.equal(planBatch([{ id: 'alone', ms: 5 }], cost), -1)
  })

  it('keeps the round-robin order of turns that cost the same', () => {
    const turns: T[] = ['a', 'b', 'c', 'd'].map(id => ({ id, ms: 0.1 }))
    planBatch(turns, cost)
    assert.deepEqual(turns.map(t => t.id), ['a', 'b', 'c', 'd'])
  })

  it('sorts cheapest first and flushes after the longest cheap prefix (property)', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 }), (costs) => {
      const turns: T[] = costs.map((ms, i) => ({ id: String(i), ms }))
      const at = planBatch(turns, cost)
      assert.deepEqual([...turns.map(t => t.ms)], [...costs].sort((x, y) => x - y))
      assert.deepEqual(turns.map(t => t.id).sort(), costs.map((_, i) => String(i)).sort())
      const total = turns.reduce((a, t) => a + t.ms, 0)
      const before = (k: number): number => turns.slice(0, k + 1).reduce((a, t) => a + t.ms, 0)
      if (at === -1) {
        // No prefix qualifies: each one is too dear, or leaves too little behind it.
        for (let k = 0; k < turns.length - 1; k++) assert.ok(before(k) > EARLY_RESULTS_MS || total - before(k) <= EARLY_RESULTS_MS)
      } else {
        assert.ok(at < turns.length - 1)
        assert.ok(before(at) <= EARLY_RESULTS_MS)
        assert.ok(total - before(at) > EARLY_RESULTS_MS)
        // The longest such prefix.
        for (let k = at + 1; k < turns.length - 1; k++) assert.ok(before(k) > EARLY_RESULTS_MS || total - before(k) <= EARLY_RESULTS_MS)
      }
    }), { numRuns: 500 })
  })
})
