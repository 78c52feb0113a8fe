import assert from 'node:assert/strict'
import { RandomPool, createRandomPool } from '../../src/router/random-pool.js'

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

  it('takes fresh bytes in place: offsets move on, a refill starts again at 0 with new bytes', () => {
    const pool = new RandomPool(64)
    const seen = new Set<string>()
    let last = -1
    for (let i = 0; i < 100; i++) {
      const at = pool.take(24)
      assert.ok(at >= 0 && at + 24 <= 64, `offset ${at} inside the pool`)
      assert.ok(at === 0 || at > last, 'moves on until a refill')
      last = at
      const hex = Buffer.from(pool.bytes.subarray(at, at + 24)).toString('hex')
      assert.ok(!seen.has(hex), 'a repeated 24-byte draw means bytes were reused')
      seen.add(hex)
    }
    assert.equal(pool.take(0) >= 0, true)
    for (const n of [-1, 1.5, 65, Number.NaN]) assert.throws(() => pool.take(n), RangeError, String(n))
    for (const size of [0, -4, 2.5]) assert.throws(() => new RandomPool(size), RangeError, String(size))
  })

  it('hex(n): 2n lower-case hex digits, different each time', () => {
    const pool = new RandomPool(64)
    const seen = new Set<string>()
    for (let i = 0; i < 500; i++) {
      const h = pool.hex(4)
      assert.match(h, /^[0-9a-f]{8}$/)
      seen.add(h)
    }
    assert.ok(seen.size >= 499, `${seen.size} distinct of 500 32-bit draws`)
    assert.match(pool.hex(16), /^[0-9a-f]{32}$/)
    assert.equal(pool.hex(0), '')
  })

  it('uuid(): RFC 9562 version 4 UUIDs, unique, every random digit used', () => {
    const pool = new RandomPool(64)
    const seen = new Set<string>()
    const digits = Array.from({ length: 36 }, () => new Set<string>())
    for (let i = 0; i < 2000; i++) {
      const id = pool.uuid()
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      assert.ok(!seen.has(id), `repeated ${id}`)
      seen.add(id)
      for (let c = 0; c < 36; c++) digits[c].add(id[c])
    }
    // Each position shows every value it may take (16 hex digits, 4 for the variant).
    for (let c = 0; c < 36; c++) {
      const expected = [8, 13, 18, 23].includes(c) ? 1 : c === 14 ? 1 : c === 19 ? 4 : 16
      assert.equal(digits[c].size, expected, `position ${c}: ${[...digits[c]].join('')}`)
    }
  })
})
