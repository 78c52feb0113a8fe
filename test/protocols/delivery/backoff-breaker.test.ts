import assert from 'node:assert/strict'
import { CircuitBreaker, backoffCeiling, backoffDelay } from '../../../protocols/delivery/index.js'

describe('protocols/delivery backoff (full jitter)', () => {
  const config = { baseMs: 100, factor: 2, capMs: 5000 }
  const table: Array<[number, number]> = [[1, 100], [2, 200], [3, 400], [6, 3200], [7, 5000], [50, 5000], [5000, 5000]]
  for (const [attempt, ceiling] of table) {
    it(`attempt ${attempt}: ceiling ${ceiling} ms`, () => {
      assert.equal(backoffCeiling(attempt, config), ceiling)
      assert.equal(backoffDelay(attempt, config, () => 0), 0)
      assert.equal(backoffDelay(attempt, config, () => 0.5), ceiling / 2)
      assert.ok(backoffDelay(attempt, config, () => 0.999999) < ceiling)
    })
  }

  it('refuses an attempt below 1', () => {
    assert.throws(() => backoffDelay(0, config, Math.random), RangeError)
  })
})

describe('protocols/delivery circuit breaker', () => {
  const make = (): CircuitBreaker => new CircuitBreaker({ threshold: 3, coolDownMs: 1000 })

  it('opens after threshold consecutive failures, not before', () => {
    const b = make()
    assert.equal(b.failure(0), false)
    assert.equal(b.failure(1), false)
    assert.equal(b.state(1), 'closed')
    assert.equal(b.failure(2), true)
    assert.equal(b.state(2), 'open')
    assert.equal(b.allows(500), false)
    assert.equal(b.trips, 1)
  })

  it('a success in between resets the count', () => {
    const b = make()
    b.failure(0); b.failure(1); b.success(); b.failure(2); b.failure(3)
    assert.equal(b.state(3), 'closed')
  })

  it('lets one probe through when half-open; its success closes it', () => {
    const b = make()
    b.failure(0); b.failure(0); b.failure(0)
    assert.equal(b.state(999), 'open')
    assert.equal(b.state(1000), 'half-open')
    assert.equal(b.reopensAt(), 1000)
    assert.equal(b.allows(1000), true)
    assert.equal(b.allows(1001), false, 'only one probe at a time')
    b.success()
    assert.equal(b.state(1001), 'closed')
    assert.equal(b.allows(1001), true)
  })

  it('a failed probe opens it for another cool-down', () => {
    const b = make()
    b.failure(0); b.failure(0); b.failure(0)
    assert.equal(b.allows(1500), true)
    assert.equal(b.failure(1600), true)
    assert.equal(b.state(2599), 'open')
    assert.equal(b.state(2600), 'half-open')
    assert.equal(b.trips, 2)
  })

  it('halfOpen ends the cool-down at once', () => {
    const b = make()
    b.failure(0); b.failure(0); b.failure(0)
    b.halfOpen(10)
    assert.equal(b.state(10), 'half-open')
    assert.equal(b.allows(10), true)
  })
})
