/**
 * Keyed deadlines in a binary min-heap with lazy deletion: set, move or cancel a key's
 * deadline in O(log n), find the earliest in O(1) amortised. Used for SWIM's suspicion
 * expiries and dead-member reclaim, of which a partition can create thousands at once,
 * and for the registry sync policy's per-peer connection timers.
 */
import { MinHeap } from './min-heap.js'

export class DeadlineQueue<K> {
  private readonly current = new Map<K, number>()
  private readonly heap = new MinHeap<{ at: number, key: K }>((a, b) => a.at < b.at)

  get size (): number {
    return this.current.size
  }

  /** Sets (or moves) `key`'s deadline. */
  set (key: K, at: number): void {
    this.current.set(key, at)
    this.heap.push({ at, key })
    // Stale entries pile up when deadlines move often: rebuild once they dominate.
    if (this.heap.size > 64 && this.heap.size > 4 * this.current.size) this.rebuild()
  }

  delete (key: K): void {
    this.current.delete(key)
  }

  has (key: K): boolean {
    return this.current.has(key)
  }

  /** The earliest deadline, or Infinity. */
  peekAt (): number {
    this.dropStale()
    return this.heap.peek()?.at ?? Infinity
  }

  /** Removes and returns the keys whose deadline is ≤ now, earliest first. */
  popDue (now: number): K[] {
    const due: K[] = []
    for (;;) {
      this.dropStale()
      const top = this.heap.peek()
      if (top === undefined || top.at > now) return due
      this.heap.pop()
      this.current.delete(top.key)
      due.push(top.key)
    }
  }

  private dropStale (): void {
    for (;;) {
      const top = this.heap.peek()
      if (top === undefined) return
      if (this.current.get(top.key) === top.at) return
      this.heap.pop()
    }
  }

  private rebuild (): void {
    this.heap.clear()
    for (const [key, at] of this.current) this.heap.push({ at, key })
  }
}
