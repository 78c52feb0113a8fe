import assert from 'node:assert/strict'
import { Prng, hashString, mix32 } from '../../../sim/core/prng.js'

describe('sim/core Prng (sfc32)', () => {
  it('replays the same sequence from the same seed, and another from another seed', () => {
    const a = new Prng(7)
    const b = new Prng(7)
    const c = new Prng(8)
    const sa = Array.from({ length: 100 }, () => a.uint32())
    const sb = Array.from({ length: 100 }, () => b.uint32())
    const sc = Array.from({ length: 100 }, () => c.uint32())
    assert.deepEqual(sa, sb)
    assert.notDeepEqual(sa, sc)
    assert.deepEqual(new Prng('label').uint32(), new Prng('label').uint32())
  })

  it('yields uniform floats in [0, 1) and integers in [0, n)', () => {
    const r = new Prng(1)
    let sum = 0
    const buckets = new Array(10).fill(0)
    for (let i = 0; i < 100_000; i++) {
      const x = r.next()
      assert.ok(x >= 0 && x < 1)
      sum += x
      buckets[r.int(10)]++
    }
    assert.ok(Math.abs(sum / 100_000 - 0.5) < 0.01)
    for (const b of buckets) assert.ok(b > 9_500 && b < 10_500, `bucket ${b}`)
  })

  it('forks independent, reproducible streams without advancing the parent', () => {
    const p = new Prng(3)
    const f1 = p.fork('x')
    const f2 = new Prng(3).fork('x')
    const g = p.fork('y')
    assert.equal(f1.uint32(), f2.uint32())
    assert.notEqual(new Prng(3).fork('x').uint32(), g.uint32())
    assert.equal(p.uint32(), new Prng(3).uint32())
  })

  it('draws normal and exponential variates with the right moments', () => {
    const r = new Prng(11)
    let s = 0
    let s2 = 0
    let e = 0
    const n = 50_000
    for (let i = 0; i < n; i++) {
      const z = r.normal()
      s += z
      s2 += z * z
      e += r.exponential(5)
    }
    assert.ok(Math.abs(s / n) < 0.02)
    assert.ok(Math.abs(s2 / n - 1) < 0.03)
    assert.ok(Math.abs(e / n - 5) < 0.1)
  })

  it('shuffles into a permutation', () => {
    const items = Array.from({ length: 50 }, (_, i) => i)
    const shuffled = new Prng(5).shuffle(items.slice())
    assert.notDeepEqual(shuffled, items)
    assert.deepEqual(shuffled.slice().sort((a, b) => a - b), items)
  })

  it('hashes labels and mixes integers deterministically', () => {
    assert.equal(hashString('abc'), hashString('abc'))
    assert.notEqual(hashString('abc'), hashString('abd'))
    assert.equal(mix32(1, 2), mix32(1, 2))
    assert.notEqual(mix32(1, 2), mix32(2, 1))
  })
})
