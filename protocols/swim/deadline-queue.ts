/**
 * Keyed deadlines in a binary min-heap with lazy deletion: set, move or cancel a key's
 * deadline in O(log n), find the earliest in O(1) amortised. Used for suspicion expiries
 * and dead-member reclaim, of which a partition can create thousands at once.
 */
export class DeadlineQueue<K> {
  private readonly current = new Map<K, number>()
  private heap: Array<{ at: number, key: K }> = []

  get size (): number {
    return this.current.size
  }

  /** Sets (or moves) `key`'s deadline. */
  set (key: K, at: number): void {
    this.current.set(key, at)
    this.push({ at, key })
    // Stale entries pile up when deadlines move often: rebuild once they dominate.
    if (this.heap.length > 64 && this.heap.length > 4 * this.current.size) this.rebuild()
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
    return this.heap.length === 0 ? Infinity : this.heap[0].at
  }

  /** Removes and returns the keys whose deadline is ≤ now, earliest first. */
  popDue (now: number): K[] {
    const due: K[] = []
    for (;;) {
      this.dropStale()
      const top = this.heap[0]
      if (top === undefined || top.at > now) return due
      this.pop()
      this.current.delete(top.key)
      due.push(top.key)
    }
  }

  private dropStale (): void {
    for (;;) {
      const top = this.heap[0]
      if (top === undefined) return
      if (this.current.get(top.key) === top.at) return
      this.pop()
    }
  }

  private rebuild (): void {
    this.heap = []
    for (const [key, at] of this.current) this.push({ at, key })
  }

  private push (item: { at: number, key: K }): void {
    const heap = this.heap
    heap.push(item)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (heap[parent].at <= item.at) break
      heap[i] = heap[parent]
      i = parent
    }
    heap[i] = item
  }

  private pop (): void {
    const heap = this.heap
    const last = heap.pop()
    if (last === undefined || heap.length === 0) return
    let i = 0
    const n = heap.length
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && heap[r].at < heap[l].at ? r : l
      if (heap[c].at >= last.at) break
      heap[i] = heap[c]
      i = c
    }
    heap[i] = last
  }
}
