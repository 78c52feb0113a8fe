/**
 * A binary min-heap ordered by a caller's `before(a, b)` (a strict "a comes first"):
 * push and pop in O(log n), peek in O(1). Shared by the deadline queue (SWIM, the registry
 * sync policy) and the simulator's agenda.
 */
export class MinHeap<T> {
  private items: T[] = []

  constructor (private readonly before: (a: T, b: T) => boolean) {}

  get size (): number {
    return this.items.length
  }

  /** The first item, or undefined when empty. */
  peek (): T | undefined {
    return this.items[0]
  }

  push (item: T): void {
    const heap = this.items
    heap.push(item)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(item, heap[parent])) break
      heap[i] = heap[parent]
      i = parent
    }
    heap[i] = item
  }

  /** Removes and returns the first item, or undefined when empty. */
  pop (): T | undefined {
    const heap = this.items
    const top = heap[0]
    const last = heap.pop()
    if (top === undefined || last === undefined || heap.length === 0) return top
    heap[0] = last
    this.siftDown(0)
    return top
  }

  clear (): void {
    this.items = []
  }

  /**
   * Keeps only the items `keep` accepts, and orders them again: O(n) (Floyd's bottom-up
   * heap construction). For a heap whose removed items stay in it until they reach the top:
   * calling this once they are the greater part bounds the heap to a multiple of what is live.
   */
  retain (keep: (item: T) => boolean): void {
    const heap = this.items.filter(keep)
    this.items = heap
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i)
  }

  private siftDown (start: number): void {
    const heap = this.items
    const n = heap.length
    const item = heap[start]
    let i = start
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && this.before(heap[r], heap[l]) ? r : l
      if (!this.before(heap[c], item)) break
      heap[i] = heap[c]
      i = c
    }
    heap[i] = item
  }
}
