/**
 * Entry point of an agent worker (worker_threads): hosts many agents, each its own
 * WebAssembly instance with its own host-owned linear memory, and runs their messages in
 * the order the runtime batched them (so order is preserved per agent).
 *
 * A fault (trap, out of fuel, abort, stack overflow) ends only the agent that faulted:
 * its instance is dropped and a `Failed` record says why; the other agents go on. A
 * handler that runs too long is the runtime's watchdog's to find: it reads the slot and
 * call sequence this file publishes in shared memory before every call, and asks for that
 * call to stop by writing its sequence to `Watch.interrupt`; the call then fails at its
 * next refuel (every fuel slice, see `fuel.ts`) or host call, inside its own instance.
 * Only a worker that does not answer is terminated (see `agent-runtime.ts`).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { SEND_RESULT, WASM_PAGE_BYTES, checkFromAgent } from '../../protocols/agent-abi/index.js'
import { SendBudget } from './budget.js'
import { FUEL_EXPORT, REFUEL_IMPORT } from './fuel.js'
import { AgentHostState } from './host/state.js'
import { START_EXPORT } from './policy.js'
import {
  ByteWriter, FAILURE_KINDS, FRAME_FLAGS, FRAME_HEADER_BYTES, RecordKind, Watch, wasTransferred,
  type AgentWorkerData, type FailureKind, type LoadRequest, type ToWorker
} from './worker-protocol.js'

const port = parentPort
if (port === null) throw new Error('agent-worker.ts must run in a worker thread')
const watch = new Int32Array((workerData as AgentWorkerData).watch)

/** Results are posted back at the end of each batch, or sooner past these sizes. */
const FLUSH_RECORDS = 256
const FLUSH_BYTES = 256 * 1024
/** Longest `abort` message decoded, UTF-16 code units. */
const MAX_ABORT_TEXT = 1024
/**
 * Fuel handed to a call at a time: between two refuels nothing can stop it, so this
 * bounds how long the watchdog waits for a call it interrupted (2^18 units of fuel run in
 * well under a millisecond of ordinary code), at the cost of a host call per slice.
 */
const FUEL_SLICE = 1 << 18

const utf16 = new TextDecoder('utf-16le')
const out = new ByteWriter(64 * 1024)
let records = 0

/** `env.abort` was called: AssemblyScript's `abort()`, a failed assertion or a thrown error. */
class AgentAbort extends Error {}

/** A fault the host detected itself (e.g. `alloc` returned a pointer outside memory). */
class HostFault extends Error {
  constructor (readonly kind: FailureKind, message: string) { super(message) }
}

interface AgentInstance {
  slot: number
  id: string
  memory: WebAssembly.Memory
  /**
   * Bytes of `memory` when last read: a lower bound (linear memory never shrinks), so a
   * send within it needs no read of `memory.buffer` (~20 ns each, about 40% of what a
   * refused `env.send` cost: the flood agent's 1,000 calls per message).
   */
  memoryBytes: number
  maxPages: number
  alloc: (size: number) => number
  handle: (ptr: number, len: number) => number
  fuel: WebAssembly.Global
  budget: number
  /** Fuel of the current call not yet handed out (see {@link refuel}). */
  fuelLeft: number
  /** `env.send` / `env.log` calls during the current message. */
  sends: number
  logs: number
  limits: LoadRequest
  sendBudget: SendBudget
  /** Sends of the current call that cost no budget (a reply to a message from someone else). */
  freeSends: number
  /** Sends of the current call refused over the budget. */
  overBudget: number
  /** `performance.now()` when the current call began: the budget's clock. */
  callStart: number
  /** Its store and timers (ABI SPEC.md §6-§8). */
  state: AgentHostState
}

const agents = new Map<number, AgentInstance>()

function pages (a: AgentInstance): number {
  return a.memory.buffer.byteLength / WASM_PAGE_BYTES
}

/** The `Watch.sequence` of the call running now. */
let callSeq = 0

/** The watchdog asked the running call to stop (see `Watch.interrupt`). */
function interrupted (a: AgentInstance): HostFault {
  return new HostFault('timeout', `handler ran longer than ${a.limits.handlerTimeoutMs} ms (handlerTimeoutMs): stopped by the watchdog`)
}

function checkInterrupt (a: AgentInstance): void {
  if (Atomics.load(watch, Watch.interrupt) === callSeq) throw interrupted(a)
}

