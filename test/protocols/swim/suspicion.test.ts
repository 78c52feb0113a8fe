import assert from 'node:assert/strict'
import {
  Suspicion, expectedConfirmations, remainingSuspicionTime, suspicionMaxTimeoutMs, suspicionMinTimeoutMs
} from '../../../protocols/swim/index.js'

describe('protocols/swim suspicion (Lifeguard §IV-B)', () => {
  describe('remainingSuspicionTime', () => {
    // timeout = max(Min, floor(Max − (Max − Min) × ln(C + 1) / ln(K + 1))); remaining = timeout − elapsed.
    // Values worked out by hand: ln2/ln4 = 0.5, ln3/ln4 = 0.792481, ln2/ln3 = 0.630930.
    const table: Array<[confirmations: number, k: number, elapsedMs: number, minMs: number, maxMs: number, expected: number]> = [
      [0, 3, 0, 2000, 30000, 30000],
      [1, 3, 0, 2000, 30000, 16000], // 30000 − 28000 × 0.5
      [2, 3, 0, 2000, 30000, 7810], // 30000 − 28000 × 0.792481 = 7810.5
      [3, 3, 0, 2000, 30000, 2000],
      [4, 3, 0, 2000, 30000, 2000], // beyond K counts as K
      [1, 3, 1000, 2000, 30000, 15000],
      [3, 3, 5000, 2000, 30000, -3000], // overdue
      [0, 0, 0, 4000, 24000, 4000], // K = 0: Min at once
      [0, 0, 1500, 4000, 24000, 2500],
      [0, 2, 0, 8000, 48000, 48000], // lan, N = 100
      [1, 2, 0, 8000, 48000, 22762], // 48000 − 40000 × 0.630930 = 22762.8
      [2, 2, 0, 8000, 48000, 8000],
      [5, 10, 0, 1000, 1000, 1000] // Min = Max
    ]
    for (const [c, k, elapsed, min, max, expected] of table) {
      it(`C=${c} K=${k} elapsed=${elapsed} Min=${min} Max=${max} → ${expected}`, () => {
        assert.equal(remainingSuspicionTime(c, k, elapsed, min, max), expected)
      })
    }

    it('never goes below Min and shrinks monotonically with confirmations', () => {
      let last = Infinity
      for (let c = 0; c <= 6; c++) {
        const t = remainingSuspicionTime(c, 5, 0, 3000, 18000)
        assert.ok(t >= 3000)
        assert.ok(t < last || t === 3000)
        last = t
      }
    })
  })

  describe('timeout bounds', () => {
    const mins: Array<[mult: number, n: number, intervalMs: number, expected: number]> = [
      [4, 0, 1000, 4000],
      [4, 1, 1000, 4000], // log10(1) = 0 → floor of 1
      [4, 10, 1000, 4000],
      [4, 50, 1000, 6795], // 4 × 1.69897 × 1000
      [4, 100, 1000, 8000],
      [4, 1000, 1000, 12000],
      [6, 100, 5000, 60000], // wan
      [3, 20, 1000, 3903] // local: 3 × 1.30103 × 1000
    ]
    for (const [mult, n, interval, expected] of mins) {
      it(`min(mult=${mult}, N=${n}, interval=${interval}) = ${expected} ms`, () => {
        assert.equal(suspicionMinTimeoutMs(mult, n, interval), expected)
      })
    }

    it('max is suspicionMaxTimeoutMult × min', () => {
      assert.equal(suspicionMaxTimeoutMs(6, 8000), 48000)
      assert.equal(suspicionMaxTimeoutMs(1, 8000), 8000)
    })

    const ks: Array<[mult: number, n: number, expected: number]> = [[4, 100, 2], [4, 4, 2], [4, 3, 0], [4, 1, 0], [6, 100, 4], [2, 100, 0], [1, 100, 0]]
    for (const [mult, n, expected] of ks) {
      it(`K(mult=${mult}, N=${n}) = ${expected}`, () => {
        assert.equal(expectedConfirmations(mult, n), expected)
      })
    }
  })

  describe('Suspicion', () => {
    it('counts each independent confirmer once, never the accuser, and at most K', () => {
      const s = new Suspicion('accuser', 3, 2, 8000, 48000, 1000)
      assert.equal(s.deadline, 1000 + 48000)
      assert.equal(s.confirm('accuser'), false)
      assert.equal(s.confirm('b'), true)
      assert.equal(s.confirm('b'), false)
      assert.equal(s.deadline, 1000 + 22762)
      assert.equal(s.confirm('c'), true)
      assert.equal(s.deadline, 1000 + 8000)
      assert.equal(s.confirm('d'), false, 'K reached')
      assert.equal(s.confirmations, 2)
    })

    it('reports the time remaining under an injected clock', () => {
      const s = new Suspicion('a', 0, 2, 8000, 48000, 10_000)
      assert.equal(s.remaining(10_000), 48000)
      assert.equal(s.remaining(30_000), 28000)
      s.confirm('b')
      assert.equal(s.remaining(30_000), 2762)
      s.confirm('c')
      assert.equal(s.remaining(30_000), -12000)
    })
  })
})
