import type { AgentId } from '../../protocols/fipa/types.js'
import type { MessageRecord } from './types.js'

/**
 * The last `capacity` messages this node saw (ring buffer), for `GET /messages`.
 * O(1) per record; queries scan newest first.
 */
export class MessageLog {
  private readonly ring: Array<MessageRecord | undefined>
  private next = 0

  constructor (readonly capacity: number) {
    this.ring = new Array(capacity)
  }

  add (record: MessageRecord): void {
    if (this.capacity === 0) return
    this.ring[this.next] = record
    this.next = (this.next + 1) % this.capacity
  }

  /** Newest first, filtered by agent (sender or receiver) and/or conversation. */
  query (q: { limit?: number, agent?: AgentId, conversationId?: string }): MessageRecord[] {
    const limit = q.limit ?? 100
    const out: MessageRecord[] = []
    for (let i = 1; i <= this.capacity && out.length < limit; i++) {
      const r = this.ring[(this.next - i + this.capacity) % this.capacity]
      if (r == null) break
      if (q.agent != null && r.message.sender !== q.agent && !r.message.receivers.includes(q.agent)) continue
      if (q.conversationId != null && r.message.conversationId !== q.conversationId) continue
      out.push(r)
    }
    return out
  }
}
