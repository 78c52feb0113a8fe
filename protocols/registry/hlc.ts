/**
 * Hybrid logical clock (Kulkarni, Demirbas, Madappa, Avva, Leone, "Logical Physical
 * Clocks", OPODIS 2014: the HLC algorithm, its "send or local event" and "receive event"
 * rules). A timestamp is `(wall, logical)`: `wall` is the largest physical time seen (ms
 * since the epoch), `logical` counts events that share it. HLC timestamps respect
 * causality (e → f implies hlc(e) < hlc(f)) while staying within the clock drift of
 * physical time, which is why the registry uses them to break ties between concurrent
 * versions: a version written after seeing another always has the larger timestamp.
 *
 * Pure: the caller passes the physical time.
 */

export interface HlcTimestamp {
  /** Physical component, ms since the epoch. */
  readonly wall: number
  /** Logical component: events within the same `wall`, from 0. */
  readonly logical: number
}

export const HLC_ZERO: HlcTimestamp = Object.freeze({ wall: 0, logical: 0 })

/** Lexicographic order on `(wall, logical)`: negative, zero or positive. */
export function compareHlc (a: HlcTimestamp, b: HlcTimestamp): number {
  if (a.wall !== b.wall) return a.wall < b.wall ? -1 : 1
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1
  return 0
}

/** The larger of two timestamps. */
export function maxHlc (a: HlcTimestamp, b: HlcTimestamp): HlcTimestamp {
  return compareHlc(a, b) >= 0 ? a : b
}

/**
 * Timestamp for a local or send event: `wall' = max(wall, physicalNow)`; `logical` is
 * incremented when `wall` did not move, else reset to 0. Always greater than `last`.
 */
export function hlcTick (last: HlcTimestamp, physicalNow: number): HlcTimestamp {
  const wall = Math.max(last.wall, Math.floor(physicalNow))
  return { wall, logical: wall === last.wall ? last.logical + 1 : 0 }
}

/**
 * Timestamp for receiving `remote`: greater than both `last` and `remote`. A remote
 * timestamp more than `maxDriftMs` ahead of `physicalNow` is not adopted (the event is
 * treated as a local tick): one peer with a wrong clock must not drag every clock into
 * its future (Kulkarni et al. bound `wall - physical` by the drift ε for this reason).
 */
export function hlcReceive (last: HlcTimestamp, remote: HlcTimestamp, physicalNow: number, maxDriftMs = Number.POSITIVE_INFINITY): HlcTimestamp {
  const pt = Math.floor(physicalNow)
  if (remote.wall - pt > maxDriftMs) return hlcTick(last, pt)
  const wall = Math.max(last.wall, remote.wall, pt)
  let logical: number
  if (wall === last.wall && wall === remote.wall) logical = Math.max(last.logical, remote.logical) + 1
  else if (wall === last.wall) logical = last.logical + 1
  else if (wall === remote.wall) logical = remote.logical + 1
  else logical = 0
  return { wall, logical }
}

/** A hybrid logical clock holding its last timestamp. */
export class HybridLogicalClock {
  private current: HlcTimestamp
  private readonly maxDriftMs: number

  /**
   * @param initial the last timestamp issued before (e.g. restored from disk), so that
   *   timestamps stay monotonic across restarts
   * @param maxDriftMs remote timestamps further ahead of physical time are not adopted
   */
  constructor (initial: HlcTimestamp = HLC_ZERO, maxDriftMs = Number.POSITIVE_INFINITY) {
    this.current = initial
    this.maxDriftMs = maxDriftMs
  }

  /** The last timestamp issued or adopted. */
  get last (): HlcTimestamp {
    return this.current
  }

  /** A new timestamp for a local event at physical time `physicalNow` (ms). */
  tick (physicalNow: number): HlcTimestamp {
    this.current = hlcTick(this.current, physicalNow)
    return this.current
  }

  /** Adopts a received timestamp; returns the new local timestamp. */
  receive (remote: HlcTimestamp, physicalNow: number): HlcTimestamp {
    this.current = hlcReceive(this.current, remote, physicalNow, this.maxDriftMs)
    return this.current
  }

  /** Raises the clock to at least `ts` without an event (used when restoring state). */
  observe (ts: HlcTimestamp): void {
    if (compareHlc(ts, this.current) > 0) this.current = ts
  }
}
