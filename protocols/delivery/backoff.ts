/**
 * Retry delays: capped exponential backoff with full jitter (M. Brooker, "Exponential
 * Backoff And Jitter", AWS Architecture Blog, 2015): the n-th retry waits a uniformly random
 * time in [0, min(cap, base × factor^(n-1))). Full jitter spreads the retries of many
 * senders that failed together (a node that restarts) instead of bunching them.
 */

/** Backoff settings, all in ms except `factor`. */
export interface BackoffConfig {
  /** Ceiling of the first retry's delay, ms. */
  baseMs: number
  /** Growth of the ceiling per retry, ≥ 1. */
  factor: number
  /** Largest ceiling, ms. */
  capMs: number
}

/**
 * The delay before retry number `attempt` (1 for the first retry), ms.
 * @param random a uniform source in [0, 1) (seeded in tests and in the simulator)
 * @throws RangeError for an attempt below 1
 */
export function backoffDelay (attempt: number, config: BackoffConfig, random: () => number): number {
  if (!(attempt >= 1)) throw new RangeError(`attempt must be ≥ 1, got ${attempt}`)
  return random() * backoffCeiling(attempt, config)
}

/** The upper bound of {@link backoffDelay} for `attempt`, ms: min(cap, base × factor^(attempt-1)). */
export function backoffCeiling (attempt: number, config: BackoffConfig): number {
  // Past ~1000 retries factor^n overflows to Infinity; min() keeps the cap.
  return Math.min(config.capMs, config.baseMs * Math.pow(config.factor, attempt - 1))
}
