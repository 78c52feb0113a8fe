import assert from 'node:assert/strict'
import { runTrial } from '../../../sim/swim/runner.js'
import { parseScenario } from '../../../sim/swim/scenario.js'
import type { ScenarioInput } from '../../../sim/swim/scenario.js'

/** A 50-member cluster (lan preset) with the given faults; joins spread over 2 s. */
function run (overrides: Partial<ScenarioInput>, seed = 11): ReturnType<typeof runTrial> {
  return runTrial(parseScenario({ name: 'test', nodes: 50, seed, durationMs: 60_000, join: { spreadMs: 2000 }, ...overrides }), 0)
}

describe('sim/swim: the real protocol on the simulated network, N = 50', () => {
  it('converges after the joins: every member holds every other live', () => {
    const r = run({ durationMs: 20_000 })
    assert.notEqual(r.joinConvergenceMs, null)
    assert.ok((r.joinConvergenceMs ?? Infinity) < 30_000, `converged after ${r.joinConvergenceMs} ms`)
    assert.equal(r.falsePositives, 0)
    assert.equal(r.timeline[r.timeline.length - 1].knowledge, 1)
    // steady state: about one probe and one ack per member per second, not more than a few
    const rate = r.steady.msgsPerMemberPerSec ?? Infinity
    assert.ok(rate > 1.5 && rate < 4, `${rate} messages per member per second`)
  })

  it('detects crashed members: every survivor marks each dead, within the lan suspicion bounds', () => {
    const r = run({ events: [{ action: 'crash', atMs: 5000, count: 1 }, { action: 'crash', atMs: 30_000, count: 2 }] })
    assert.equal(r.crashes.length, 3)
    for (const c of r.crashes) {
      assert.notEqual(c.allDetectionMs, null, `${c.node} not detected by everyone`)
      // Min at N = 50 is 6.8 s; Max is 6 × Min; confirmations bring it towards Min
      assert.ok((c.allDetectionMs ?? 0) > 6000 && (c.allDetectionMs ?? Infinity) < 40_000, `${c.node}: ${c.allDetectionMs} ms`)
    }
    assert.equal(r.falsePositives, 0)
  })

  it('declares nobody dead falsely under 10% packet loss, and still detects a crash', () => {
    const r = run({ network: { loss: 0.1, latency: { type: 'lognormal', medianMs: 2, sigma: 0.8 } }, events: [{ action: 'crash', atMs: 30_000, count: 1 }] })
    assert.notEqual(r.joinConvergenceMs, null)
    assert.equal(r.falsePositives, 0)
    assert.ok(r.network.dropped.loss > 1000, 'the loss was real')
    assert.ok(r.swim.pingReqs > 0, 'indirect probes covered for lost pings')
    assert.notEqual(r.crashes[0].allDetectionMs, null)
  })

  it('declares nobody dead when members stall for less than the suspicion timeout', () => {
    const r = run({ events: [{ action: 'pause', atMs: 5000, count: 3, durationMs: 4000 }] })
    assert.equal(r.pauses.length, 3)
    for (const p of r.pauses) assert.equal(p.declaredDeadBy, 0, `${p.node} declared dead`)
    assert.equal(r.falsePositives, 0)
    assert.equal(r.deathsWhilePaused, 0)
  })

  it('heals after a partition: both halves hold each other live again', () => {
    const r = run({ durationMs: 120_000, events: [{ action: 'partition', atMs: 5000, fraction: 0.5 }, { action: 'heal', atMs: 50_000 }] })
    assert.ok(r.deadDeclarations > 0, 'the halves declared each other dead during the split')
    assert.equal(r.heals.length, 1)
    assert.notEqual(r.heals[0].convergenceMs, null, 'not healed within 70 s')
    assert.equal(r.falsePositives, 0)
  })

  it('replays exactly from its seed', () => {
    const scenario = { events: [{ action: 'crash' as const, atMs: 3000, count: 1 }], durationMs: 15_000, network: { loss: 0.05 } }
    const a = run(scenario, 5)
    const b = run(scenario, 5)
    const c = run(scenario, 6)
    assert.equal(a.traceHash, b.traceHash)
    assert.deepEqual({ ...a, wallMs: 0 }, { ...b, wallMs: 0 })
    assert.notEqual(a.traceHash, c.traceHash)
  })
})