/** Gives a call its first fuel slice; the rest is handed out by {@link refuel}. */
function setFuel (a: AgentInstance): void {
  const slice = Math.min(a.budget, FUEL_SLICE)
  a.fuelLeft = a.budget - slice
  a.fuel.value = slice
}

/**
 * The import {@link REFUEL_IMPORT}: the counter went negative (`counter` < 0, by the
 * overshoot). Charges the overshoot to what is left and returns the next slice.
 * @throws HostFault `fuel` when the budget is spent, `timeout` when the watchdog asked
 */
function refuel (a: AgentInstance, counter: number): number {
  checkInterrupt(a)
  a.fuelLeft += counter
  if (a.fuelLeft < 0) throw new HostFault('fuel', `out of fuel: handling one message took more than ${a.budget} fuel (fuelPerMessage)`)
  const slice = Math.min(a.fuelLeft, FUEL_SLICE)
  a.fuelLeft -= slice
  return slice
}

/**
 * Charges a send of `len` bytes to the agent's send budget: false when over it. The first
 * send of a call handling someone else's message is free (a reply is paid for by the request).
 */
function chargeSend (a: AgentInstance, len: number): boolean {
  if (a.freeSends > 0) {
    a.freeSends--
    return true
  }
  if (a.sendBudget.allow(len, a.callStart)) return true
  a.overBudget++
  return false
}

/** Imports the sandbox adds to the module (`fuel.ts`). */
function sandboxImports (a: AgentInstance): WebAssembly.ModuleImports {
  return { [REFUEL_IMPORT]: (counter: number): number => refuel(a, counter) }
}

/** Starts a call of `a`: the watchdog's words, fuel, the per-call counters. */
function beginCall (a: AgentInstance, freeSends: number): void {
  enter(a.slot)
  a.sends = 0
  a.logs = 0
  a.freeSends = freeSends
  a.overBudget = 0
  a.callStart = performance.now()
  setFuel(a)
}

/** After a call that returned: tells the runtime how many of its sends were over budget. */
function reportOverBudget (a: AgentInstance): void {
  if (a.overBudget === 0) return
  out.u8(RecordKind.OverBudget); out.u32(a.slot); out.u32(a.overBudget)
  records++
}

function rejectSend (a: AgentInstance, reason: string): void {
  out.u8(RecordKind.SendRejected); out.u32(a.slot); out.text(reason)
  records++
}

function hostImports (a: AgentInstance): WebAssembly.ModuleImports {
  return {
    ...sandboxImports(a),
    memory: a.memory,
    send: (ptr: number, len: number): number => {
      checkInterrupt(a)
      const limits = a.limits
      if (a.sends >= limits.maxSendsPerMessage) {
        if (a.sends++ === limits.maxSendsPerMessage) {
          rejectSend(a, `more than ${limits.maxSendsPerMessage} sends while handling one message; further sends are refused`)
        }
        return SEND_RESULT.quotaExceeded
      }
      a.sends++
      // The node's outbox is full: refused without a record (a NOT-UNDERSTOOD would only add to it).
      if (Atomics.load(watch, Watch.backpressure) !== 0) return SEND_RESULT.outboxFull
      ptr >>>= 0
      len >>>= 0
      if (len > limits.maxSendBytes) {
        rejectSend(a, `message of ${len} bytes exceeds the limit of ${limits.maxSendBytes} bytes`)
        return SEND_RESULT.tooLarge
      }
      if (ptr + len > a.memoryBytes && ptr + len > (a.memoryBytes = a.memory.buffer.byteLength)) {
        rejectSend(a, `send(ptr=${ptr}, len=${len}) is outside linear memory (${a.memoryBytes} bytes)`)
        return SEND_RESULT.malformed
      }
      if (!chargeSend(a, len)) return SEND_RESULT.overBudget
      const bytes = new Uint8Array(a.memory.buffer, ptr, len)
      // Checked here to answer the agent synchronously; the main thread decodes the
      // forwarded bytes (cheaper than cloning a decoded object across threads).
      const malformed = checkFromAgent(bytes)
      if (malformed !== undefined) {
        rejectSend(a, malformed)
        return SEND_RESULT.malformed
      }
      out.u8(RecordKind.Send); out.u32(a.slot); out.u32(len); out.raw(bytes)
      records++
      return SEND_RESULT.accepted
    },
    log: (level: number, ptr: number, len: number): void => {
      if (a.logs++ >= a.limits.maxLogsPerMessage) return
      ptr >>>= 0
      len = Math.min(len >>> 0, a.limits.maxLogBytes)
      const buffer = a.memory.buffer
      out.u8(RecordKind.Log); out.u32(a.slot); out.u8(Math.max(0, Math.min(3, level | 0)))
      if (ptr + len > buffer.byteLength) {
        out.text(`(log text at ptr=${ptr}, len=${len} is outside linear memory)`)
      } else {
        out.u32(len); out.raw(new Uint8Array(buffer, ptr, len))
      }
      records++
    },
    abort: (msg: number, file: number, line: number, col: number): never => {
      const text = readAsString(a, msg) ?? 'abort called'
      const where = readAsString(a, file)
      throw new AgentAbort(where === null ? text : `${text} at ${where}:${line >>> 0}:${col >>> 0}`)
    },
    ...a.state.imports({ memory: () => a.memory.buffer, charge: fuel => { charge(a, fuel) } })
  }
}

