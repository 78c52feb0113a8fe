/**
 * Summaries across trials (percentiles, totals) and the JSON report of a run or sweep.
 */
import type { Scenario } from './scenario.js'
import type { TrialResult } from './runner.js'

/** Nearest-rank percentile of `values` (p in [0, 100]); null for no values. */
export function percentile (values: readonly number[], p: number): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[Math.min(sorted.length, rank) - 1]
}

function mean (values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length
}

function round (x: number | null, digits = 0): number | null {
  if (x === null) return null
  const f = 10 ** digits
  return Math.round(x * f) / f
}

function stats (values: readonly number[], digits = 0): { n: number, p50: number | null, p99: number | null, max: number | null } {
  return {
    n: values.length,
    p50: round(percentile(values, 50), digits),
    p99: round(percentile(values, 99), digits),
    max: round(values.length === 0 ? null : Math.max(...values), digits)
  }
}

export interface Summary {
  nodes: number
  trials: number
  /** Join convergence (from the first start), ms. `failed`: trials that did not converge. */
  joinConvergenceMs: { n: number, p50: number | null, p99: number | null, max: number | null, failed: number }
  /** Time until every survivor marked a crashed node dead, ms, over all crashes of all trials. */
  detectionMs: { n: number, p50: number | null, p99: number | null, max: number | null, undetected: number }
  /** Time until the first survivor marked a crashed node dead, ms. */
  firstDetectionMs: { n: number, p50: number | null, p99: number | null, max: number | null }
  /** Time from a partition's heal until every node held every other live again, ms. */
  healMs: { n: number, p50: number | null, p99: number | null, max: number | null, unhealed: number }
  falsePositives: number
  deathsWhilePaused: number
  falseSuspicions: number
  falseAccusations: number
  /** Steady-state load, mean over trials. */
  msgsPerMemberPerSec: number | null
  bytesPerMemberPerSec: number | null
  /** Wall-clock time per trial, ms. */
  wallMs: { mean: number | null, max: number | null }
  traceHashes: string[]
}

export function summarize (results: readonly TrialResult[]): Summary {
  const joins = results.map((r) => r.joinConvergenceMs).filter((x): x is number => x !== null)
  const crashes = results.flatMap((r) => r.crashes)
  const detected = crashes.map((c) => c.allDetectionMs).filter((x): x is number => x !== null)
  const first = crashes.map((c) => c.firstDetectionMs).filter((x): x is number => x !== null)
  const heals = results.flatMap((r) => r.heals)
  const healed = heals.map((h) => h.convergenceMs).filter((x): x is number => x !== null)
  const msgs = results.map((r) => r.steady.msgsPerMemberPerSec).filter((x): x is number => x !== null)
  const bytes = results.map((r) => r.steady.bytesPerMemberPerSec).filter((x): x is number => x !== null)
  const walls = results.map((r) => r.wallMs)
  return {
    nodes: results[0]?.nodes ?? 0,
    trials: results.length,
    joinConvergenceMs: { ...stats(joins), failed: results.length - joins.length },
    detectionMs: { ...stats(detected), undetected: crashes.length - detected.length },
    firstDetectionMs: stats(first),
    healMs: { ...stats(healed), unhealed: heals.length - healed.length },
    falsePositives: results.reduce((a, r) => a + r.falsePositives, 0),
    deathsWhilePaused: results.reduce((a, r) => a + r.deathsWhilePaused, 0),
    falseSuspicions: results.reduce((a, r) => a + r.falseSuspicions, 0),
    falseAccusations: results.reduce((a, r) => a + r.falseAccusations, 0),
    msgsPerMemberPerSec: round(mean(msgs), 3),
    bytesPerMemberPerSec: round(mean(bytes), 1),
    wallMs: { mean: round(mean(walls)), max: walls.length === 0 ? null : Math.max(...walls) },
    traceHashes: results.map((r) => r.traceHash)
  }
}

export interface RunReport {
  scenario: Scenario
  /** One entry per cluster size (one entry unless the scenario sweeps). */
  runs: Array<{ nodes: number, summary: Summary, trials: TrialResult[] }>
}
