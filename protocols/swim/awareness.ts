/**
 * Local health awareness (Lifeguard §IV-A, "Local Health Multiplier"): a node that cannot
 * keep up (CPU starved, stalled event loop, saturated link) sees acks arrive late or not at
 * all and would accuse healthy members. It keeps a score of its own health, and stretches
 * its probe interval and probe timeout by `score + 1`, so a slow node accuses more slowly.
 *
 * Raised by: a failed probe for which the helpers' nacks are missing (or, without helpers,
 * any failed probe), an ack that arrives after the timeout, refuting a suspicion of oneself,
 * and an external load signal (the host's event-loop delay). Lowered by: a successful probe.
 */

/** The score change after one probe (Lifeguard §IV-A; memberlist's probeNode). */
export interface ProbeOutcome {
  /** An ack (direct or relayed) arrived before the probe ended. */
  acked: boolean
  /** The ack came after the direct probe timeout. */
  late: boolean
  /** Nacks expected: helpers asked with the nack flag. */
  expectedNacks: number
  /** Nacks received before the probe ended. */
  nacks: number
}

/**
 * The health-score change for one probe: −1 for a timely ack; +1 for a late ack; for a
 * failed probe +1 per missing nack (helpers that did not even answer suggest the fault is
 * ours), or +1 if no helper could be asked.
 */
export function probeHealthDelta (outcome: ProbeOutcome): number {
  if (outcome.acked) return outcome.late ? 1 : -1
  if (outcome.expectedNacks > 0) return Math.max(0, outcome.expectedNacks - outcome.nacks)
  return 1
}

/** A node's local health score, 0 (healthy) to `max − 1`. */
export class Awareness {
  private readonly max: number
  private readonly loadStepMs: number
  private internal = 0
  private external = 0

  /**
   * @param max S, the multiplier's upper bound (config `awarenessMaxMultiplier`)
   * @param loadStepMs event-loop delay worth one point, ms; 0 ignores the load signal
   */
  constructor (max: number, loadStepMs: number) {
    this.max = Math.max(1, Math.floor(max))
    this.loadStepMs = loadStepMs
  }

  /** The score: protocol-observed plus load, clamped to [0, max − 1]. */
  get score (): number {
    return Math.min(this.max - 1, this.internal + this.external)
  }

  /** Adds `delta` to the protocol-observed part of the score, clamped to [0, max − 1]. */
  applyDelta (delta: number): void {
    this.internal = Math.min(this.max - 1, Math.max(0, this.internal + delta))
  }

  /**
   * Sets the external load signal: e.g. the host's event-loop delay (p99 over the last
   * second), ms. Each `loadStepMs` of delay adds one point. Negative or non-finite input
   * counts as 0.
   */
  setLoad (eventLoopDelayMs: number): void {
    if (this.loadStepMs <= 0 || !Number.isFinite(eventLoopDelayMs) || eventLoopDelayMs <= 0) {
      this.external = 0
      return
    }
    this.external = Math.min(this.max - 1, Math.floor(eventLoopDelayMs / this.loadStepMs))
  }

  /** `timeoutMs × (score + 1)`, ms. */
  scale (timeoutMs: number): number {
    return timeoutMs * (this.score + 1)
  }
}
