/**
 * A circuit breaker per peer (M. Nygard, "Release It!", 2nd ed., §5.2 Circuit Breaker):
 * closed while deliveries succeed; open after `threshold` consecutive failures, so that no
 * delivery is tried for `coolDownMs`; then half-open, when one delivery is let through as a
 * probe: its success closes the breaker, its failure opens it again for another cool-down.
 * Pure: the caller passes the time.
 */

export type BreakerState = 'closed' | 'open' | 'half-open'

export interface BreakerConfig {
  /** Consecutive failures that open the breaker, ≥ 1. */
  threshold: number
  /** How long an open breaker refuses deliveries before a probe, ms. */
  coolDownMs: number
}

export class CircuitBreaker {
  private failures = 0
  private openedAt = -Infinity
  private opened = false
  /** A half-open probe is out: no other delivery until it is answered. */
  private probing = false
  /** Times the breaker opened, for metrics. */
  trips = 0

  constructor (private readonly config: BreakerConfig) {}

  /** The state at `now`: an open breaker whose cool-down has passed is half-open. */
  state (now: number): BreakerState {
    if (!this.opened) return 'closed'
    return now - this.openedAt >= this.config.coolDownMs ? 'half-open' : 'open'
  }

  /** Consecutive failures counted so far. */
  get consecutiveFailures (): number {
    return this.failures
  }

  /** When an open breaker turns half-open, ms; undefined when closed. */
  reopensAt (): number | undefined {
    return this.opened ? this.openedAt + this.config.coolDownMs : undefined
  }

  /**
   * Whether a delivery may start at `now`. In the half-open state only one may (the probe),
   * until {@link success} or {@link failure} answers it.
   */
  allows (now: number): boolean {
    const s = this.state(now)
    if (s === 'closed') return true
    if (s === 'open' || this.probing) return false
    this.probing = true
    return true
  }

  /** A delivery was answered: the peer is healthy. Closes the breaker. */
  success (): void {
    this.failures = 0
    this.opened = false
    this.probing = false
  }

  /**
   * A delivery failed (no answer: the stream or connection broke, or it timed out).
   * @returns true when this failure opened the breaker
   */
  failure (now: number): boolean {
    this.failures++
    const wasProbe = this.probing
    this.probing = false
    if (wasProbe || (!this.opened && this.failures >= this.config.threshold)) {
      const trip = !this.opened || wasProbe
      this.opened = true
      this.openedAt = now
      if (trip) this.trips++
      return trip
    }
    return false
  }

  /** Ends the cool-down at once (e.g. membership saw the peer come back): the next delivery is a probe. */
  halfOpen (now: number): void {
    if (this.opened) this.openedAt = Math.min(this.openedAt, now - this.config.coolDownMs)
  }
}
