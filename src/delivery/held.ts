/**
 * Entries held back for a short while, each released on its own once it has been held
 * `holdMs`, unless taken first. Delivery holds the rows that accept a message from a peer
 * here while the message's agent handles it: a handler that returns within the hold takes
 * them, and they go to disk in one batch with its results (see protocols/delivery/SPEC.md
 * §3, "Handed over early").
 *
 * One timer for all entries, armed for the oldest; entries are released oldest first.
 */
export class HeldEntries<T> {
  private readonly entries = new Map<string, { value: T, at: number }>()
  private timer?: NodeJS.Timeout

  /**
   * @param holdMs how long an entry is held before it is released, ms
   * @param release called with each entry released (not with one taken)
   * @param now a monotonic clock, ms
   */
  constructor (
    private readonly holdMs: number,
    private readonly release: (key: string, value: T) => void,
    private readonly now: () => number = () => performance.now()
  ) {}

  get size (): number {
    return this.entries.size
  }

  has (key: string): boolean {
    return this.entries.has(key)
  }

  /** Holds `value` under `key` (a new key: one already held is replaced and keeps its place). */
  hold (key: string, value: T): void {
    this.entries.set(key, { value, at: this.now() })
    if (this.timer === undefined) this.arm(this.holdMs)
  }

  /** Takes an entry before its release: it will not be released. */
  take (key: string): T | undefined {
    const e = this.entries.get(key)
    if (e === undefined) return undefined
    this.entries.delete(key)
    return e.value
  }

  /** Releases `key` now, if held. */
  releaseOne (key: string): void {
    const value = this.take(key)
    if (value !== undefined) this.release(key, value)
  }

  /** Releases every entry now, oldest first. */
  releaseAll (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    for (const [key, e] of this.entries) {
      this.entries.delete(key)
      this.release(key, e.value)
    }
  }

  private arm (ms: number): void {
    this.timer = setTimeout(() => { this.due() }, ms)
    this.timer.unref?.()
  }

  private due (): void {
    this.timer = undefined
    const cutoff = this.now() - this.holdMs
    for (const [key, e] of this.entries) {
      if (e.at > cutoff) {
        this.arm(Math.max(0, e.at - cutoff))
        return
      }
      this.entries.delete(key)
      this.release(key, e.value)
    }
  }
}
