/**
 * What crosses the MessagePort between the runtime (main thread) and an agent worker.
 *
 * Messages travel in batches, one `postMessage` each (per-message ping-pong tops out near
 * 15k/s; pipelined batches reach ~190k/s): a batch is one ArrayBuffer of frames
 * `slot u32 | flags u32 | length u32 | bytes`, where `bytes` is a message encoded for the
 * agent ABI and `flags` are {@link FRAME_FLAGS}. Results come back the same way, as records
 * (see `RecordKind`), in the order they happened, so an agent's sends precede the record of
 * the message that caused them. A buffer of up to {@link COPY_MAX_BYTES} crosses as a copy
 * (its writer keeps writing in its own buffer); a larger one is transferred, and handed
 * back to be written again: the last `results` of a batch says `done` and hands a
 * transferred batch buffer back (`spare`), and the runtime hands the transferred results
 * buffers it has read back with a later batch (`spares`). A buffer is allocated only when
 * traffic grows, never per batch (a copy is: one of the content's size).
 * All integers are little-endian.
 */

import type { AgentStateSnapshot } from './host/changes.js'

/** Options an agent worker needs to host one agent. */
export interface LoadRequest {
  t: 'load'
  /** The agent's slot: a number unique for the runtime's life (never reused). */
  slot: number
  agentId: string
  module: WebAssembly.Module
  /** Linear memory the host creates, pages. */
  memory: { initial: number, maximum: number }
  fuelPerMessage: number
  /** The wall-clock limit of one call, ms (for the reason given when the watchdog stops one). */
  handlerTimeoutMs: number
  /** The send budget (`budget.ts`). */
  sendsPerSecond: number
  sendBurst: number
  sendBytesPerSecond: number
  /** Longest message `env.send` accepts, bytes. */
  maxSendBytes: number
  /** Most `env.send` calls accepted while handling one message. */
  maxSendsPerMessage: number
  /** Most `env.log` calls passed on per message (the rest are dropped). */
  maxLogsPerMessage: number
  /** Longest `env.log` text passed on, bytes (longer text is truncated). */
  maxLogBytes: number
  /** The agent's store and timers to start from (ABI SPEC.md §7-§8); empty when absent. */
  state?: AgentStateSnapshot
}

export type ToWorker =
  | LoadRequest
  /** `spares`: transferred results buffers the runtime has read, handed back to be written again. */
  | { t: 'batch', buf: ArrayBuffer, length: number, spares: ArrayBuffer[] }
  | { t: 'unload', slot: number }

export type FromWorker =
  | { t: 'ready' }
  | { t: 'loaded', slot: number, memoryPages: number }
  | { t: 'load-failed', slot: number, reason: string }
  /** The instance at `slot` is gone; every result of what was posted before the unload came first. */
  | { t: 'unloaded', slot: number }
  /**
   * `done`: the last results of a batch (the worker is ready for another); `spare` is then
   * that batch's buffer if it was transferred, handed back to be written again.
   */
  | { t: 'results', buf: ArrayBuffer, length: number, done: boolean, spare?: ArrayBuffer }

/** Kinds of result records. */
export const RecordKind = {
  /**
   * slot u32 | status i32 | duration f64 (ms) | memory pages u32 | changes length u32 |
   * changes (`host/changes.ts`): `handle_message` returned, having changed the agent's
   * store and timers so.
   */
  Handled: 1,
  /** slot u32 | length u32 | bytes: `env.send` accepted these bytes (already decoded once). */
  Send: 2,
  /** slot u32 | length u32 | UTF-8 reason: `env.send` was refused (malformed, too large, quota). */
  SendRejected: 3,
  /** slot u32 | level u8 | length u32 | UTF-8 text: `env.log`. */
  Log: 4,
  /** slot u32 | failure kind u8 (index in FAILURE_KINDS) | memory pages u32 | length u32 | UTF-8 reason: the agent faulted and is gone. */
  Failed: 5,
  /** slot u32 | count u32: sends refused over the agent's send budget during the call just reported. */
  OverBudget: 6
} as const

/** Bits of a batch frame's `flags`. */
export const FRAME_FLAGS = {
  /** The agent sent this message itself: handling it earns no free send (see `sendsPerSecond`). */
  fromSelf: 1,
  /**
   * Post the results written so far once this message is handled, before the rest of the
   * batch runs: the runtime sets it after the cheap turns it put first (see `planBatch`).
   */
  flushAfter: 2
} as const

/** Why an agent faulted, for metrics. */
export const FAILURE_KINDS = ['trap', 'fuel', 'abort', 'stack', 'memory', 'host', 'timeout', 'crash'] as const
export type FailureKind = typeof FAILURE_KINDS[number]

/** Layout of the watchdog's shared words (Int32Array over a SharedArrayBuffer). */
export const Watch = {
  /** Slot of the agent running now; 0 when idle. */
  slot: 0,
  /** Incremented at every call into an agent. */
  sequence: 1,
  /** Non-zero while the node's outbox is full: `env.send` answers `outboxFull`. */
  backpressure: 2,
  /** The `sequence` of a call the watchdog wants stopped: the agent fails at its next refuel or host call. */
  interrupt: 3,
  length: 4
} as const

/** What the worker receives in `workerData`. */
export interface AgentWorkerData {
  watch: SharedArrayBuffer
}

