/**
 * The merge rule of an entry (SPEC.md §3).
 *
 * An entry is a set of *registers*, one per writer: only the writer's own later write
 * supersedes a version (`v ≺ w` when they have the same writer and `w` has the higher
 * sequence number, or the same one and the larger canonical encoding, which only a
 * writer signing two versions with one sequence number produces). So no node can
 * supersede, and so remove or re-point, what another node published. `≺` is a strict
 * partial order; an entry holds the maximal versions of everything it received (the
 * latest version of each writer) and merging is "union, then keep the maxima", which is
 * commutative, associative and idempotent for any inputs.
 *
 * Readers see the version with the highest priority, a total order: a live version
 * before a tombstone; between live versions of different hosts, the earlier
 * registration (`registeredAt`), then the lower node id; between tombstones, the later
 * HLC timestamp, then the lower node id; then the higher sequence number and the larger
 * canonical encoding.
 */
import { compareHlc } from './hlc.js'
import type { NodeId, Version } from './types.js'
import { canonicalVersionBytes, compareBytes } from './wire.js'

/** A version's dot: its writer and the writer's sequence number for that write. */
export function dotOf (v: Version): { by: NodeId, seq: number } {
  return { by: v.by, seq: v.seq }
}

/** Order of a writer's own versions: by sequence number, then canonical bytes. */
function compareWithinWriter (a: Version, b: Version): number {
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1
  return Math.sign(compareBytes(canonicalVersionBytes(a), canonicalVersionBytes(b)))
}

/**
 * Priority for readers, a total order: positive when `a` is shown rather than `b`, 0
 * only for identical versions. See the module comment.
 */
export function comparePriority (a: Version, b: Version): number {
  if (a === b) return 0
  if ((a.record === null) !== (b.record === null)) return a.record !== null ? 1 : -1
  if (a.record !== null && b.record !== null) {
    // the earlier registration keeps the agent id
    if (a.record.registeredAt !== b.record.registeredAt) return a.record.registeredAt < b.record.registeredAt ? 1 : -1
  } else {
    const h = compareHlc(a.hlc, b.hlc)
    if (h !== 0) return h
  }
  if (a.by !== b.by) return a.by < b.by ? 1 : -1
  return compareWithinWriter(a, b)
}

/** Whether two versions are the same write with the same content. */
export function sameVersion (a: Version, b: Version): boolean {
  return a === b || (a.by === b.by && compareWithinWriter(a, b) === 0)
}

/** `a ≺ b`: b supersedes a (a later write of the same writer). */
export function precedes (a: Version, b: Version): boolean {
  return a.by === b.by && compareWithinWriter(a, b) < 0
}

/**
 * The maximal versions of the union of `a` and `b` (the latest of each writer), sorted
 * by descending priority (the winner first). Identical versions appear once.
 */
export function mergeVersions (a: readonly Version[], b: readonly Version[]): Version[] {
  const latest = new Map<NodeId, Version>()
  for (const v of a) keepLatest(latest, v)
  for (const v of b) keepLatest(latest, v)
  return [...latest.values()].sort((x, y) => comparePriority(y, x))
}

function keepLatest (latest: Map<NodeId, Version>, v: Version): void {
  const held = latest.get(v.by)
  if (held === undefined || compareWithinWriter(held, v) < 0) latest.set(v.by, v)
}

/** Whether two antichains (each sorted by priority) hold the same versions. */
export function sameVersions (a: readonly Version[], b: readonly Version[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (!sameVersion(a[i], b[i])) return false
  return true
}
