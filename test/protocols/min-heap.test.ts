import assert from 'node:assert/strict'
import fc from 'fast-check'
import { MinHeap } from '../../protocols/min-heap.js'

function drain (h: MinHeap<number>): number[] {
  const out: number[] = []
  for (let x = h.pop(); x !== undefined; x = h.pop()) out.push(x)
  return out
}

describe('protocols MinHeap', () => {
  it('pops in order whatever was pushed', () => {
    fc.assert(fc.property(fc.array(fc.integer()), xs => {
      const h = new MinHeap<number>((a, b) => a < b)
      for (const x of xs) h.push(x)
      assert.deepEqual(drain(h), [...xs].sort((a, b) => a - b))
    }))
  })

  it('retain keeps exactly the accepted items, still in order, and pushes after it stay ordered', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -1000, max: 1000 })), fc.array(fc.integer({ min: -1000, max: 1000 })), (xs, later) => {
      const h = new MinHeap<number>((a, b) => a < b)
      for (const x of xs) h.push(x)
      h.retain(x => x % 3 !== 0)
      assert.equal(h.size, xs.filter(x => x % 3 !== 0).length)
      for (const x of later) h.push(x)
      assert.deepEqual(drain(h), [...xs.filter(x => x % 3 !== 0), ...later].sort((a, b) => a - b))
    }))
  })
})
