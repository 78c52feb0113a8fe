/**
 * The merge rule of an entry (SPEC.md, "Merge rule").
 *
 * Versions are partially ordered by `≺`: `v ≺ w` when `clock(v) < clock(w)` (w has seen
 * v), or the clocks are equal and `w` has the higher priority. An entry holds the
 * *maximal* versions of everything it has received (an antichain: versions no other
 * version has seen), so merging is "union, then keep the maxima", which is commutative,
 * associative and idempotent for any inputs (the maxima of a union of finite sets of a
 * partial order do not depend on grouping or order).
 *
 * Readers see the highest-priority maximal version. Priority is a total order: higher
 * HLC timestamp, then higher writer node id, then higher write sequence, then the
 * canonical encoding (only reachable with forged data). Because an HLC timestamp grows
 * along causality, a version always has a higher priority than any version it has seen,
 * so every replica picks the same winner whatever it received first.
 */
import { compareHlc } from './hlc.js'
import type { Version } from './types.js'
import { clockGet, compareClocks, mergeClocks, EMPTY_CLOCK, type NodeId, type VectorClock } from './vector-clock.js'
import { canonicalVersionBytes, compareBytes } from './wire.js'

/** A version's dot: its writer and the writer's sequence number for that write. */
export function dotOf (v: Version): { by: NodeId, seq: number } {
  return { by: v.by, seq: clockGet(v.clock, v.by) }
}

/** The writer's sequence number of this write (`clock[by]`). */
export function seqOf (v: Version): number {
  return clockGet(v.clock, v.by)
}

/**
 * Priority of concurrent versions: positive when `a` wins over `b`. Higher HLC timestamp,
 * then higher writer node id, then higher write sequence, then the larger canonical
 * encoding; 0 only for identical versions.
 */
export function comparePriority (a: Version, b: Version): number {
  if (a === b) return 0
  const h = compareHlc(a.hlc, b.hlc)
  if (h !== 0) return h
  if (a.by !== b.by) return a.by > b.by ? 1 : -1
  const s = seqOf(a) - seqOf(b)
  if (s !== 0) return s > 0 ? 1 : -1
  return Math.sign(compareBytes(canonicalVersionBytes(a), canonicalVersionBytes(b)))
}

/** Whether two versions are the same write with the same content. */
export function sameVersion (a: Version, b: Version): boolean {
  return comparePriority(a, b) === 0
}

/** `a ≺ b`: b supersedes a (has seen it, or has the same clock and higher priority). */
export function precedes (a: Version, b: Version): boolean {
  const order = compareClocks(a.clock, b.clock)
  if (order === 'before') return true
  if (order === 'equal') return comparePriority(a, b) < 0
  return false
}

/**
 * The maximal versions of the union of `a` and `b`, sorted by descending priority (the
 * winner first). Identical versions appear once.
 */
export function mergeVersions (a: readonly Version[], b: readonly Version[]): Version[] {
  const all = [...a, ...b]
  const out: Version[] = []
  for (let i = 0; i < all.length; i++) {
    const v = all[i]
    let keep = true
    for (let j = 0; j < all.length && keep; j++) {
      if (i === j) continue
      const w = all[j]
      if (precedes(v, w)) keep = false
      // identical copies: keep the first occurrence only
      else if (j < i && sameVersion(v, w)) keep = false
    }
    if (keep) out.push(v)
  }
  return out.sort((x, y) => comparePriority(y, x))
}

/** Whether two antichains (each sorted by priority) hold the same versions. */
export function sameVersions (a: readonly Version[], b: readonly Version[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (!sameVersion(a[i], b[i])) return false
  return true
}

/** The join of the clocks of all versions: what a new write to the entry has seen. */
export function joinedClock (versions: readonly Version[]): VectorClock {
  let c = EMPTY_CLOCK
  for (const v of versions) c = mergeClocks(c, v.clock)
  return c
}
