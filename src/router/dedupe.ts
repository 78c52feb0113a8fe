/**
 * Remembers the last `capacity` message ids (insertion-ordered Map as a FIFO), so a
 * message a peer re-sends after a lost ack is delivered once (DESIGN.md, step 4).
 */
export class DedupeWindow {
  private readonly seen = new Map<string, true>()

  constructor (readonly capacity: number) {}

  /** True the first time an id is seen; false for a duplicate. */
  firstSeen (id: string): boolean {
    if (this.capacity === 0) return true
    if (this.seen.has(id)) return false
    this.seen.set(id, true)
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.keys().next().value
      if (oldest !== undefined) this.seen.delete(oldest)
    }
    return true
  }
}
