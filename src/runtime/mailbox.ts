/**
 * An agent's bounded mailbox: a FIFO of messages encoded for the agent, kept as the
 * frames of a worker batch (`slot u32 | flags u32 | length u32 | bytes`, see
 * `worker-protocol.ts`) one after the other in one byte buffer, so that posting a run of
 * them is one copy. Each message carries the caller's token (the key of its durable inbox
 * entry), handed back when the message leaves, and flags for the worker (`FRAME_FLAGS`).
 * The buffer grows by doubling and is compacted in place (amortised O(1) per byte); the
 * tokens are a ring that grows by doubling up to the capacity (so a mailbox of 1M
 * messages costs nothing until used).
 *
 * Bytes, not the messages as objects: a message waits here until it is handled, long
 * enough to survive young-generation collections in a busy node, and its bytes cost the
 * GC nothing (measured: an `AclMessage` decoded from msgpack and kept retains ~640 bytes
 * of JS heap). Nor a Uint8Array per message: each was an ArrayBuffer to allocate and
 * sweep (~100 bytes of heap). With a sink agent (perf, main thread), delivering with
 * encoding went from 0.70 to 0.40 µs per message and batching from 0.17 to 0.05 µs.
 *
 * A message stays in the mailbox until the worker reports it handled (`ack`), so that
 * messages in flight to a worker that is terminated can be posted again to the agent's
 * new instance. `posted` counts the messages at the head already sent to the worker.
 */
import { FRAME_HEADER_BYTES, type ByteWriter } from './worker-protocol.js'

/** Bytes of the frame buffer at first. */
const INITIAL_BYTES = 4096
/** A frame buffer larger than this is let go when the mailbox empties, bytes. */
const KEEP_BYTES = 1 << 20

export class Mailbox {
  /** The frames, oldest first, from `head` to `tail`. */
  private bytes = new Uint8Array(0)
  private view = new DataView(this.bytes.buffer)
  private head = 0
  private tail = 0
  /** Just past the last frame posted. */
  private postedEnd = 0
  /** Tokens of the messages, oldest at `first`: a ring of a power-of-two length. */
  private tokens: Array<string | undefined>
  private mask: number
  private first = 0
  /** Messages in the mailbox, posted or not. */
  size = 0
  /** Messages at the head already posted to the worker. */
  posted = 0

  /** `slot` is written in each frame: the agent's slot in its worker. */
  constructor (public capacity: number, private readonly slot: number) {
    const initial = Math.min(16, 1 << Math.ceil(Math.log2(Math.max(1, capacity))))
    this.tokens = new Array(initial)
    this.mask = initial - 1
  }

  /**
   * Appends a message (its bytes are copied); false when the mailbox is full (unless
   * `force`: the message is in the durable inbox already).
   */
  push (message: Uint8Array, token?: string, force = false, flags = 0): boolean {
    if (this.size >= this.capacity && !force) return false
    const n = FRAME_HEADER_BYTES + message.length
    if (this.tail + n > this.bytes.length) this.makeRoom(n)
    const at = this.tail
    this.view.setUint32(at, this.slot, true)
    this.view.setUint32(at + 4, flags, true)
    this.view.setUint32(at + 8, message.length, true)
    this.bytes.set(message, at + FRAME_HEADER_BYTES)
    this.tail = at + n
    if (this.size === this.tokens.length) this.growTokens()
    this.tokens[(this.first + this.size) & this.mask] = token
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
    const token = this.tokens[this.first]
    this.tokens[this.first] = undefined
    this.first = (this.first + 1) & this.mask
    this.head += FRAME_HEADER_BYTES + this.view.getUint32(this.head + 8, true)
    this.size--
    if (this.posted > 0) this.posted--
    if (this.postedEnd < this.head) this.postedEnd = this.head
    if (this.size === 0) this.emptied()
    return token
  }

  /**
   * Appends the frames of at most `max` messages not yet posted, oldest first, to `out`,
   * and marks them posted; `lastFlags` (`FRAME_FLAGS` bits) are set in the copy of
   * the last frame appended (the mailbox's own frame is left as it is). @returns how many
   */
  takeUnposted (max: number, out: ByteWriter, lastFlags = 0): number {
    const start = this.postedEnd
    let end = start
    let n = 0
    let frame = 0
    while (n < max && end < this.tail) {
      frame = FRAME_HEADER_BYTES + this.view.getUint32(end + 8, true)
      end += frame
      n++
    }
    if (n > 0) {
      out.raw(this.bytes.subarray(start, end))
      if (lastFlags !== 0) out.orU32At(out.length - frame + 4, lastFlags)
    }
    this.postedEnd = end
    this.posted += n
    return n
  }

  /** Marks every message as not posted (they must be posted again, to a new worker). */
  resetPosted (): void {
    this.posted = 0
    this.postedEnd = this.head
  }

  /** Empties the mailbox; returns the tokens of the messages dropped, oldest first (undefined tokens left out). */
  clear (): string[] {
    const dropped: string[] = []
    for (let i = 0; i < this.size; i++) {
      const t = this.tokens[(this.first + i) & this.mask]
      if (t !== undefined) dropped.push(t)
    }
    this.tokens = new Array(Math.min(16, this.tokens.length))
    this.mask = this.tokens.length - 1
    this.first = 0
    this.size = 0
    this.posted = 0
    this.emptied()
    return dropped
  }

  /** Nothing is left: the frames start over at the front, in a buffer of a modest size. */
  private emptied (): void {
    this.head = 0
    this.tail = 0
    this.postedEnd = 0
    if (this.bytes.length > KEEP_BYTES) {
      this.bytes = new Uint8Array(INITIAL_BYTES)
      this.view = new DataView(this.bytes.buffer)
    }
  }

  /**
   * Makes room for `n` more bytes at the tail: moves the frames to the front when they fill
   * at most half the buffer with the new ones, else moves them to one twice as large.
   */
  private makeRoom (n: number): void {
    const live = this.tail - this.head
    let size = this.bytes.length
    if (live + n > size / 2) {
      size = Math.max(size * 2, INITIAL_BYTES)
      while (size < live + n) size *= 2
      const next = new Uint8Array(size)
      next.set(this.bytes.subarray(this.head, this.tail))
      this.bytes = next
      this.view = new DataView(next.buffer)
    } else {
      this.bytes.copyWithin(0, this.head, this.tail)
    }
    this.postedEnd -= this.head
    this.tail = live
    this.head = 0
  }

  private growTokens (): void {
    const next: Array<string | undefined> = new Array(this.tokens.length * 2)
    for (let i = 0; i < this.size; i++) next[i] = this.tokens[(this.first + i) & this.mask]
    this.tokens = next
    this.mask = next.length - 1
    this.first = 0
  }
}
