/**
 * The charts of a SWIM run: a trial's timeline (membership knowledge, load per member)
 * and, for a sweep, the figures against cluster size.
 */
import { svgDocument } from './svg.js'
import type { Chart } from './svg.js'
import type { RunReport } from './report.js'
import type { TrialResult } from './runner.js'

/** Knowledge and load over virtual time for one trial, with the faults marked. */
export function trialSvg (title: string, r: TrialResult): string {
  const markers = r.faults.map((f) => ({ x: f.atMs / 1000, label: f.nodes.length === 1 ? `${f.action} ${f.nodes[0]}` : f.action }))
  if (r.joinConvergenceMs !== null) markers.unshift({ x: r.joinConvergenceMs / 1000, label: 'converged' })
  const knowledge: Chart = {
    title: `${title}: membership knowledge`,
    xLabel: 'virtual time (s)',
    yLabel: 'pairs holding each other live (%)',
    series: [{ name: 'knowledge %', points: r.timeline.map((s) => [s.t, s.knowledge * 100]) }],
    markers
  }
  const load: Chart = {
    title: `${title}: load per member`,
    xLabel: 'virtual time (s)',
    yLabel: 'per member per second',
    series: [
      { name: 'messages', points: r.timeline.map((s) => [s.t, s.msgsPerMemberPerSec]) },
      { name: 'kilobytes', points: r.timeline.map((s) => [s.t, s.bytesPerMemberPerSec / 1000]) }
    ],
    markers
  }
  return svgDocument([knowledge, load])
}

/** Steady-state load and timing figures against cluster size. */
export function sweepSvg (report: RunReport): string {
  const runs = report.runs
  const load: Chart = {
    title: `${report.scenario.name}: steady-state load per member`,
    xLabel: 'members (N)',
    yLabel: 'per member per second',
    dots: true,
    series: [
      { name: 'messages', points: runs.map((r) => [r.nodes, r.summary.msgsPerMemberPerSec ?? NaN]) },
      { name: 'kilobytes', points: runs.map((r) => [r.nodes, (r.summary.bytesPerMemberPerSec ?? NaN) / 1000]) }
    ]
  }
  const timing: Chart = {
    title: `${report.scenario.name}: convergence and detection`,
    xLabel: 'members (N)',
    yLabel: 'seconds',
    dots: true,
    series: [
      { name: 'join convergence p50', points: runs.map((r) => [r.nodes, (r.summary.joinConvergenceMs.p50 ?? NaN) / 1000]) },
      { name: 'detection p50', points: runs.map((r) => [r.nodes, (r.summary.detectionMs.p50 ?? NaN) / 1000]) },
      { name: 'detection p99', points: runs.map((r) => [r.nodes, (r.summary.detectionMs.p99 ?? NaN) / 1000]) }
    ]
  }
  return svgDocument([load, timing])
}
