/**
 * What became of recent messages on this node, per receiver (`GET /messages/:id`): a Map
 * bounded to `max` message ids, the oldest-written evicted first. Insertion order is
 * enough here (a status is looked up rarely, and written a few times within seconds), and
 * it costs one `Map#set` per new message where lru-cache's recency bookkeeping was ~10% of
 * the sending node's delivery CPU (measured with 100,000 one-way messages, lru-cache 11).
 */
import type { AgentId } from '../../protocols/fipa/types.js'
import type { ReceiverStatus } from './types.js'

export interface KnownStatus {
  sender?: AgentId
  receivers: ReceiverStatus[]
}

export class StatusTable {
  private readonly entries = new Map<string, KnownStatus>()
  /**
   * Ids in the order they were added, a ring: the slot to write next holds the oldest.
   * (Evicting through `entries.keys().next()` instead slowed down with every eviction:
   * V8's Map walks over the deleted slots at its front until it rehashes.)
   */
  private readonly order: string[] = []
  private next = 0

  /** @param max most message ids kept, ≥ 1 */
  constructor (private readonly max: number) {
    if (!(max >= 1)) throw new RangeError(`a status table holds at least 1 entry, got ${max}`)
  }

  get size (): number {
    return this.entries.size
  }

  get (messageId: string): KnownStatus | undefined {
    return this.entries.get(messageId)
  }

  /** Adds or replaces; past `max` ids the oldest-added one goes. */
  set (messageId: string, status: KnownStatus): void {
    if (!this.entries.has(messageId)) {
      if (this.order.length < this.max) {
        this.order.push(messageId)
      } else {
        this.entries.delete(this.order[this.next])
        this.order[this.next] = messageId
        this.next = (this.next + 1) % this.max
      }
    }
    this.entries.set(messageId, status)
  }
}
