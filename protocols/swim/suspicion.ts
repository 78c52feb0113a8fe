/**
 * The Lifeguard suspicion timer (Dadgar, Phillips, Currey 2017, §IV-B "Dynamic
 * Suspicion Timeouts"): a suspicion starts with a long timeout, Max, which shrinks towards
 * Min, logarithmically, as independent members confirm it. A member that is merely slow
 * then has time to refute; a member many others cannot reach is declared dead quickly.
 */
import type { MemberId } from './types.js'

/**
 * The minimum suspicion timeout for a cluster of `n` members, ms:
 * `suspicionMult × max(1, log10(max(1, n))) × probeIntervalMs` (memberlist's
 * suspicionTimeout; the floor of 1 keeps the timeout from collapsing to zero below 10
 * members, where log10 is < 1).
 */
export function suspicionMinTimeoutMs (suspicionMult: number, n: number, probeIntervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)))
  return Math.floor(suspicionMult * nodeScale * probeIntervalMs)
}

/** The maximum suspicion timeout, ms: `suspicionMaxTimeoutMult × minMs` (Lifeguard §IV-B). */
export function suspicionMaxTimeoutMs (suspicionMaxTimeoutMult: number, minMs: number): number {
  return Math.floor(suspicionMaxTimeoutMult * minMs)
}

/**
 * K, the number of independent confirmations after which the timeout reaches Min:
 * `suspicionMult − 2`, or 0 when the cluster is too small to supply that many
 * (fewer than K + 2 members: the accused and the accuser do not count).
 */
export function expectedConfirmations (suspicionMult: number, n: number): number {
  const k = Math.max(0, Math.floor(suspicionMult) - 2)
  return n - 2 < k ? 0 : k
}

/**
 * Time left before a suspicion declares its member dead, ms (Lifeguard §IV-B):
 *
 *   timeout = max(Min, Max − (Max − Min) × log(C + 1) / log(K + 1)), floored to whole ms
 *   remaining = timeout − elapsed
 *
 * With K < 1 the timeout is Min. Confirmations beyond K count as K. The result may be
 * negative (the suspicion is overdue).
 *
 * @param confirmations C, independent confirmations received (not counting the accuser)
 * @param k K, confirmations at which the timeout reaches its minimum
 * @param elapsedMs time since the suspicion started, ms
 * @param minMs Min, ms
 * @param maxMs Max, ms (≥ Min)
 */
export function remainingSuspicionTime (confirmations: number, k: number, elapsedMs: number, minMs: number, maxMs: number): number {
  if (k < 1) return minMs - elapsedMs
  const c = Math.min(Math.max(0, confirmations), k)
  const fraction = Math.log(c + 1) / Math.log(k + 1)
  const raw = Math.floor(maxMs - fraction * (maxMs - minMs))
  return Math.max(minMs, raw) - elapsedMs
}

/**
 * One suspicion of one member: who accused it, who confirmed it, and when it expires.
 * Holds no timer: the owner asks for `deadline` and checks it against its clock.
 */
export class Suspicion {
  readonly accuser: MemberId
  readonly incarnation: number
  readonly startedAt: number
  readonly k: number
  readonly minMs: number
  readonly maxMs: number
  private readonly confirmers = new Set<MemberId>()

  /**
   * @param accuser the member whose claim started the suspicion (never counted as a confirmation)
   * @param incarnation the incarnation suspected
   * @param startedAt ms, owner's clock
   */
  constructor (accuser: MemberId, incarnation: number, k: number, minMs: number, maxMs: number, startedAt: number) {
    this.accuser = accuser
    this.incarnation = incarnation
    this.k = k
    this.minMs = minMs
    this.maxMs = Math.max(minMs, maxMs)
    this.startedAt = startedAt
  }

  /** Independent confirmations received so far (at most K are counted). */
  get confirmations (): number {
    return this.confirmers.size
  }

  /**
   * Records that `from` independently suspects the member too.
   * @returns true if it was a new confirmation that shortened the timeout (worth re-gossiping)
   */
  confirm (from: MemberId): boolean {
    if (this.confirmers.size >= this.k) return false
    if (from === this.accuser || this.confirmers.has(from)) return false
    this.confirmers.add(from)
    return true
  }

  /** When the member is to be declared dead, ms (owner's clock). */
  get deadline (): number {
    return this.startedAt + remainingSuspicionTime(this.confirmers.size, this.k, 0, this.minMs, this.maxMs)
  }

  /** Time left at `now`, ms (negative when overdue). */
  remaining (now: number): number {
    return remainingSuspicionTime(this.confirmers.size, this.k, now - this.startedAt, this.minMs, this.maxMs)
  }
}
