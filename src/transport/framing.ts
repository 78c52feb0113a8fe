/**
 * Length-prefixed frames on libp2p streams, shared by every Caxton protocol
 * (`/caxton/fipa/2.0.0`, `/caxton/swim/1.0.0`, `/caxton/registry-sync/1.0.0`): each frame is
 * an unsigned varint byte length followed by that many bytes, and many frames share one
 * stream write. Batching is what makes a long-lived libp2p stream fast: one `send()` of 64
 * frames moved 240-320k messages/s on loopback, one `send()` per frame ~32k (measured on
 * libp2p 3.3 with 200-byte messages).
 *
 * - {@link encodeBatch} / {@link createFrameDecoder}: the framing itself.
 * - {@link FrameWriter}: one stream's outgoing frames, coalesced per tick (or held up to
 *   `holdMs` to leave with another writer's, e.g. acks with replies), bounded in bytes,
 *   waiting for `'drain'` when the stream pushes back.
 * - {@link readFrames}: one stream's incoming frames, with a bound on a frame's size.
 * - {@link FrameInbox}: incoming frames queued for a reader that pulls them one by one.
 * - {@link drained}: waits for a stream's `'drain'` (not `onDrain()`, see below).
 */
import type { Stream } from '@libp2p/interface'
import { encodeUint8Array, encodingLength } from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'

/** Concatenates frames, each behind its varint length, into one buffer. */
export function encodeBatch (frames: readonly Uint8Array[]): Uint8Array {
  let total = 0
  for (const f of frames) total += encodingLength(f.byteLength) + f.byteLength
  const out = new Uint8Array(total)
  let offset = 0
  for (const f of frames) {
    encodeUint8Array(f.byteLength, out, offset)
    offset += encodingLength(f.byteLength)
    out.set(f, offset)
    offset += f.byteLength
  }
  return out
}

/**
 * Splits a stream's chunks back into frames (empty frames are skipped).
 *
 * Not @libp2p/utils' LengthPrefixedDecoder: that one learns that a chunk is used up by
 * catching the RangeError its varint read throws, and building that error (with its stack
 * trace) cost ~4.6 µs per chunk. With one message in flight every chunk is used up: in
 * 5,000 remote REQUEST → INFORM round trips (durable), CPU per round trip fell from 339-372
 * to 280-295 µs on the sending node and from 490-528 to 426-448 µs on the receiving one.
 * @param maxFrameBytes largest accepted frame; a bigger length prefix throws (the peer is broken).
 * @throws Error from `decode` on a length prefix above `maxFrameBytes` (or longer than 8
 *   bytes), or when more than `maxFrameBytes` + 32 MiB are buffered
 */
export function createFrameDecoder (maxFrameBytes: number): { decode: (chunk: Uint8Array | Uint8ArrayList) => Generator<Uint8Array> } {
  // yamux windows grow to 16 MiB, so one chunk may hold many frames: the buffer bound is
  // on top of the frame bound, not equal to it (one 'message' event was seen carrying 13.7 MB).
  const maxBufferBytes = maxFrameBytes + 32 * 1024 * 1024
  const buffer = new Uint8ArrayList()
  return {
    * decode (chunk) {
      buffer.append(chunk)
      if (buffer.byteLength > maxBufferBytes) throw new Error(`more than ${maxBufferBytes} bytes buffered without a whole frame`)
      while (buffer.byteLength > 0) {
        const prefix = readLengthPrefix(buffer)
        if (prefix === undefined) break
        const [length, prefixBytes] = prefix
        if (length > maxFrameBytes) {
          throw new Error(length === Infinity ? 'a length prefix of more than 8 bytes' : `a frame of ${length} bytes is over the limit of ${maxFrameBytes} bytes`)
        }
        const end = prefixBytes + length
        if (buffer.byteLength < end) break
        const frame = length > 0 ? buffer.subarray(prefixBytes, end) : undefined
        buffer.consume(end)
        if (frame !== undefined) yield frame
      }
    }
  }
}

/**
 * The unsigned varint at the start of `list` and its size in bytes, or undefined when more
 * bytes are needed. A prefix over 8 bytes (a length of 2^56 or more) reads as Infinity.
 */
function readLengthPrefix (list: Uint8ArrayList): [number, number] | undefined {
  const n = Math.min(list.byteLength, 8)
  let value = 0
  let scale = 1
  for (let i = 0; i < n; i++) {
    const b = list.get(i)
    value += (b & 0x7f) * scale
    if (b < 0x80) return [value, i + 1]
    scale *= 128
  }
  return n === 8 ? [Infinity, 8] : undefined
}

/**
 * Resolves once `stream` drains; rejects if it closes first. (`stream.onDrain()` of
 * @libp2p/utils 7.4 resolves once and then never again, so back-pressure would silently
 * disappear: this waits for the event itself.)
 */
export async function drained (stream: Stream): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const done = (): void => { stream.removeEventListener('close', closed); resolve() }
    const closed = (): void => { stream.removeEventListener('drain', done); reject(new Error('stream closed while waiting for drain')) }
    stream.addEventListener('drain', done, { once: true })
    stream.addEventListener('close', closed, { once: true })
  })
}

/**
 * Reads length-prefixed frames from a stream: `onFrame` gets each one in order. A length
 * prefix above `maxFrameBytes` means framing is lost: the stream is aborted and `onCorrupt`
 * told. `onFrame` must not throw (what it throws is passed to `onCorrupt` too, and the
 * stream aborted).
 */
