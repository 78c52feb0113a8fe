import assert from 'node:assert/strict'
import { readdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { percentile, summarize } from '../../../sim/swim/report.js'
import { memberIds, runTrial, trialSeed } from '../../../sim/swim/runner.js'
import { ScenarioError, loadScenario, parseScenario } from '../../../sim/swim/scenario.js'
import { svgDocument, ticks } from '../../../sim/swim/svg.js'

const dir = fileURLToPath(new URL('../../../sim/scenarios/', import.meta.url))

describe('sim/swim scenarios and reports', () => {
  it('parses every scenario file shipped in sim/scenarios', async () => {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json'))
    assert.ok(files.length >= 6)
    for (const f of files) {
      const s = await loadScenario(`${dir}${f}`)
      assert.equal(`${s.name}.json`, f)
    }
  })

  it('names the offending fields of a bad scenario', () => {
    assert.throws(() => parseScenario({ name: 'x', nodes: 1, durationMs: 10 }), (e: unknown) => e instanceof ScenarioError && /nodes/.test(e.message))
    assert.throws(() => parseScenario({ name: 'x', nodes: 5, durationMs: 10, events: [{ action: 'explode', atMs: 1 }] }), (e: unknown) => e instanceof ScenarioError && /events\.0/.test(e.message))
    assert.throws(() => parseScenario({ name: 'x', nodes: 5, durationMs: 10, network: { loss: 2 } }), (e: unknown) => e instanceof ScenarioError && /network\.loss/.test(e.message))
  })

  it('rejects a bad protocol config with the protocol\'s own error', () => {
    const s = parseScenario({ name: 'x', nodes: 5, durationMs: 10, config: { probeTimeoutMs: 5000 } })
    assert.throws(() => runTrial(s, 0), (e: unknown) => e instanceof Error && e.name === 'SwimConfigError')
  })

  it('makes distinct PeerId-shaped member ids', () => {
    const ids = memberIds(10_000, 'peer-id')
    assert.equal(new Set(ids).size, 10_000)
    assert.ok(ids.every((id) => id.length === 52 && id.startsWith('12D3KooW')))
    assert.deepEqual(memberIds(3, 'short'), ['n0', 'n1', 'n2'])
    assert.equal(trialSeed(7, 0), 7)
    assert.notEqual(trialSeed(7, 1), trialSeed(7, 2))
  })

  const pct: Array<[number[], number, number | null]> = [
    [[], 50, null], [[5], 99, 5], [[1, 2, 3, 4], 50, 2], [[1, 2, 3, 4], 99, 4], [[10, 1, 7], 50, 7], [Array.from({ length: 100 }, (_, i) => i + 1), 99, 99]
  ]
  for (const [values, p, expected] of pct) {
    it(`p${p} of [${values.length > 5 ? '1..100' : values.join(',')}] = ${expected}`, () => {
      assert.equal(percentile(values, p), expected)
    })
  }

  it('summarizes trials: detection percentiles across all crashes, failures counted', () => {
    const base = runTrial(parseScenario({ name: 'x', nodes: 8, durationMs: 20_000, events: [{ action: 'crash', atMs: 1000, count: 1 }] }), 0)
    const s = summarize([base, { ...base, joinConvergenceMs: null, crashes: [{ node: 'n1', crashedAtMs: 0, firstDetectionMs: null, allDetectionMs: null }] }])
    assert.equal(s.trials, 2)
    assert.equal(s.joinConvergenceMs.failed, 1)
    assert.equal(s.detectionMs.n, 1)
    assert.equal(s.detectionMs.undetected, 1)
    assert.equal(s.detectionMs.p50, Math.round(base.crashes[0].allDetectionMs ?? NaN))
  })

  it('draws charts as SVG with round ticks', () => {
    assert.deepEqual(ticks(0, 10, 5), [0, 2, 4, 6, 8, 10])
    assert.deepEqual(ticks(0, 1, 4), [0, 0.25, 0.5, 0.75, 1])
    const svg = svgDocument([{ title: 'a < b', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[0, 1], [1, 2], [2, Number.NaN]] }], markers: [{ x: 1, label: 'crash' }] }])
    assert.match(svg, /^<\?xml/)
    assert.match(svg, /<polyline [^>]*points="[^"]+"/)
    assert.match(svg, /a &lt; b/)
    assert.doesNotMatch(svg, /NaN/)
  })
})
