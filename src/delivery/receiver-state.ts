/**
 * What the receiving side remembers to accept each message once and each pair in order
 * (protocols/delivery/SPEC.md §3), in the node's LevelDB:
 *
 * - `inbox-pairs`: per (sender, receiver), the highest order accepted and when. Read
 *   through an LRU cache (`getSync` on a miss: a pair's state is needed synchronously, while
 *   the frames of a stream are processed in order). Collected once idle for `retentionMs`:
 *   by then every message it accepted is past its deadline, so none can legitimately come
 *   again (see SPEC.md §3 for why that keeps duplicates out).
 * - `inbox-seen`: the (receiver, message id) of every message accepted from a peer, keyed
 *   under the time bucket of its `createdAt`, so that the key of a message is known from
 *   the message alone (a replay from a dead-letter queue carries a new deadline, not a new
 *   `createdAt`), and whole buckets are dropped once `retentionMs` old: past that every
 *   copy of their messages is past its deadline.
 */
import { LRUCache } from 'lru-cache'
import { decodePairRecord, encodePairRecord } from '../../protocols/delivery/index.js'
import type { StorageOp, Sublevel } from '../storage/index.js'

export interface ReceiverStateOptions {
  /** Pair states cached in memory. @default 100_000 */
  cacheSize?: number
  /** Width of a seen-set time bucket, ms. @default 60_000 */
  bucketMs?: number
  /** The group commit's generation (`GroupCommit.generation`): one pair row per batch. */
  generation?: () => number
  /**
   * Pair states idle this long, and seen buckets this old, are forgotten, ms; must exceed
   * the longest time from a message's creation to its deadline, plus the clock skew between nodes.
   */
  retentionMs: number
}

export class ReceiverState {
  private readonly cache: LRUCache<string, { last: number, touchedAt: number }>
  /** Seen keys being written, with what waits for the write (a duplicate's ack; null until something does). */
  private readonly staged = new Map<string, Array<(ok: boolean) => void> | null>()
  private readonly bucketMs: number
  /** The row of each pair staged in the batch being gathered: later accepts update it instead of adding rows. */
  private readonly stagedPairs = new Map<string, { op: { type: 'put', key: string, value: Uint8Array }, generation: number }>()

  constructor (private readonly pairs: Sublevel, private readonly seen: Sublevel, private readonly options: ReceiverStateOptions) {
    this.cache = new LRUCache({ max: options.cacheSize ?? 100_000 })
    this.bucketMs = options.bucketMs ?? 60_000
  }

  /** Highest order accepted for the pair, 0 when none is remembered. */
  last (pair: string): number {
    const hit = this.cache.get(pair)
    if (hit !== undefined) return hit.last
    let last = 0
    const bytes = this.pairs.getSync(pair)
    if (bytes !== undefined) {
      try {
        last = decodePairRecord(bytes).last
      } catch {
        // An unreadable state is no state: the next message of the pair sets it again.
      }
    }
    this.cache.set(pair, { last, touchedAt: 0 })
    return last
  }

  /** Records `order` as the pair's highest accepted, in memory; {@link stageAccepted} puts it on disk. */
  accept (pair: string, order: number, now: number): void {
    this.cache.set(pair, { last: order, touchedAt: now })
  }

  /**
   * The row that puts an accepted `order` on disk, into `ops`; stage it with the message's
   * seen row, and the rows of a pair in the order they were accepted. When the pair already
   * has a row in the batch being gathered, that row is updated instead (only the last value
   * matters; it saves a row per message of a busy pair).
   */
  stageAccepted (pair: string, order: number, touchedAt: number, ops: StorageOp[]): void {
    const value = encodePairRecord({ last: order, touchedAt })
    const generation = this.options.generation?.()
    const staged = this.stagedPairs.get(pair)
    if (generation !== undefined && staged !== undefined && staged.generation === generation) {
      staged.op.value = value
      return
    }
    const op = { type: 'put' as const, sublevel: this.pairs, key: pair, value }
    ops.push(op)
    if (generation !== undefined) {
      if (this.stagedPairs.size > 10_000) this.stagedPairs.clear()
      this.stagedPairs.set(pair, { op, generation })
    }
  }

  /** Undoes {@link accept} in memory after its batch failed. */
  revert (pair: string, order: number, previous: number): void {
    if (this.cache.get(pair)?.last === order) this.cache.set(pair, { last: previous, touchedAt: 0 })
    this.stagedPairs.delete(pair)
  }

  /** The seen-set key of a message for `receiver`, created at `createdAt` (ms since the epoch). */
  seenKey (receiver: string, messageId: string, createdAt: number): string {
    return `${Math.floor(createdAt / this.bucketMs).toString(16).padStart(11, '0')}\0${receiver}\0${messageId}`
  }

  /**
   * Whether the message was accepted before: `pending` while the write that accepts it is
   * under way (a duplicate must wait for it: {@link whenSettled}).
   */
  wasSeen (key: string): 'seen' | 'pending' | 'unseen' {
    if (this.staged.has(key)) return 'pending'
    return this.seen.getSync(key) !== undefined ? 'seen' : 'unseen'
  }

  /** Calls `then` with the outcome of the write under way for `key` (see {@link wasSeen}). */
  whenSettled (key: string, then: (ok: boolean) => void): void {
    const waiting = this.staged.get(key)
    if (waiting === undefined) then(this.seen.getSync(key) !== undefined)
    else if (waiting === null) this.staged.set(key, [then])
    else waiting.push(then)
  }

  /** Marks a message seen: at once in memory, on disk with `ops`; call {@link settled} after the batch. */
  markSeen (key: string, ops: StorageOp[]): void {
    this.staged.set(key, null)
    ops.push({ type: 'put', sublevel: this.seen, key, value: EMPTY })
  }

  /** The batch holding `key` was written (`ok`), or failed (then it was never seen). */
  settled (key: string, ok: boolean): void {
    const waiting = this.staged.get(key)
    this.staged.delete(key)
    if (waiting == null) return
    for (const then of waiting) then(ok)
  }

  /**
   * Drops seen buckets older than `retentionMs`, and pair states idle for longer. The pair deletions go through `commit` (the group
   * commit), so that they are ordered with the accepts staged meanwhile.
   * @returns how many pair states were dropped
   */
  async collect (now: number, commit: (ops: StorageOp[]) => Promise<void>): Promise<number> {
    const bucket = Math.floor((now - this.options.retentionMs) / this.bucketMs)
    if (bucket > 0) await this.seen.clear({ lt: bucket.toString(16).padStart(11, '0') })
    const cutoff = now - this.options.retentionMs
    const stale: string[] = []
    for await (const [key, value] of this.pairs.iterator()) {
      try {
        if (decodePairRecord(value).touchedAt < cutoff) stale.push(key)
      } catch {
        stale.push(key)
      }
    }
    // A pair accepted again during the scan is fresh in the cache: keep it.
    const drop = stale.filter(key => (this.cache.peek(key)?.touchedAt ?? 0) < cutoff)
    if (drop.length === 0) return 0
    for (const key of drop) this.cache.delete(key)
    await commit(drop.map(key => ({ type: 'del', sublevel: this.pairs, key })))
    return drop.length
  }
}

const EMPTY = new Uint8Array(0)
