import assert from 'node:assert/strict'
import fc from 'fast-check'
import { EventQueue } from '../../../sim/core/event-queue.js'
import { Simulator } from '../../../sim/core/simulator.js'

describe('sim/core agenda', () => {
  it('pops in (time, scheduling order) order whatever the insertion order', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 200 }), (times) => {
      const q = new EventQueue<{ at: number, seq: number }>()
      times.forEach((at, seq) => q.push({ at, seq }))
      const out: Array<{ at: number, seq: number }> = []
      for (let e = q.pop(); e !== undefined; e = q.pop()) out.push(e)
      const expected = times.map((at, seq) => ({ at, seq })).sort((x, y) => x.at - y.at || x.seq - y.seq)
      assert.deepEqual(out, expected)
    }))
  })

  it('runs callbacks in virtual time, lets them schedule more, and honours cancel, until and stop', () => {
    const sim = new Simulator(1)
    const log: string[] = []
    sim.at(10, () => { log.push(`a@${sim.now}`); sim.after(5, () => log.push(`c@${sim.now}`)) })
    sim.at(10, () => log.push(`b@${sim.now}`))
    const cancelled = sim.at(12, () => log.push('never'))
    sim.cancel(cancelled)
    sim.at(100, () => log.push('late'))
    assert.equal(sim.run({ until: 50 }), 50)
    assert.deepEqual(log, ['a@10', 'b@10', 'c@15'])
    sim.at(60, () => log.push('x'))
    sim.at(70, () => log.push('y'))
    sim.run({ until: 1000, stop: () => log.includes('x') })
    assert.equal(sim.now, 60)
    assert.deepEqual(log.slice(3), ['x'])
    sim.at(1, () => log.push(`past@${sim.now}`))
    sim.run({ until: 65 })
    assert.deepEqual(log.slice(4), ['past@60'], 'an event in the past runs now, never back in time')
  })
})
