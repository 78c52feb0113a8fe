/**
 * Vector clocks (Fidge 1988; Mattern 1989, "Virtual Time and Global States of
 * Distributed Systems", §4): one counter per node, compared pointwise.
 *
 * Representation: an array of `[node, counter]` pairs sorted by node id (JavaScript
 * string order, i.e. UTF-16 code units), counters positive safe integers, no node twice.
 * A node that is absent counts 0. This canonical form makes equal clocks encode to equal
 * bytes (digests hash them) and keeps the common one- or two-node clock tiny.
 */

/** A node of the cluster: its libp2p PeerId as a string. */
export type NodeId = string

/** `[node, counter]` pairs sorted by node, counters ≥ 1. See the module comment. */
export type VectorClock = ReadonlyArray<readonly [NodeId, number]>

/**
 * How clock `a` relates to clock `b`: `before` (a < b: every counter ≤, one <), `after`
 * (a > b), `equal`, or `concurrent` (each has a counter greater than the other's).
 */
export type ClockOrder = 'before' | 'after' | 'equal' | 'concurrent'

export const EMPTY_CLOCK: VectorClock = Object.freeze([]) as VectorClock

/** The counter of `node` in `clock` (0 when absent). O(log n). */
export function clockGet (clock: VectorClock, node: NodeId): number {
  let lo = 0
  let hi = clock.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const key = clock[mid][0]
    if (key === node) return clock[mid][1]
    if (key < node) lo = mid + 1
    else hi = mid - 1
  }
  return 0
}

/** Compares two clocks in one merge-join pass, O(|a| + |b|). */
export function compareClocks (a: VectorClock, b: VectorClock): ClockOrder {
  let aGreater = false
  let bGreater = false
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i][0] < b[j][0])) {
      aGreater = true
      i++
    } else if (i >= a.length || b[j][0] < a[i][0]) {
      bGreater = true
      j++
    } else {
      if (a[i][1] > b[j][1]) aGreater = true
      else if (a[i][1] < b[j][1]) bGreater = true
      i++
      j++
    }
    if (aGreater && bGreater) return 'concurrent'
  }
  if (aGreater) return 'after'
  if (bGreater) return 'before'
  return 'equal'
}

/** `a ≤ b` pointwise (before or equal). */
export function clockLeq (a: VectorClock, b: VectorClock): boolean {
  const order = compareClocks(a, b)
  return order === 'before' || order === 'equal'
}

/** Pointwise maximum: the least clock that is ≥ both. Commutative, associative, idempotent. */
export function mergeClocks (a: VectorClock, b: VectorClock): VectorClock {
  if (a.length === 0) return b
  if (b.length === 0) return a
  const out: Array<readonly [NodeId, number]> = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i][0] < b[j][0])) {
      out.push(a[i++])
    } else if (i >= a.length || b[j][0] < a[i][0]) {
      out.push(b[j++])
    } else {
      out.push(a[i][1] >= b[j][1] ? a[i] : b[j])
      i++
      j++
    }
  }
  return out
}

/**
 * Advances `node`'s counter: to `counter` when given (it must exceed the current one,
 * e.g. a node-wide write sequence), else by one. Returns a new clock.
 * @throws RangeError when `counter` does not exceed the current counter.
 */
export function incrementClock (clock: VectorClock, node: NodeId, counter?: number): VectorClock {
  const current = clockGet(clock, node)
  const next = counter ?? current + 1
  if (!Number.isSafeInteger(next) || next <= current) {
    throw new RangeError(`counter of ${node} must exceed ${current}, got ${next}`)
  }
  const out: Array<readonly [NodeId, number]> = []
  let placed = false
  for (const pair of clock) {
    if (!placed && pair[0] >= node) {
      out.push([node, next])
      placed = true
      if (pair[0] === node) continue
    }
    out.push(pair)
  }
  if (!placed) out.push([node, next])
  return out
}

/** Whether two clocks are identical. */
export function clocksEqual (a: VectorClock, b: VectorClock): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    if (a[i][0] !== b[i][0] || a[i][1] !== b[i][1]) return false
  }
  return true
}

/**
 * Builds a canonical clock from a `{ node: counter }` record (zero counters dropped).
 * @throws RangeError on a counter that is not a non-negative safe integer.
 */
export function clockFromRecord (record: Readonly<Record<NodeId, number>>): VectorClock {
  const out: Array<readonly [NodeId, number]> = []
  for (const node of Object.keys(record).sort(compareNodeIds)) {
    const counter = record[node]
    if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError(`counter of ${node} must be a non-negative integer`)
    if (counter > 0) out.push([node, counter])
  }
  return out
}

/** The clock as a `{ node: counter }` record (with a null prototype). */
export function clockToRecord (clock: VectorClock): Record<NodeId, number> {
  const out: Record<NodeId, number> = Object.create(null)
  for (const [node, counter] of clock) out[node] = counter
  return out
}

/** Whether `value` is a clock in canonical form (see {@link VectorClock}). */
export function isCanonicalClock (clock: VectorClock): boolean {
  for (let i = 0; i < clock.length; i++) {
    const counter = clock[i][1]
    if (!Number.isSafeInteger(counter) || counter < 1) return false
    if (i > 0 && !(clock[i - 1][0] < clock[i][0])) return false
  }
  return true
}

/** The order node ids are sorted in everywhere in the registry (UTF-16 code units). */
export function compareNodeIds (a: NodeId, b: NodeId): number {
  return a < b ? -1 : a > b ? 1 : 0
}
