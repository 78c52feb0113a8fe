/**
 * The registry's protocol logic (src/registry replica and sessions) on the simulated
 * network (sim/registry): converges after a partition with changes on both sides, never
 * brings a removed agent back, and replays exactly under the same seed.
 */
import assert from 'node:assert/strict'
import { defaultOptions, runRegistrySim, type RegistrySimOptions } from '../../sim/registry/runner.js'

function small (seed: number): RegistrySimOptions {
  return {
    ...defaultOptions(),
    nodes: 6,
    agents: 300,
    seed,
    // each replica collects a tombstone at its own maintenance round (every 30 s ± 20%),
    // once every member acknowledged it: about two rounds after the removal reached everyone
    steadyMs: 60_000,
    partition: { atMs: 1000, durationMs: 20_000, deploys: 30, removals: 30, updates: 30 }
  }
}

describe('registry on the simulated network', function () {
  this.timeout(30_000)

  it('converges after a partition with removals on both sides, removed agents staying removed, then collects the tombstones', () => {
    const r = runRegistrySim(small(3))
    assert.equal(r.correct, true, r.mismatches.join('; '))
    assert.equal(r.agentsAtEnd, 300)
    assert.ok(r.healConvergence?.viewMs != null && r.healConvergence.viewMs < 5000, JSON.stringify(r.healConvergence))
    assert.ok(r.healConvergence?.digestMs != null, 'identical digests in the end')
    assert.equal(r.tombstonesAtEnd, 0, 'every tombstone acknowledged and collected')
    assert.ok(r.phases.steady.syncBytesPerNodePerSec > 0, 'anti-entropy keeps running in steady state')
  })

  it('converges from empty replicas by gossip alone when agents are deployed', () => {
    const r = runRegistrySim({ ...defaultOptions(), nodes: 30, agents: 60, preload: false, deploySpreadMs: 1000, links: 8, steadyMs: 0, seed: 5 })
    assert.equal(r.correct, true, r.mismatches.join('; '))
    assert.ok(r.initialConvergence?.viewMs != null && r.initialConvergence.viewMs < 1000, JSON.stringify(r.initialConvergence))
    assert.equal(r.phases.deploy.syncBytesPerNodePerSec, 0, 'no anti-entropy round was needed (none due yet)')
  })

  it('replays exactly under the same seed, and differently under another', () => {
    const a = runRegistrySim({ ...small(11), steadyMs: 0 })
    const b = runRegistrySim({ ...small(11), steadyMs: 0 })
    const c = runRegistrySim({ ...small(12), steadyMs: 0 })
    assert.equal(a.traceHash, b.traceHash)
    assert.deepEqual(a.healConvergence, b.healConvergence)
    assert.notEqual(a.traceHash, c.traceHash)
  })
})
