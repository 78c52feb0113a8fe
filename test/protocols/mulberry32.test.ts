import assert from 'node:assert/strict'
import { mulberry32 } from '../../protocols/mulberry32.js'

describe('protocols/mulberry32', () => {
  it('gives the same numbers for the same seed, others for another, all in [0, 1)', () => {
    const draw = (seed: number): number[] => { const r = mulberry32(seed); return Array.from({ length: 1000 }, () => r()) }
    const a = draw(42)
    assert.deepEqual(draw(42), a)
    assert.notDeepEqual(draw(43), a)
    assert.ok(a.every(x => x >= 0 && x < 1))
    const mean = a.reduce((s, x) => s + x, 0) / a.length
    assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`)
  })
})