/**
 * A host function's fuel, taken from the current slice like metered code's: past the
 * slice, {@link refuel} charges the overshoot to the rest of the budget.
 * @throws HostFault `fuel` when the budget runs out, `timeout` when the watchdog asked
 */
function charge (a: AgentInstance, fuel: number): void {
  const left = (a.fuel.value as number) - fuel
  a.fuel.value = left < 0 ? refuel(a, left) : left
}

/**
 * Reads an AssemblyScript string: UTF-16LE code units at `ptr`, their byte length in the
 * u32 just before (the object header's `rtSize`). Null when absent or out of bounds.
 */
function readAsString (a: AgentInstance, ptr: number): string | null {
  ptr >>>= 0
  const buffer = a.memory.buffer
  if (ptr < 4 || ptr > buffer.byteLength) return null
  const size = new DataView(buffer).getUint32(ptr - 4, true)
  const n = Math.min(size, MAX_ABORT_TEXT * 2) & ~1
  if (ptr + n > buffer.byteLength) return null
  return utf16.decode(new Uint8Array(buffer, ptr, n))
}

function classify (a: AgentInstance, err: unknown): { kind: FailureKind, reason: string } {
  if (err instanceof AgentAbort) return { kind: 'abort', reason: `aborted: ${err.message}` }
  if (err instanceof HostFault) return { kind: err.kind, reason: err.message }
  const memory = `linear memory ${pages(a)}/${a.maxPages} pages`
  if (err instanceof WebAssembly.RuntimeError) {
    if ((a.fuel.value as number) < 0) {
      return { kind: 'fuel', reason: `out of fuel: handling one message took more than ${a.budget} fuel (fuelPerMessage)` }
    }
    const atCap = pages(a) >= a.maxPages
    return { kind: atCap ? 'memory' : 'trap', reason: `trap: ${err.message} (${memory}${atCap ? ', at its cap: out of memory?' : ''})` }
  }
  if (err instanceof RangeError) return { kind: 'stack', reason: `stack overflow: ${err.message}` }
  if (err instanceof WebAssembly.LinkError) return { kind: 'host', reason: `cannot link: ${err.message}` }
  return { kind: 'host', reason: `host error: ${err instanceof Error ? err.message : String(err)}` }
}

function fail (a: AgentInstance, err: unknown): void {
  const { kind, reason } = classify(a, err)
  agents.delete(a.slot)
  out.u8(RecordKind.Failed); out.u32(a.slot); out.u8(FAILURE_KINDS.indexOf(kind)); out.u32(pages(a)); out.text(reason)
  records++
}

function enter (slot: number): void {
  Atomics.store(watch, Watch.slot, slot)
  callSeq = (Atomics.add(watch, Watch.sequence, 1) + 1) | 0
}

function leave (): void {
  Atomics.store(watch, Watch.slot, 0)
}

