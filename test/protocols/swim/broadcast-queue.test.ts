import assert from 'node:assert/strict'
import { BroadcastQueue, encodedUpdateSize, retransmitLimit } from '../../../protocols/swim/index.js'
import type { MemberUpdate } from '../../../protocols/swim/index.js'

const alive = (id: string, incarnation = 0): MemberUpdate => ({ kind: 'alive', id, incarnation, addrs: [] })

describe('protocols/swim broadcast queue (SWIM §4.1)', () => {
  const limits: Array<[mult: number, n: number, expected: number]> = [
    [4, 0, 0], [4, 1, 4], [4, 9, 4], [4, 10, 8], [4, 99, 8], [4, 100, 12], [4, 999, 12], [4, 1000, 16], [2, 1000, 8], [4, 10_000, 20]
  ]
  for (const [mult, n, expected] of limits) {
    it(`retransmitLimit(${mult}, N=${n}) = ${expected}`, () => {
      assert.equal(retransmitLimit(mult, n), expected)
    })
  }

  it('sends each update at most the retransmit limit times, then drops it', () => {
    const q = new BroadcastQueue({ retransmitMult: 2, sizeOf: () => 10 })
    q.enqueue(alive('a'))
    // N = 5 → limit 2 × ceil(log10 6) = 2
    assert.deepEqual(q.take(100, 5).map((u) => u.id), ['a'])
    assert.equal(q.transmits('a'), 1)
    assert.deepEqual(q.take(100, 5).map((u) => u.id), ['a'])
    assert.equal(q.length, 0)
    assert.deepEqual(q.take(100, 5), [])
  })

  it('lets a newer update about a member replace the queued one, with a fresh transmit count', () => {
    const q = new BroadcastQueue({ retransmitMult: 4, sizeOf: () => 10 })
    q.enqueue(alive('a', 1))
    q.take(100, 50)
    q.enqueue({ kind: 'suspect', id: 'a', incarnation: 1, from: 'b' })
    assert.equal(q.length, 1)
    assert.equal(q.transmits('a'), 0)
    const [u] = q.take(100, 50)
    assert.equal(u.kind, 'suspect')
  })

  it('prefers the least-transmitted updates, oldest first among equals', () => {
    const q = new BroadcastQueue({ retransmitMult: 4, sizeOf: () => 10 })
    q.enqueue(alive('a'))
    q.enqueue(alive('b'))
    assert.deepEqual(q.take(10, 50).map((u) => u.id), ['a'])
    q.enqueue(alive('c'))
    // b and c have 0 transmits, a has 1
    assert.deepEqual(q.take(20, 50).map((u) => u.id), ['b', 'c'])
    assert.deepEqual(q.take(30, 50).map((u) => u.id), ['a', 'b', 'c'])
  })

  it('fills the byte budget and skips what does not fit', () => {
    const sizes: Record<string, number> = { a: 60, b: 50, c: 30 }
    const q = new BroadcastQueue({ retransmitMult: 4, sizeOf: (u) => sizes[u.id] })
    q.enqueue(alive('a'))
    q.enqueue(alive('b'))
    q.enqueue(alive('c'))
    assert.deepEqual(q.take(90, 50).map((u) => u.id), ['a', 'c'])
    assert.deepEqual(q.take(0, 50), [])
  })

  it('uses the cluster size at send time for the limit', () => {
    const q = new BroadcastQueue({ retransmitMult: 1, sizeOf: () => 1 })
    q.enqueue(alive('a'))
    q.take(10, 100) // limit 3 at N = 100: one sent
    q.take(10, 100)
    assert.equal(q.length, 1)
    q.take(10, 5) // limit 1 at N = 5: already over, dropped after this send
    assert.equal(q.length, 0)
  })

  it('removes by member and stays consistent through many interleaved operations', () => {
    const q = new BroadcastQueue({ retransmitMult: 3, sizeOf: encodedUpdateSize })
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 20; i++) q.enqueue(alive(`m${(round * 7 + i) % 30}`, round))
      q.remove(`m${round % 30}`)
      const taken = q.take(200, 30)
      assert.equal(new Set(taken.map((u) => u.id)).size, taken.length, 'no duplicate in a frame')
    }
    let drained = 0
    while (q.length > 0 && drained < 1000) { q.take(10_000, 30); drained++ }
    assert.equal(q.length, 0)
  })
})