export function readFrames (stream: Stream, maxFrameBytes: number, onFrame: (bytes: Uint8Array) => void, onCorrupt: (err: Error) => void): void {
  const decoder = createFrameDecoder(maxFrameBytes)
  stream.addEventListener('message', (evt) => {
    try {
      for (const bytes of decoder.decode(evt.data)) onFrame(bytes)
    } catch (err) {
      onCorrupt(err as Error)
      stream.abort(err as Error)
    }
  })
}

/** How a {@link FrameWriter} sends what it queued. */
export interface FrameWriterOptions {
  /** Most bytes queued and not yet handed to the stream: `write` refuses past it. */
  maxQueuedBytes: number
  /** Told once when a write fails (the stream closed); the queue is dropped. */
  onError?: (err: Error) => void
  /**
   * Hold frames up to this long before sending them, ms, unless {@link FrameWriter.sendNow}
   * is called first or `holdFrames` are queued. Absent: frames leave at the end of the turn.
   */
  holdMs?: number
  /** With `holdMs`: this many queued frames are sent at the end of the turn. @default 64 */
  holdFrames?: number
  /** Called just before each batch is handed to the stream (in the same turn). */
  beforeSend?: () => void
}

/**
 * One stream's outgoing frames: {@link write} queues a frame, and every frame queued within
 * a tick leaves in one `stream.send()` (or, with `holdMs`, within that many ms).
 * Waits for `'drain'` when the stream pushes back.
 * The queue is bounded in bytes: past `maxQueuedBytes`, `write` refuses the frame, so a
 * stalled peer cannot grow memory. A failed write (the stream closed) is reported once
 * through `onError`, and the queue dropped.
 */
export class FrameWriter {
  private queue: Uint8Array[] = []
  private bytes = 0
  private pumping = false
  private failed = false
  private held?: NodeJS.Timeout
  private readonly idle: Array<() => void> = []

  constructor (readonly stream: Stream, private readonly options: FrameWriterOptions) {}

  /** Bytes queued and not yet handed to the stream. */
  get queuedBytes (): number {
    return this.bytes
  }

  /** Whether a write failed (the writer is done for). */
  get broken (): boolean {
    return this.failed
  }

  /**
   * Queues one frame.
   * @returns false when the writer is broken or the frame would pass `maxQueuedBytes`
   */
  write (frame: Uint8Array): boolean {
    if (this.failed || (this.bytes > 0 && this.bytes + frame.byteLength > this.options.maxQueuedBytes)) return false
    this.queue.push(frame)
    this.bytes += frame.byteLength
    if (this.pumping) return true
    const holdMs = this.options.holdMs
    if (holdMs !== undefined && this.queue.length < (this.options.holdFrames ?? 64)) {
      this.held ??= setTimeout(() => { this.sendNow() }, holdMs)
      return true
    }
    this.clearHeld()
    this.pumping = true
    setImmediate(() => { void this.pump() })
    return true
  }

  /** Hands what is queued to the stream now, in this turn (when it is not already sending). */
  sendNow (): void {
    this.clearHeld()
    if (this.pumping || this.queue.length === 0) return
    this.pumping = true
    void this.pump()
  }

  /** Resolves when everything queued before the call has been handed to the stream (or dropped). */
  async flushed (): Promise<void> {
    if (this.held !== undefined) this.sendNow()
    if (!this.pumping) return
    await new Promise<void>(resolve => { this.idle.push(resolve) })
  }

  private clearHeld (): void {
    if (this.held === undefined) return
    clearTimeout(this.held)
    this.held = undefined
  }

  private async pump (): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failed) {
        this.options.beforeSend?.()
        const batch = this.queue
        this.queue = []
        this.bytes = 0
        if (!this.stream.send(encodeBatch(batch))) await drained(this.stream)
      }
    } catch (err) {
      this.failed = true
      this.queue = []
      this.bytes = 0
      this.options.onError?.(err as Error)
    } finally {
      this.pumping = false
      for (const done of this.idle.splice(0)) done()
    }
  }
}

/**
 * Frames received on a request/response stream, waiting for {@link FrameInbox.receive}
 * (a pull reader, where {@link readFrames} pushes): what the registry's sync channels, on
 * libp2p and in memory under test, read from. One reader at a time.
 */
export class FrameInbox {
  private readonly frames: Uint8Array[] = []
  private ended = false
  private failure?: Error
  private wake?: () => void

  /** A frame arrived. */
  push (frame: Uint8Array): void {
    this.frames.push(frame)
    this.notify()
  }

  /** The other side closed its writing end: `receive` answers undefined once the queue is empty. */
  end (): void {
    this.ended = true
    this.notify()
  }

  /** The channel broke: `receive` throws `err` once the queue is empty (the first failure wins). */
  fail (err: Error): void {
    this.failure ??= err
    this.notify()
  }

  get closed (): boolean {
    return this.ended || this.failure !== undefined
  }

  /**
   * The next frame; undefined once the other side ended.
   * @throws the channel's failure, or `signal.reason` when aborted first
   */
  async receive (signal: AbortSignal): Promise<Uint8Array | undefined> {
    for (;;) {
      const next = this.frames.shift()
      if (next !== undefined) return next
      if (this.failure !== undefined) throw this.failure
      if (this.ended) return undefined
      signal.throwIfAborted()
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => { reject(signal.reason) }
        signal.addEventListener('abort', onAbort, { once: true })
        this.wake = () => {
          signal.removeEventListener('abort', onAbort)
          resolve()
        }
      })
    }
  }

  private notify (): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }
}