function load (req: LoadRequest): void {
  enter(req.slot)
  const a = {
    slot: req.slot,
    id: req.agentId,
    maxPages: req.memory.maximum,
    budget: req.fuelPerMessage,
    memoryBytes: 0,
    sends: 0,
    logs: 0,
    limits: req,
    sendBudget: new SendBudget(req, performance.now()),
    state: new AgentHostState(req.state)
  } as AgentInstance
  // What the start function sends or logs is kept only if it succeeds.
  const mark = out.length
  const markRecords = records
  try {
    a.memory = new WebAssembly.Memory({ initial: req.memory.initial, maximum: req.memory.maximum })
    const instance = new WebAssembly.Instance(req.module, { env: hostImports(a) })
    const exports = instance.exports
    a.alloc = exports.alloc as AgentInstance['alloc']
    a.handle = exports.handle_message as AgentInstance['handle']
    a.fuel = exports[FUEL_EXPORT] as WebAssembly.Global
    const start = exports[START_EXPORT]
    beginCall(a, 0)
    a.state.readOnly = true
    if (typeof start === 'function') (start as () => void)()
    a.state.readOnly = false
    agents.set(a.slot, a)
    leave()
    reportOverBudget(a)
    flush()
    port?.postMessage({ t: 'loaded', slot: a.slot, memoryPages: pages(a) })
  } catch (err) {
    leave()
    out.length = mark
    records = markRecords
    const reason = a.fuel === undefined || a.memory === undefined
      ? `cannot instantiate: ${err instanceof Error ? err.message : String(err)}`
      : `start function failed: ${classify(a, err).reason}`
    port?.postMessage({ t: 'load-failed', slot: a.slot, reason })
  }
}

function handleOne (a: AgentInstance, batch: Uint8Array, off: number, len: number, flags: number): void {
  beginCall(a, (flags & FRAME_FLAGS.fromSelf) !== 0 ? 0 : 1)
  const t0 = a.callStart
  let status = 0
  try {
    const message = batch.subarray(off, off + len)
    // The message of a timer cancelled after it fired is dropped, unhandled (SPEC.md §8).
    if (a.state.admit(message, a.id)) {
      const ptr = a.alloc(len) >>> 0
      const buffer = a.memory.buffer
      if (ptr + len > buffer.byteLength) throw new HostFault('memory', `alloc(${len}) returned ${ptr}, outside linear memory (${buffer.byteLength} bytes)`)
      new Uint8Array(buffer, ptr, len).set(message)
      status = a.handle(ptr, len)
    }
  } catch (err) {
    leave()
    fail(a, err)
    return
  }
  const ms = performance.now() - t0
  leave()
  reportOverBudget(a)
  out.u8(RecordKind.Handled); out.u32(a.slot); out.i32(status | 0); out.f64(ms); out.u32(pages(a))
  a.state.writeChanges(out)
  records++
}

/**
 * Posts the records written so far; `done` ends a batch (posted even when empty) and hands
 * its buffer back to the runtime (`spare`), to be written again, if it was transferred.
 */
function flush (done = false, spare?: ArrayBuffer): void {
  if (out.length === 0 && !done) return
  const { buf, length, transfer } = out.hand()
  records = 0
  const back = spare !== undefined && wasTransferred(spare) ? spare : undefined
  const list: ArrayBuffer[] = transfer ? [buf] : []
  if (back !== undefined) list.push(back)
  port?.postMessage({ t: 'results', buf, length, done, spare: back }, list)
}

function runBatch (buf: ArrayBuffer, length: number): void {
  const view = new DataView(buf, 0, length)
  const bytes = new Uint8Array(buf, 0, length)
  let off = 0
  while (off + FRAME_HEADER_BYTES <= length) {
    const slot = view.getUint32(off, true)
    const flags = view.getUint32(off + 4, true)
    const len = view.getUint32(off + 8, true)
    off += FRAME_HEADER_BYTES
    const a = agents.get(slot)
    // Messages behind a fault are dropped: the runtime forgets the agent's mailbox when
    // it reads the `Failed` record.
    if (a !== undefined) handleOne(a, bytes, off, len, flags)
    off += len
    if ((flags & FRAME_FLAGS.flushAfter) !== 0 || records >= FLUSH_RECORDS || out.length >= FLUSH_BYTES) flush()
  }
  flush(true, buf)
}

port.on('message', (msg: ToWorker) => {
  switch (msg.t) {
    case 'batch':
      for (const spare of msg.spares) out.recycle(spare)
      runBatch(msg.buf, msg.length)
      break
    case 'load': load(msg); break
    case 'unload':
      agents.delete(msg.slot)
      // Every result of a message posted before the unload has been posted by now.
      port?.postMessage({ t: 'unloaded', slot: msg.slot })
      break
  }
})
port.postMessage({ t: 'ready' })
