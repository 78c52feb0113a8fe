/**
 * The simulator's agenda: a binary min-heap ordered by (time, insertion sequence), so
 * events at the same virtual time run in the order they were scheduled (determinism).
 */
export interface Scheduled {
  at: number
  seq: number
}

export class EventQueue<T extends Scheduled> {
  private heap: T[] = []

  get size (): number {
    return this.heap.length
  }

  peek (): T | undefined {
    return this.heap[0]
  }

  push (item: T): void {
    const heap = this.heap
    heap.push(item)
    let i = heap.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(item, heap[p])) break
      heap[i] = heap[p]
      i = p
    }
    heap[i] = item
  }

  pop (): T | undefined {
    const heap = this.heap
    const top = heap[0]
    const last = heap.pop()
    if (top === undefined || last === undefined || heap.length === 0) return top
    let i = 0
    const n = heap.length
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && before(heap[r], heap[l]) ? r : l
      if (!before(heap[c], last)) break
      heap[i] = heap[c]
      i = c
    }
    heap[i] = last
    return top
  }

  clear (): void {
    this.heap = []
  }
}

function before (x: Scheduled, y: Scheduled): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq)
}