/** Bytes before a batch frame's payload. */
export const FRAME_HEADER_BYTES = 12

/**
 * Content up to this size crosses to and from a worker as a copy, not a transfer, bytes.
 * Transferring costs ~4-5 µs per ArrayBuffer on this machine (a small batch went with its
 * results' buffers handed back: two to five transfers, 10-20 µs of `postMessage` on the
 * main thread), where copying 16 KiB costs ~2 µs; past ~16-32 KiB the copy costs more.
 */
export const COPY_MAX_BYTES = 16 * 1024

/**
 * Whether a received batch or results buffer was transferred (larger than
 * {@link COPY_MAX_BYTES}), and so is worth handing back to be written again; a copy is not.
 */
export function wasTransferred (buf: ArrayBuffer): boolean {
  return buf.byteLength > COPY_MAX_BYTES
}

/** Buffers a {@link ByteWriter} keeps to write in again (see `recycle`), and their largest size, bytes. */
const MAX_SPARES = 4
const MAX_SPARE_BYTES = 1 << 20

/**
 * A growable little-endian byte writer, handed off as a transferable ArrayBuffer. After
 * `take()` it allocates again only when written to, at the size last needed, or writes
 * in a buffer handed back to it (`recycle`).
 */
export class ByteWriter {
  private buf = new ArrayBuffer(0)
  private bytes = new Uint8Array(0)
  private view = new DataView(this.buf)
  private nextSize: number
  private readonly spares: ArrayBuffer[] = []
  length = 0

  constructor (initialBytes = 16384) {
    this.nextSize = initialBytes
  }

  reserve (n: number): void {
    if (this.length + n <= this.buf.byteLength) return
    let size = Math.max(this.buf.byteLength * 2, this.nextSize)
    while (size < this.length + n) size *= 2
    // A spare too small for what is needed now is dropped: sizes follow the traffic.
    const spare = this.spares.pop()
    const next = spare !== undefined && spare.byteLength >= size ? spare : new ArrayBuffer(size)
    const bytes = new Uint8Array(next)
    bytes.set(this.bytes.subarray(0, this.length))
    this.buf = next
    this.bytes = bytes
    this.view = new DataView(next)
  }

  u8 (v: number): void { this.reserve(1); this.bytes[this.length++] = v }
  u32 (v: number): void { this.reserve(4); this.view.setUint32(this.length, v, true); this.length += 4 }
  i32 (v: number): void { this.reserve(4); this.view.setInt32(this.length, v, true); this.length += 4 }
  f64 (v: number): void { this.reserve(8); this.view.setFloat64(this.length, v, true); this.length += 8 }
  raw (b: Uint8Array): void { this.reserve(b.length); this.bytes.set(b, this.length); this.length += b.length }
  /** Sets `bits` in the `u32` already written at byte `at`. */
  orU32At (at: number, bits: number): void { this.view.setUint32(at, this.view.getUint32(at, true) | bits, true) }

  /** A `u32` length then the UTF-8 bytes of `s`. */
  text (s: string): void {
    this.reserve(4 + s.length * 3)
    const { written } = encoder.encodeInto(s, this.bytes.subarray(this.length + 4))
    this.view.setUint32(this.length, written, true)
    this.length += 4 + written
  }

  /**
   * Takes back a buffer `take()` handed over, once its reader is done with it (its transfer
   * came back), to write in again: a new one of a few hundred KiB costs its zeroing and
   * page faults (measured with a sink agent: 1.7% of the main thread's time, perf).
   * Keeps a few of at most 1 MiB (a burst of large messages leaves no large buffers
   * behind); the rest are left to the GC.
   */
  recycle (buf: ArrayBuffer): void {
    if (this.spares.length < MAX_SPARES && buf.byteLength > 0 && buf.byteLength <= MAX_SPARE_BYTES) this.spares.push(buf)
  }

  /**
   * The content, to post: up to {@link COPY_MAX_BYTES}, a copy of it (`transfer` false:
   * the writer keeps its buffer and starts empty); past that, the buffer itself, to
   * transfer (`take`).
   */
  hand (): { buf: ArrayBuffer, length: number, transfer: boolean } {
    if (this.length > COPY_MAX_BYTES) return { ...this.take(), transfer: true }
    const length = this.length
    this.length = 0
    return { buf: this.buf.slice(0, length), length, transfer: false }
  }

  /** Hands the buffer over (to transfer); the writer starts empty. */
  take (): { buf: ArrayBuffer, length: number } {
    const out = { buf: this.buf, length: this.length }
    // The size this content needed, not the buffer's: one burst would otherwise set the
    // size of every later buffer (a flood's 1,000 sends in one call left each results
    // buffer of its worker at 256 KiB for ~0.5 KiB of records, for good: an allocation of
    // 256 KiB per batch and the GCs it causes doubled echo's p99 on that worker).
    this.nextSize = Math.max(1024, Math.min(2 ** Math.ceil(Math.log2(Math.max(1, this.length))), MAX_SPARE_BYTES))
    this.buf = new ArrayBuffer(0)
    this.bytes = new Uint8Array(0)
    this.view = new DataView(this.buf)
    this.length = 0
    return out
  }
}

const encoder = new TextEncoder()
