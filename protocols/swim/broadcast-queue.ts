/**
 * The transmit-limited broadcast queue (SWIM §4.1 "infection-style dissemination";
 * memberlist's TransmitLimitedQueue): membership updates waiting to be piggybacked. Each
 * update is sent at most `retransmitMult × ceil(log10(N + 1))` times, the least-sent
 * first, and a newer update about a member replaces any older one still queued.
 */
import type { MemberId, MemberUpdate } from './types.js'

/** `retransmitMult × ceil(log10(n + 1))`: how many times an update is sent in a cluster of `n`. */
export function retransmitLimit (retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(Math.max(0, n) + 1))
}

interface Entry {
  update: MemberUpdate
  size: number
  transmits: number
  removed: boolean
}

/**
 * The entries sent a given number of times, oldest first. Deletions are lazy (an entry that
 * moved on or was removed is skipped and compacted away later): a FIFO of this kind in a
 * Map would leave its deleted slots at the front, for every scan to step over.
 */
class Bucket {
  items: Entry[] = []
  head = 0
  live = 0

  push (e: Entry): void {
    this.items.push(e)
    this.live++
  }

  compact (t: number): void {
    const span = this.items.length - this.head
    if (span > 32 && this.live < span / 2) {
      this.items = this.items.slice(this.head).filter((e) => !e.removed && e.transmits === t)
      this.head = 0
    }
  }
}

/** Stop scanning after this many updates in a row that do not fit the budget. */
const MAX_MISFITS = 16

export interface BroadcastQueueOptions {
  /** λ of SWIM §4.1. */
  retransmitMult: number
  /** The encoded size of an update, bytes. */
  sizeOf: (update: MemberUpdate) => number
}

export class BroadcastQueue {
  private readonly retransmitMult: number
  private readonly sizeOf: (update: MemberUpdate) => number
  private readonly byMember = new Map<MemberId, Entry>()
  /** buckets[t]: the entries sent t times. */
  private readonly buckets: Bucket[] = []

  constructor (options: BroadcastQueueOptions) {
    this.retransmitMult = options.retransmitMult
    this.sizeOf = options.sizeOf
  }

  /** Updates waiting. */
  get length (): number {
    return this.byMember.size
  }

  /** Queues `update`, dropping any queued update about the same member (the caller only queues newer ones). */
  enqueue (update: MemberUpdate): void {
    this.remove(update.id)
    const entry: Entry = { update, size: this.sizeOf(update), transmits: 0, removed: false }
    this.byMember.set(update.id, entry)
    this.bucket(0).push(entry)
  }

  /** The queued update about `id`, if any. */
  peek (id: MemberId): MemberUpdate | undefined {
    return this.byMember.get(id)?.update
  }

  /** How many times the queued update about `id` has been sent (undefined if none is queued). */
  transmits (id: MemberId): number | undefined {
    return this.byMember.get(id)?.transmits
  }

  /** Drops the queued update about `id`. */
  remove (id: MemberId): void {
    const entry = this.byMember.get(id)
    if (entry === undefined) return
    this.byMember.delete(id)
    entry.removed = true
    const b = this.buckets[entry.transmits]
    b.live--
    b.compact(entry.transmits)
  }

  clear (): void {
    this.byMember.clear()
    this.buckets.length = 0
  }

  /**
   * Takes updates for one frame: least-transmitted first (oldest first among equals), as
   * many as fit `budgetBytes` (sizes from `sizeOf`), counting one transmission for each and
   * dropping those that reached the retransmit limit for a cluster of `n` members.
   */
  take (budgetBytes: number, n: number): MemberUpdate[] {
    if (this.byMember.size === 0 || budgetBytes <= 0) return []
    const limit = Math.max(1, retransmitLimit(this.retransmitMult, n))
    const picked: Entry[] = []
    let remaining = budgetBytes
    let misfits = 0
    scan: for (let t = 0; t < this.buckets.length && remaining > 0; t++) {
      const b = this.buckets[t]
      if (b.live === 0) continue
      const items = b.items
      while (b.head < items.length && (items[b.head].removed || items[b.head].transmits !== t)) b.head++
      for (let i = b.head; i < items.length; i++) {
        const e = items[i]
        if (e.removed || e.transmits !== t) continue
        if (e.size <= remaining) {
          picked.push(e)
          remaining -= e.size
          misfits = 0
        } else if (++misfits >= MAX_MISFITS) {
          // The frame is as good as full: scanning on costs more than the bytes are worth.
          break scan
        }
      }
    }
    const updates: MemberUpdate[] = []
    for (const e of picked) {
      updates.push(e.update)
      const from = this.buckets[e.transmits]
      from.live--
      e.transmits++
      if (e.transmits >= limit) {
        e.removed = true
        this.byMember.delete(e.update.id)
      } else {
        this.bucket(e.transmits).push(e)
      }
    }
    for (let t = 0; t < this.buckets.length; t++) this.buckets[t].compact(t)
    return updates
  }

  private bucket (t: number): Bucket {
    while (this.buckets.length <= t) this.buckets.push(new Bucket())
    return this.buckets[t]
  }
}
