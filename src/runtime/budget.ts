/**
 * Send budgets: how many messages, and bytes, an agent may send per second, and when an
 * agent has been over its budget for so long that it is suspended.
 *
 * Pure arithmetic on a clock the caller passes in (ms): the agent worker runs
 * {@link SendBudget} on `performance.now()` once per call, the runtime runs
 * {@link OverBudgetWatch} on the main thread's clock, and the tests run both on numbers.
 */

/**
 * A token bucket (the metering of RFC 2697 §3, one bucket): it holds up to `burst` tokens
 * and fills at `ratePerSecond`; taking `n` succeeds, and removes them, only when `n` are
 * there. Starts full.
 */
export class TokenBucket {
  private tokens: number
  private last: number

  /**
   * @param ratePerSecond - tokens added per second, > 0
   * @param burst - most tokens held, > 0
   * @param now - the clock's reading at creation, ms
   */
  constructor (readonly ratePerSecond: number, readonly burst: number, now: number) {
    this.tokens = burst
    this.last = now
  }

  /** Tokens held at `now` (refilled, not taken). */
  available (now: number): number {
    this.refill(now)
    return this.tokens
  }

  /** Takes `n` tokens if held at `now`; false (nothing taken) otherwise. */
  take (n: number, now: number): boolean {
    this.refill(now)
    if (this.tokens < n) return false
    this.tokens -= n
    return true
  }

  private refill (now: number): void {
    // A clock read on another thread, or adjusted, may step back: never refill backwards.
    if (now <= this.last) return
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.ratePerSecond / 1000)
    this.last = now
  }
}

/** An agent's send budget, as limits (`AgentLimits` carries the same three fields). */
export interface SendBudgetLimits {
  /** Messages per second, sustained. */
  sendsPerSecond: number
  /** Messages sent at once after a quiet spell (the bucket's size). */
  sendBurst: number
  /** Bytes per second, sustained; also the most bytes sent at once. */
  sendBytesPerSecond: number
}

/**
 * Two token buckets, messages and bytes: a send passes only when both have room, and
 * then takes from both.
 */
export class SendBudget {
  private readonly messages: TokenBucket
  private readonly bytes: TokenBucket

  constructor (limits: SendBudgetLimits, now: number) {
    this.messages = new TokenBucket(limits.sendsPerSecond, limits.sendBurst, now)
    this.bytes = new TokenBucket(limits.sendBytesPerSecond, limits.sendBytesPerSecond, now)
  }

  /** Whether a message of `length` bytes may be sent at `now`; if so, it is charged. */
  allow (length: number, now: number): boolean {
    if (this.messages.available(now) < 1 || this.bytes.available(now) < length) return false
    this.messages.take(1, now)
    this.bytes.take(length, now)
    return true
  }
}

/** How long without a refused send ends a spell over budget, ms. */
export const OVER_BUDGET_QUIET_MS = 1000

/**
 * Decides when an agent has been over its send budget for longer than a grace period.
 * A spell over budget starts at a refused send and lasts while refusals keep coming less
 * than {@link OVER_BUDGET_QUIET_MS} apart; an agent whose spell has lasted `graceMs` is
 * to be suspended. A burst now and then (refusals, then a quiet second) never adds up.
 */
export class OverBudgetWatch {
  private since = -1
  private last = -1

  /** @param graceMs - longest spell over budget tolerated, ms */
  constructor (readonly graceMs: number) {}

  /**
   * Sends were refused at `now` (ms): true when the spell they belong to has lasted at
   * least `graceMs`.
   */
  refused (now: number): boolean {
    if (this.since < 0 || now - this.last > OVER_BUDGET_QUIET_MS) this.since = now
    this.last = now
    return now - this.since >= this.graceMs
  }

  /** How long the current spell has lasted at `now`, ms (0 when none). */
  spellMs (now: number): number {
    if (this.since < 0 || now - this.last > OVER_BUDGET_QUIET_MS) return 0
    return now - this.since
  }

  /** Forgets the current spell (the agent was resumed). */
  reset (): void {
    this.since = -1
    this.last = -1
  }
}
