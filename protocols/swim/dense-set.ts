/**
 * A set of objects with O(1) add, delete, membership test and uniform random pick: an
 * array, with each object remembering its own position (`slot`), so no index map is
 * needed (a node of a 1,000-member cluster holds a thousand of these entries, the
 * simulator a million). An object belongs to at most one DenseSet at a time.
 * Order is not stable across deletes.
 */
export interface Slotted {
  /** Position in the DenseSet holding the object; maintained by the set. */
  slot: number
}

export class DenseSet<T extends Slotted> {
  private readonly items: T[] = []

  get size (): number {
    return this.items.length
  }

  has (item: T): boolean {
    return item.slot < this.items.length && this.items[item.slot] === item
  }

  add (item: T): void {
    if (this.has(item)) return
    item.slot = this.items.length
    this.items.push(item)
  }

  delete (item: T): void {
    if (!this.has(item)) return
    const last = this.items.pop() as T
    if (last !== item) {
      this.items[item.slot] = last
      last.slot = item.slot
    }
  }

  at (i: number): T {
    return this.items[i]
  }

  values (): readonly T[] {
    return this.items
  }

  /**
   * Up to `count` distinct items chosen uniformly at random among those passing `accept`
   * (partial Fisher–Yates over a copy when the set is small, rejection sampling otherwise).
   */
  sample (count: number, random: () => number, accept: (item: T) => boolean = () => true): T[] {
    const n = this.items.length
    if (count <= 0 || n === 0) return []
    const out: T[] = []
    if (n <= 4 * count + 16) {
      const copy = this.items.slice()
      for (let i = 0; i < copy.length && out.length < count; i++) {
        const j = i + Math.floor(random() * (copy.length - i))
        const pick = copy[j]
        copy[j] = copy[i]
        copy[i] = pick
        if (accept(pick)) out.push(pick)
      }
      return out
    }
    const seen = new Set<T>()
    for (let tries = 0; tries < 3 * n && out.length < count; tries++) {
      const pick = this.items[Math.floor(random() * n)]
      if (seen.has(pick)) continue
      seen.add(pick)
      if (accept(pick)) out.push(pick)
    }
    return out
  }
}
