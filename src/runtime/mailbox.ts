/**
 * An agent's bounded mailbox: a FIFO of messages (`T`: the runtime keeps `AclMessage`s
 * and encodes them into the batch it posts), O(1) at both ends, growing by doubling up to
 * its capacity (so a mailbox of 1M messages costs nothing until used).
 * Each message carries the caller's token (the key of its durable inbox entry), handed
 * back when the message leaves, and flags for the worker (`FRAME_FLAGS`).
 *
 * A message stays in the mailbox until the worker reports it handled (`ack`), so that
 * messages in flight to a worker that is terminated can be posted again to the agent's
 * new instance. `posted` counts the messages at the head already sent to the worker.
 */
export class Mailbox<T = Uint8Array> {
  private buf: Array<T | undefined>
  private tokens: Array<string | undefined>
  private flags: number[]
  private mask: number
  private head = 0
  /** Messages in the mailbox, posted or not. */
  size = 0
  /** Messages at the head already posted to the worker. */
  posted = 0

  constructor (public capacity: number) {
    const initial = Math.min(16, 1 << Math.ceil(Math.log2(Math.max(1, capacity))))
    this.buf = new Array(initial)
    this.tokens = new Array(initial)
    this.flags = new Array(initial).fill(0)
    this.mask = initial - 1
  }

  /**
   * Appends a message; false when the mailbox is full (unless `force`: the message is in
   * the durable inbox already).
   */
  push (message: T, token?: string, force = false, flags = 0): boolean {
    if (this.size >= this.capacity && !force) return false
    if (this.size === this.buf.length) this.grow()
    const i = (this.head + this.size) & this.mask
    this.buf[i] = message
    this.tokens[i] = token
    this.flags[i] = flags
    this.size++
    return true
  }

  /** Whether some message has not been posted to the worker yet. */
  get hasUnposted (): boolean {
    return this.posted < this.size
  }

  /** Drops the oldest message (the worker has handled it) and returns its token. */
  ack (): string | undefined {
    if (this.size === 0) return undefined
    const token = this.tokens[this.head]
    this.buf[this.head] = undefined
    this.tokens[this.head] = undefined
    this.head = (this.head + 1) & this.mask
    this.size--
    if (this.posted > 0) this.posted--
    return token
  }

  /**
   * Calls `fn` on at most `max` messages not yet posted, oldest first, and marks them
   * posted. @returns how many
   */
  takeUnposted (max: number, fn: (message: T, flags: number) => void): number {
    const end = Math.min(this.size, this.posted + max)
    const n = end - this.posted
    for (let i = this.posted; i < end; i++) {
      const j = (this.head + i) & this.mask
      fn(this.buf[j] as T, this.flags[j])
    }
    this.posted = end
    return n
  }

  /** Marks every message as not posted (they must be posted again, to a new worker). */
  resetPosted (): void {
    this.posted = 0
  }

  /** Empties the mailbox; returns the tokens of the messages dropped, oldest first (undefined tokens left out). */
  clear (): string[] {
    const dropped: string[] = []
    for (let i = 0; i < this.size; i++) {
      const t = this.tokens[(this.head + i) & this.mask]
      if (t !== undefined) dropped.push(t)
    }
    this.buf = new Array(Math.min(16, this.buf.length))
    this.tokens = new Array(this.buf.length)
    this.flags = new Array(this.buf.length).fill(0)
    this.mask = this.buf.length - 1
    this.head = 0
    this.size = 0
    this.posted = 0
    return dropped
  }

  private grow (): void {
    const next: Array<T | undefined> = new Array(this.buf.length * 2)
    const tokens: Array<string | undefined> = new Array(next.length)
    const flags: number[] = new Array(next.length).fill(0)
    for (let i = 0; i < this.size; i++) {
      next[i] = this.buf[(this.head + i) & this.mask]
      tokens[i] = this.tokens[(this.head + i) & this.mask]
      flags[i] = this.flags[(this.head + i) & this.mask]
    }
    this.buf = next
    this.tokens = tokens
    this.flags = flags
    this.mask = next.length - 1
    this.head = 0
  }
}
