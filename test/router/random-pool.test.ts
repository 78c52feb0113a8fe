import assert from 'node:assert/strict'
import { createRandomPool } from '../../src/router/random-pool.js'

describe('router random pool', () => {
  it('hands out fresh bytes of the asked length across refills, never the same bytes twice', () => {
    const next = createRandomPool(64)
    const seen = new Set<string>()
    for (let i = 0; i < 200; i++) {
      const n = 1 + (i % 24)
      const b = next(n)
      assert.equal(b.length, n)
      if (n >= 8) {
        const hex = Buffer.from(b).toString('hex')
        assert.ok(!seen.has(hex), 'a repeated 8+ byte draw means bytes were reused')
        seen.add(hex)
      }
    }
    assert.equal(next(100).length, 100, 'larger than the pool')
  })

  it('returns copies: changing one draw does not change the next', () => {
    const next = createRandomPool(64)
    const a = next(8)
    const copy = a.slice()
    a.fill(0)
    const b = next(8)
    assert.notDeepEqual(b, a)
    assert.notDeepEqual(copy, new Uint8Array(8))
  })
})
