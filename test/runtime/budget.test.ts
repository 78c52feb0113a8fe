import assert from 'node:assert/strict'
import { OVER_BUDGET_QUIET_MS, OverBudgetWatch, SendBudget, TokenBucket } from '../../src/runtime/budget.js'

describe('runtime: send budgets (token buckets)', () => {
  it('a bucket starts full, refills at its rate up to its burst, and takes only what it holds', () => {
    const b = new TokenBucket(10, 5, 0)
    // [what is done, at ms, expected result, tokens left afterwards]
    const steps: Array<[string, number, boolean, number]> = [
      ['take 5', 0, true, 0],
      ['take 1', 0, false, 0],
      ['take 1', 99, false, 0.99],
      ['take 1', 100, true, 0],
      ['take 2', 300, true, 0],
      ['take 1', 10_000, true, 4] // capped at the burst: 5, not 97
    ]
    for (const [step, now, ok, left] of steps) {
      const n = Number(step.split(' ')[1])
      assert.equal(b.take(n, now), ok, `${step} at ${now} ms`)
      assert.ok(Math.abs(b.available(now) - left) < 1e-9, `${step} at ${now} ms leaves ${b.available(now)}`)
    }
  })

  it('a bucket never refills backwards when the clock steps back', () => {
    const b = new TokenBucket(1000, 10, 1000)
    assert.ok(b.take(10, 1000))
    assert.equal(b.available(500), 0)
    assert.equal(b.available(1001), 1)
  })

  it('a send passes only when both the message and the byte bucket have room, and then costs both', () => {
    const budget = new SendBudget({ sendsPerSecond: 100, sendBurst: 3, sendBytesPerSecond: 1000 }, 0)
    assert.ok(budget.allow(600, 0))
    // The byte bucket has 400 left: a 500-byte send is refused and costs no message token.
    assert.equal(budget.allow(500, 0), false)
    assert.ok(budget.allow(400, 0))
    assert.ok(budget.allow(0, 0))
    // Three messages taken: the burst is spent, whatever the size.
    assert.equal(budget.allow(0, 0), false)
    // 10 ms later one message token (100/s) and 10 bytes (1000/s) are back.
    assert.equal(budget.allow(11, 10), false)
    assert.ok(budget.allow(10, 10))
  })

  it('sustains its rate: over 10 s of sends every ms, about rate × 10 + burst pass', () => {
    const budget = new SendBudget({ sendsPerSecond: 200, sendBurst: 50, sendBytesPerSecond: 1 << 30 }, 0)
    let passed = 0
    for (let now = 0; now < 10_000; now++) for (let i = 0; i < 5; i++) if (budget.allow(100, now)) passed++
    assert.ok(Math.abs(passed - (200 * 10 + 50)) <= 1, `passed ${passed}`)
  })

  it('suspends after refusals that keep coming for the grace period; a quiet second ends a spell', () => {
    const watch = new OverBudgetWatch(2000)
    // [refused at ms, expected: past the grace period, spell length afterwards]
    const steps: Array<[number, boolean, number]> = [
      [0, false, 0],
      [900, false, 900],
      [1800, false, 1800],
      // More than OVER_BUDGET_QUIET_MS without a refusal: a new spell.
      [1800 + OVER_BUDGET_QUIET_MS + 1, false, 0],
      [3801, false, 1000],
      [4801, true, 2000],
      [4900, true, 2099]
    ]
    for (const [now, over, spell] of steps) {
      assert.equal(watch.refused(now), over, `refused at ${now} ms`)
      assert.equal(watch.spellMs(now), spell, `spell at ${now} ms`)
    }
    assert.equal(watch.spellMs(4900 + OVER_BUDGET_QUIET_MS + 1), 0)
    watch.reset()
    assert.equal(watch.refused(5000), false)
    assert.equal(watch.spellMs(5000), 0)
  })

  it('a grace period of 0 suspends at the first refusal', () => {
    assert.equal(new OverBudgetWatch(0).refused(123), true)
  })
})
