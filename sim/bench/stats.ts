/** Small helpers shared by the benchmarks: percentiles and formatting. */

/** The p-th percentile (0..100) of samples, nearest-rank; NaN for no samples. */
export function percentile (sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]
}

export interface LatencySummary {
  /** ms */
  p50: number
  /** ms */
  p99: number
  /** ms */
  max: number
}

export function summarize (samplesMs: number[]): LatencySummary {
  const s = Float64Array.from(samplesMs).sort()
  return { p50: round(percentile(s, 50)), p99: round(percentile(s, 99)), max: round(s[s.length - 1] ?? NaN) }
}

export function round (x: number, digits = 3): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

export function fmtRate (perSecond: number): string {
  if (perSecond >= 1_000_000) return `${(perSecond / 1_000_000).toFixed(2)}M/s`
  return perSecond >= 1000 ? `${(perSecond / 1000).toFixed(1)}k/s` : `${perSecond.toFixed(0)}/s`
}
