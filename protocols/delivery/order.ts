/**
 * The receiving side of per-pair FIFO and of duplicate detection (SPEC.md §3). A node keeps,
 * per pair (sender, receiver), the highest `order` it accepted (`last`, 0 when it holds no
 * state for the pair). A delivered entry carries its own `order` and `after`, the order of
 * the nearest earlier entry of the pair still pending at the sender (0: none).
 *
 * Orders of one pair are accepted in increasing order, so:
 * - `order ≤ last`: accepted before (a re-send after a lost ack), or overtaken by a later
 *   entry after the sender gave this one up: look the message id up in the seen set.
 * - `after > last`: its predecessor has not arrived yet: refuse it (`out-of-order`); the
 *   sender resends in order.
 * - otherwise: new; accept it and set `last = order`.
 */

/** What the receiver does with a delivered entry, before its seen-set lookup. */
export type Admission = 'new' | 'seen-before' | 'out-of-order'

/**
 * @param last highest order accepted for the pair, or 0 (no state)
 * @param order the entry's order (> 0)
 * @param after order of its pending predecessor at the sender, or 0
 */
export function admit (last: number, order: number, after: number): Admission {
  if (order <= last) return 'seen-before'
  if (after > last) return 'out-of-order'
  return 'new'
}

/** Bits of a delivered entry's `flags` (protocols/fipa/SPEC.md §4.2). */
export const DELIVER_FLAGS = {
  /** Replayed from a dead-letter queue: look the id up in the seen set even when the order is new. */
  replay: 1
} as const

/** Orders are run × 2^32 + n: a node counts runs (starts) and, within a run, entries. */
export const ORDERS_PER_RUN = 2 ** 32

/** Largest run whose orders stay exact integers (2^53 / 2^32). */
export const MAX_RUN = 2 ** 21 - 1

/**
 * Hands out a node's orders: increasing across restarts as long as `run` is (the node
 * persists its run counter and adds one at each start).
 * @throws RangeError past {@link MAX_RUN} runs or 2^32 orders in one run
 */
export class OrderCounter {
  private n = 0

  constructor (readonly run: number) {
    if (!Number.isInteger(run) || run < 1 || run > MAX_RUN) throw new RangeError(`run must be an integer 1..${MAX_RUN}, got ${run}`)
  }

  next (): number {
    if (++this.n >= ORDERS_PER_RUN) throw new RangeError('more than 2^32 orders in one run')
    return this.run * ORDERS_PER_RUN + this.n
  }
}

/** An order as a fixed-width key that sorts like the number (14 hex digits: 2^56 > 2^53). */
export function orderKey (order: number): string {
  return order.toString(16).padStart(14, '0')
}

/** The inverse of {@link orderKey}; NaN when `key` is not one. */
export function parseOrderKey (key: string): number {
  return /^[0-9a-f]{14}$/.test(key) ? parseInt(key, 16) : NaN
}
