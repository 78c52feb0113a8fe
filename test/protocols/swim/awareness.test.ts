import assert from 'node:assert/strict'
import { Awareness, probeHealthDelta } from '../../../protocols/swim/index.js'
import type { ProbeOutcome } from '../../../protocols/swim/index.js'

describe('protocols/swim awareness (Lifeguard §IV-A)', () => {
  const table: Array<[string, ProbeOutcome, number]> = [
    ['timely ack', { acked: true, late: false, expectedNacks: 0, nacks: 0 }, -1],
    ['timely relayed ack', { acked: true, late: false, expectedNacks: 3, nacks: 1 }, -1],
    ['late ack', { acked: true, late: true, expectedNacks: 0, nacks: 0 }, 1],
    ['failed, no helper to ask', { acked: false, late: false, expectedNacks: 0, nacks: 0 }, 1],
    ['failed, every helper nacked: the target is gone, not us', { acked: false, late: false, expectedNacks: 3, nacks: 3 }, 0],
    ['failed, one nack missing', { acked: false, late: false, expectedNacks: 3, nacks: 2 }, 1],
    ['failed, all nacks missing', { acked: false, late: false, expectedNacks: 3, nacks: 0 }, 3]
  ]
  for (const [name, outcome, expected] of table) {
    it(`probe delta: ${name} → ${expected}`, () => {
      assert.equal(probeHealthDelta(outcome), expected)
    })
  }

  it('clamps the score to [0, max − 1] and scales timeouts by score + 1', () => {
    const a = new Awareness(8, 100)
    assert.equal(a.score, 0)
    a.applyDelta(-1)
    assert.equal(a.score, 0)
    assert.equal(a.scale(500), 500)
    a.applyDelta(3)
    assert.equal(a.score, 3)
    assert.equal(a.scale(500), 2000)
    a.applyDelta(100)
    assert.equal(a.score, 7)
    assert.equal(a.scale(1000), 8000)
    a.applyDelta(-2)
    assert.equal(a.score, 5)
  })

  it('adds the external load signal, one point per loadStepMs of event-loop delay', () => {
    const a = new Awareness(8, 100)
    a.setLoad(99)
    assert.equal(a.score, 0)
    a.setLoad(250)
    assert.equal(a.score, 2)
    a.applyDelta(2)
    assert.equal(a.score, 4)
    a.setLoad(10_000)
    assert.equal(a.score, 7, 'still clamped')
    a.setLoad(Number.NaN)
    assert.equal(a.score, 2, 'bad input counts as no load')
    a.setLoad(-5)
    assert.equal(a.score, 2)
  })

  it('ignores the load signal when loadStepMs is 0', () => {
    const a = new Awareness(8, 0)
    a.setLoad(5000)
    assert.equal(a.score, 0)
  })
})
