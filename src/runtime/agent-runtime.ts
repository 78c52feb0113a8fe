/**
 * The WebAssembly agent runtime: deploys agents into a pool of worker threads, delivers
 * messages to them through bounded mailboxes, and reports what they send, log and how
 * they fail. `index.ts` is the public face; the ABI is `protocols/agent-abi/SPEC.md`.
 *
 * Threads: the main thread owns every agent's mailbox and state; agent workers
 * (`agent-worker.ts`) own the instances, many agents each; the policy worker
 * (`policy-worker.ts`) owns binaryen. Messages cross to a worker in batches (one
 * transferred buffer per worker per turn of the event loop) and come back the same way.
 *
 * Faults: fuel stops runaway loops inside WebAssembly deterministically; a watchdog is
 * the backstop for a call that still runs past `handlerTimeoutMs` (e.g. fuel set very
 * high): it terminates that worker, fails the offending agent, and restarts the worker's
 * other agents from their modules (their in-memory state is lost; each is logged, counted
 * in `stats.restarts` and reported through `host.onAgentRestarted`). Messages they had
 * not yet been reported as handling are posted again to the new instance, so a handler
 * runs at least once; what it sent is reported with its `Handled` record only
 * (`host.onHandled`), so the sends of a run that did not finish are never seen.
 */
import { createHash } from 'node:crypto'
import { availableParallelism } from 'node:os'
import type { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import type { MetricsRegistry } from '../observability/metrics.js'
import { LRUCache } from 'lru-cache'
import { LOG_LEVELS, WASM_PAGE_BYTES, decodeFromAgent, encodeForAgent } from '../../protocols/agent-abi/index.js'
import type { AclMessage, AgentId } from '../../protocols/fipa/types.js'
import { isAgentId } from '../../protocols/fipa/rules.js'
import { silentLogger } from '../observability/logger.js'
import {
  AgentExistsError, AgentNotFoundError, InvalidAgentIdError, InvalidModuleError, RuntimeNotRunningError
} from './errors.js'
import { DEFAULT_AGENT_LIMITS, resolveLimits } from './limits.js'
import { Mailbox } from './mailbox.js'
import { AGENT_STATES, RuntimeMetrics } from './metrics.js'
import { PolicyClient } from './policy-client.js'
import type {
  AgentInfo, AgentLimits, AgentOutbound, AgentRuntime, AgentState, AgentStats, DeliverResult, ModuleReport, RuntimeHost
} from './types.js'
import {
  ByteWriter, FAILURE_KINDS, RecordKind, Watch,
  type AgentWorkerData, type FailureKind, type FromWorker, type LoadRequest, type ToWorker
} from './worker-protocol.js'
import { spawnWorker } from './worker-spawn.js'

/** A worker that crashed this many times within `CRASH_WINDOW_MS` is not replaced again. */
const MAX_CRASHES = 5
const CRASH_WINDOW_MS = 10_000
/** A batch posted to a worker is cut at about this size, bytes. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024

/** Options of {@link createAgentRuntime}. */
export interface AgentRuntimeOptions {
  host: RuntimeHost
  /** @default silent */
  logger?: Logger
  /** The node's registry; no metrics without one. */
  metrics?: MetricsRegistry
  /** Limits of agents deployed without their own, over `DEFAULT_AGENT_LIMITS`. */
  defaults?: Partial<AgentLimits>
  /** Agent worker threads. @default max(1, min(4, availableParallelism() - 1)) */
  workers?: number
  /** How long `stop()` / `remove()` wait for mailboxes to drain, ms. @default 5000 */
  drainTimeoutMs?: number
  /** Longest message an agent may pass to `env.send`, bytes. @default 1048576 */
  maxSendBytes?: number
  /** Most `env.send` calls accepted while handling one message. @default 1000 */
  maxSendsPerMessage?: number
  /** Most `env.log` lines passed on per message; the rest are dropped. @default 100 */
  maxLogsPerMessage?: number
  /** Longest `env.log` text passed on, bytes; longer text is cut. @default 4096 */
  maxLogBytes?: number
  /** Compiled modules kept, by hash (least recently used dropped first). @default 64 */
  moduleCacheSize?: number
  /** The policy worker (binaryen) is stopped after this long unused, ms. @default 60000 */
  policyIdleMs?: number
  /** Wall clock for `deployedAt`, ms since the epoch. @default Date.now */
  now?: () => number
}

interface CompiledAgentModule {
  report: ModuleReport
  module: WebAssembly.Module
}

/** An agent as the runtime holds it: limits, state, mailbox, stats, and the worker slot it runs in. */
class AgentSlot {
  state: AgentState = 'loaded'
  lastError: string | undefined
  readonly stats: Required<AgentStats> = { received: 0, handled: 0, sent: 0, errors: 0, queued: 0, memoryPages: 0, restarts: 0 }
  readonly mailbox: Mailbox
  worker: AgentWorker | undefined
  compiled: CompiledAgentModule | undefined
  /** In its worker's dirty list (has messages to post). */
  dirty = false
  drainWaiters: Array<() => void> = []
  removing: Promise<string[]> | undefined
  /** Sends of the message being handled, reported with its `Handled` record. */
  sends: AgentOutbound[] = []
  /** Its start function runs: sends now are reported on their own (`onAgentSend`). */
  starting = false

  constructor (
    readonly id: AgentId,
    readonly slot: number,
    readonly limits: AgentLimits,
    readonly deployedAt: number,
    readonly moduleBytes: number
  ) {
    this.mailbox = new Mailbox(limits.mailboxCapacity)
  }
}

class AgentWorker {
  readonly agents = new Set<AgentSlot>()
  readonly dirty: AgentSlot[] = []
  readonly loads = new Map<number, { resolve: (pages: number) => void, reject: (err: Error) => void }>()
  /** Terminated (by us) or exited: its messages are ignored from then on. */
  closed = false
  /** Its entry module loaded (it posted 'ready'). */
  isReady = false
  readonly ready = Promise.withResolvers<void>()
  watchSeq = -1
  watchSince = -1

  constructor (readonly id: number, readonly worker: Worker, readonly watch: Int32Array) {}

  post (msg: ToWorker, transfer?: Transferable[]): void {
    this.worker.postMessage(msg, transfer as never)
  }
}

/**
 * The runtime. Created with {@link createAgentRuntime}; implements {@link AgentRuntime}.
 */
export class WasmAgentRuntime implements AgentRuntime {
  private readonly host: RuntimeHost
  private readonly log: Logger
  private readonly metrics: RuntimeMetrics | undefined
  private readonly defaults: AgentLimits
  private readonly workerCount: number
  private readonly drainTimeoutMs: number
  private readonly sandbox: Pick<LoadRequest, 'maxSendBytes' | 'maxSendsPerMessage' | 'maxLogsPerMessage' | 'maxLogBytes'>
  private readonly now: () => number
  private readonly policy: PolicyClient
  private readonly agents = new Map<AgentId, AgentSlot>()
  private readonly slots = new Map<number, AgentSlot>()
  /** Compiled modules by sha256, least recently used dropped first. */
  private readonly modules: LRUCache<string, Promise<CompiledAgentModule>>
  private workers: AgentWorker[] = []
  private nextSlot = 1
  private nextWorkerId = 1
  private running = false
  private stopping: Promise<void> | undefined
  private flushScheduled = false
  private watchdog: NodeJS.Timeout | undefined
  private watchdogTickMs = 0
  private crashes: number[] = []
  private backpressure = false
  private readonly utf8 = new TextDecoder()

  constructor (options: AgentRuntimeOptions) {
    this.host = options.host
    this.log = options.logger ?? silentLogger()
    this.defaults = resolveLimits(DEFAULT_AGENT_LIMITS, options.defaults)
    this.workerCount = options.workers ?? Math.max(1, Math.min(4, availableParallelism() - 1))
    if (!Number.isInteger(this.workerCount) || this.workerCount < 1) throw new RangeError(`workers must be a positive integer, got ${this.workerCount}`)
    this.drainTimeoutMs = options.drainTimeoutMs ?? 5000
    this.sandbox = {
      maxSendBytes: options.maxSendBytes ?? 1024 * 1024,
      maxSendsPerMessage: options.maxSendsPerMessage ?? 1000,
      maxLogsPerMessage: options.maxLogsPerMessage ?? 100,
      maxLogBytes: options.maxLogBytes ?? 4096
    }
    this.modules = new LRUCache({ max: options.moduleCacheSize ?? 64 })
    this.now = options.now ?? Date.now
    this.policy = new PolicyClient({ logger: this.log.child({ component: 'caxton:runtime:policy' }), idleMs: options.policyIdleMs })
    this.metrics = options.metrics === undefined ? undefined : new RuntimeMetrics(options.metrics, () => this.countByState())
  }

  async start (): Promise<void> {
    if (this.running) return
    if (this.stopping !== undefined) await this.stopping
    this.stopping = undefined
    // Agents listed as stopped by the last stop() are forgotten on a new start.
    this.agents.clear()
    this.slots.clear()
    const workers = Array.from({ length: this.workerCount }, () => this.startWorker())
    try {
      await Promise.all(workers.map(async w => { await w.ready.promise }))
    } catch (err) {
      this.workers = []
      for (const w of workers) { w.closed = true; void w.worker.terminate() }
      throw err
    }
    this.running = true
    this.rescheduleWatchdog()
    this.log.info({ workers: this.workerCount }, 'agent runtime started')
  }

  async stop (): Promise<void> {
    if (this.stopping !== undefined) return await this.stopping
    if (!this.running) return
    this.running = false
    this.stopping = this.shutdown()
    await this.stopping
  }

  private async shutdown (): Promise<void> {
    const live = [...this.agents.values()].filter(a => a.state === 'running' || a.state === 'draining')
    for (const a of live) a.state = 'draining'
    const deadline = performance.now() + this.drainTimeoutMs
    await Promise.all(live.map(async a => await this.drain(a, deadline)))
    for (const a of live) {
      // What is left stays in the durable inbox (the host's), for the next start.
      const left = a.mailbox.size
      a.mailbox.clear()
      if (left > 0) this.log.warn({ agentId: a.id, left }, 'agent stopped before its mailbox drained')
      if (a.state === 'draining') a.state = 'stopped'
    }
    for (const a of this.agents.values()) if (a.state === 'loaded') a.state = 'stopped'
    if (this.watchdog !== undefined) clearInterval(this.watchdog)
    this.watchdog = undefined
    const workers = this.workers
    this.workers = []
    for (const w of workers) {
      w.closed = true
      for (const l of w.loads.values()) l.reject(new RuntimeNotRunningError())
    }
    await Promise.all([...workers.map(async w => await w.worker.terminate()), this.policy.stop()])
    this.log.info('agent runtime stopped')
  }

  async inspect (wasm: Uint8Array): Promise<ModuleReport> {
    if (!this.running) throw new RuntimeNotRunningError()
    const bytes = asBytes(wasm)
    const hash = sha256(bytes)
    const cached = this.modules.get(hash)
    let report: ModuleReport
    if (cached !== undefined) {
      report = (await cached).report
    } else {
      const result = await this.policy.check(bytes, false)
      report = { hash, ...result.report }
    }
    checkMemoryCap(report, this.defaults.maxMemoryPages)
    return report
  }

  async deploy (id: AgentId, wasm: Uint8Array, limits?: Partial<AgentLimits>): Promise<AgentInfo> {
    if (!this.running) throw new RuntimeNotRunningError()
    if (!isAgentId(id)) throw new InvalidAgentIdError(String(id))
    if (this.agents.has(id)) throw new AgentExistsError(id)
    const resolved = resolveLimits(this.defaults, limits)
    const bytes = asBytes(wasm)
    const started = performance.now()
    const a = new AgentSlot(id, this.nextSlot++, resolved, this.now(), bytes.length)
    this.agents.set(id, a)
    try {
      const compiled = await this.compile(bytes)
      checkMemoryCap(compiled.report, resolved.maxMemoryPages)
      a.compiled = compiled
      if (this.agents.get(id) !== a) throw new AgentNotFoundError(id)
      if (!this.running) throw new RuntimeNotRunningError()
      this.slots.set(a.slot, a)
      const w = this.pickWorker()
      if (w === undefined) throw new Error('no agent worker is running (workers kept crashing; see the log)')
      a.worker = w
      w.agents.add(a)
      a.stats.memoryPages = await this.load(w, a)
      if (this.agents.get(id) !== a) {
        this.unload(a)
        throw new AgentNotFoundError(id)
      }
      a.state = 'running'
      this.rescheduleWatchdog()
      this.metrics?.deploys.observe({ result: 'ok' }, (performance.now() - started) / 1000)
      this.log.info({ agentId: id, hash: compiled.report.hash, ms: Math.round(performance.now() - started) }, 'agent deployed')
      return this.info(a)
    } catch (err) {
      this.metrics?.deploys.observe({ result: 'error' }, (performance.now() - started) / 1000)
      if (this.agents.get(id) === a) {
        this.agents.delete(id)
        this.unload(a)
      }
      throw err
    }
  }

  async remove (id: AgentId): Promise<string[]> {
    const a = this.agents.get(id)
    if (a === undefined) throw new AgentNotFoundError(id)
    if (a.removing !== undefined) return await a.removing
    a.removing = (async () => {
      let left: string[] = []
      if (a.state === 'running') {
        a.state = 'draining'
        await this.drain(a, performance.now() + this.drainTimeoutMs)
        left = a.mailbox.clear()
        if (left.length > 0) this.log.warn({ agentId: id, left: left.length }, 'agent removed before its mailbox drained')
      }
      this.unload(a)
      if (a.state !== 'failed') a.state = 'stopped'
      if (this.agents.get(id) === a) this.agents.delete(id)
      this.log.info({ agentId: id }, 'agent removed')
      return left
    })()
    return await a.removing
  }

  deliver (id: AgentId, message: AclMessage, token?: string, force = false): DeliverResult {
    const a = this.agents.get(id)
    if (a === undefined) return 'no-such-agent'
    if (a.state !== 'running') return 'not-running'
    if (!a.mailbox.push(encodeForAgent(message), token, force)) return 'mailbox-full'
    a.stats.received++
    this.markDirty(a)
    return 'queued'
  }

  admit (id: AgentId, reserved = 0): DeliverResult {
    const a = this.agents.get(id)
    if (a === undefined) return 'no-such-agent'
    if (a.state !== 'running') return 'not-running'
    return a.mailbox.size + reserved >= a.limits.mailboxCapacity ? 'mailbox-full' : 'queued'
  }

  setSendBackpressure (on: boolean): void {
    if (this.backpressure === on) return
    this.backpressure = on
    for (const w of this.workers) Atomics.store(w.watch, Watch.backpressure, on ? 1 : 0)
  }

  has (id: AgentId): boolean {
    return this.agents.has(id)
  }

  get (id: AgentId): AgentInfo | undefined {
    const a = this.agents.get(id)
    return a === undefined ? undefined : this.info(a)
  }

  list (): AgentInfo[] {
    return [...this.agents.values()].map(a => this.info(a))
  }

  // --- deploy internals ---

  /** Policy check + fuel pass (policy worker), then compile; cached by sha256. */
  private async compile (bytes: Uint8Array): Promise<CompiledAgentModule> {
    const hash = sha256(bytes)
    let entry = this.modules.get(hash)
    if (entry !== undefined) return await entry
    entry = (async () => {
      const result = await this.policy.check(bytes, true)
      const instrumented = result.instrumented
      if (instrumented === undefined) throw new Error('policy worker returned no instrumented module')
      let module: WebAssembly.Module
      try {
        module = result.module ?? await WebAssembly.compile(instrumented as Uint8Array<ArrayBuffer>)
      } catch (err) {
        throw new InvalidModuleError(`cannot compile the instrumented module: ${(err as Error).message}`, { cause: err })
      }
      this.log.debug({ hash, ...result.timings }, 'module checked and metered')
      return { report: { hash, ...result.report }, module }
    })()
    this.modules.set(hash, entry)
    entry.catch(() => { if (this.modules.peek(hash) === entry) this.modules.delete(hash) })
    return await entry
  }

  private async load (w: AgentWorker, a: AgentSlot): Promise<number> {
    const compiled = a.compiled as CompiledAgentModule
    const declared = compiled.report.memory
    const maximum = Math.min(a.limits.maxMemoryPages, declared.maximum ?? a.limits.maxMemoryPages)
    const { promise, resolve, reject } = Promise.withResolvers<number>()
    w.loads.set(a.slot, { resolve, reject })
    a.starting = true
    w.post({
      t: 'load',
      slot: a.slot,
      agentId: a.id,
      module: compiled.module,
      memory: { initial: declared.initial, maximum },
      fuelPerMessage: a.limits.fuelPerMessage,
      ...this.sandbox
    })
    return await promise
  }

  private unload (a: AgentSlot): void {
    const w = a.worker
    if (w !== undefined) {
      w.agents.delete(a)
      if (!w.closed) w.post({ t: 'unload', slot: a.slot })
    }
    a.worker = undefined
    this.slots.delete(a.slot)
    this.wakeDrain(a)
  }

  private pickWorker (): AgentWorker | undefined {
    let best: AgentWorker | undefined
    for (const w of this.workers) if (best === undefined || w.agents.size < best.agents.size) best = w
    return best
  }

  // --- message flow ---

  private markDirty (a: AgentSlot): void {
    if (!a.dirty && a.worker !== undefined) {
      a.dirty = true
      a.worker.dirty.push(a)
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(this.flush)
    }
  }

  /** Posts every worker's new messages, one batch (or a few, when large) per worker. */
  private readonly flush = (): void => {
    this.flushScheduled = false
    for (const w of this.workers) {
      if (w.dirty.length === 0) continue
      const out = new ByteWriter(16 * 1024)
      for (const a of w.dirty) {
        a.dirty = false
        if (a.worker !== w || a.state === 'failed') continue
        a.mailbox.takeUnposted(bytes => {
          out.u32(a.slot); out.u32(bytes.length); out.raw(bytes)
          if (out.length >= MAX_BATCH_BYTES) this.postBatch(w, out)
        })
      }
      w.dirty.length = 0
      this.postBatch(w, out)
    }
  }

  private postBatch (w: AgentWorker, out: ByteWriter): void {
    if (out.length === 0) return
    const { buf, length } = out.take()
    w.post({ t: 'batch', buf, length }, [buf])
  }

  private onWorkerMessage (w: AgentWorker, msg: FromWorker): void {
    if (w.closed) return
    switch (msg.t) {
      case 'results': this.onResults(msg.buf, msg.length); break
      case 'ready':
        w.isReady = true
        w.ready.resolve()
        break
      case 'loaded': {
        const l = w.loads.get(msg.slot)
        w.loads.delete(msg.slot)
        const a = this.slots.get(msg.slot)
        if (a !== undefined) a.starting = false
        l?.resolve(msg.memoryPages)
        break
      }
      case 'load-failed': {
        const l = w.loads.get(msg.slot)
        w.loads.delete(msg.slot)
        const a = this.slots.get(msg.slot)
        if (a !== undefined) a.starting = false
        l?.reject(new InvalidModuleError(msg.reason))
        break
      }
    }
  }

  private onResults (buf: ArrayBuffer, length: number): void {
    const view = new DataView(buf, 0, length)
    const bytes = new Uint8Array(buf, 0, length)
    let off = 0
    while (off < length) {
      const kind = bytes[off]
      const slot = view.getUint32(off + 1, true)
      off += 5
      const a = this.slots.get(slot)
      switch (kind) {
        case RecordKind.Handled: {
          const status = view.getInt32(off, true)
          const ms = view.getFloat64(off + 4, true)
          const pages = view.getUint32(off + 12, true)
          off += 16
          if (a === undefined) break
          a.stats.handled++
          a.stats.memoryPages = pages
          const token = a.mailbox.ack()
          const sends = a.sends
          a.sends = []
          if (status !== 0) {
            a.stats.errors++
            this.metrics?.failure('status')
          }
          if (this.metrics !== undefined) {
            this.metrics.handled.inc({ result: status === 0 ? 'ok' : 'error' })
            this.metrics.duration.observe(ms / 1000)
          }
          this.callHost(() => { this.host.onHandled(a.id, token, sends) })
          if (a.mailbox.size === 0 && a.drainWaiters.length > 0) this.wakeDrain(a)
          break
        }
        case RecordKind.Send: {
          const len = view.getUint32(off, true)
          const sent = bytes.subarray(off + 4, off + 4 + len)
          off += 4 + len
          if (a === undefined) break
          let outbound: AgentOutbound
          try {
            outbound = { ok: true, draft: decodeFromAgent(sent) }
            a.stats.sent++
          } catch (err) {
            outbound = { ok: false, error: (err as Error).message }
          }
          this.outbound(a, outbound)
          break
        }
        case RecordKind.SendRejected: {
          const len = view.getUint32(off, true)
          const reason = this.utf8.decode(bytes.subarray(off + 4, off + 4 + len))
          off += 4 + len
          if (a === undefined) break
          this.metrics?.sendsRejected.inc()
          this.outbound(a, { ok: false, error: reason })
          break
        }
        case RecordKind.Log: {
          const level = LOG_LEVELS[bytes[off]] ?? 'info'
          const len = view.getUint32(off + 1, true)
          const text = this.utf8.decode(bytes.subarray(off + 5, off + 5 + len))
          off += 5 + len
          if (a === undefined) break
          this.callHost(() => { this.host.onAgentLog(a.id, level, text) })
          break
        }
        case RecordKind.Failed: {
          const failure = FAILURE_KINDS[bytes[off]] ?? 'trap'
          const pages = view.getUint32(off + 1, true)
          const len = view.getUint32(off + 5, true)
          const reason = this.utf8.decode(bytes.subarray(off + 9, off + 9 + len))
          off += 9 + len
          if (a === undefined) break
          a.stats.memoryPages = pages
          this.fail(a, reason, failure)
          break
        }
        default:
          // A record this runtime does not know can only be a bug; the rest of the
          // buffer cannot be framed, so it is dropped.
          this.log.error({ kind, off }, 'unknown record from agent worker')
          return
      }
    }
  }

  /** A send of the start function goes to the host now; one of a handler waits for its `Handled` record. */
  private outbound (a: AgentSlot, outbound: AgentOutbound): void {
    if (a.starting) this.callHost(() => { this.host.onAgentSend(a.id, outbound) })
    else a.sends.push(outbound)
  }

  private callHost (fn: () => void): void {
    try {
      fn()
    } catch (err) {
      this.log.error({ err }, 'runtime host callback threw')
    }
  }

  /** Stops an agent for a fault: drops its mailbox and instance, keeps it listed as failed. */
  private fail (a: AgentSlot, reason: string, kind: FailureKind): void {
    if (a.state === 'failed') return
    a.state = 'failed'
    a.lastError = reason
    a.stats.errors++
    a.sends = []
    const dropped = a.mailbox.clear()
    this.unload(a)
    this.metrics?.failure(kind)
    this.log.warn({ agentId: a.id, reason, dropped: dropped.length }, 'agent failed')
    this.callHost(() => { this.host.onAgentFailed(a.id, reason, dropped) })
  }

  // --- drain ---

  private async drain (a: AgentSlot, deadline: number): Promise<boolean> {
    if (a.mailbox.size === 0 || a.worker === undefined) return true
    const { promise, resolve } = Promise.withResolvers<boolean>()
    const waiter = (): void => { resolve(true) }
    a.drainWaiters.push(waiter)
    const timer = setTimeout(() => { resolve(false) }, Math.max(0, deadline - performance.now()))
    const drained = await promise
    clearTimeout(timer)
    a.drainWaiters = a.drainWaiters.filter(x => x !== waiter)
    return drained
  }

  private wakeDrain (a: AgentSlot): void {
    const waiters = a.drainWaiters
    a.drainWaiters = []
    for (const w of waiters) w()
  }

  // --- workers and the watchdog ---

  private startWorker (): AgentWorker {
    const watch = new SharedArrayBuffer(Watch.length * Int32Array.BYTES_PER_ELEMENT)
    const data: AgentWorkerData = { watch }
    const worker = spawnWorker('agent-worker', { ...data })
    const w = new AgentWorker(this.nextWorkerId++, worker, new Int32Array(watch))
    if (this.backpressure) Atomics.store(w.watch, Watch.backpressure, 1)
    w.ready.promise.catch(() => {})
    worker.on('message', (msg: FromWorker) => { this.onWorkerMessage(w, msg) })
    worker.on('error', (err) => {
      if (!w.closed) this.log.error({ err, worker: w.id }, 'agent worker crashed')
      w.ready.reject(err)
    })
    worker.on('exit', (code) => {
      w.ready.reject(new Error(`agent worker exited (code ${code}) before it was ready`))
      if (w.closed) return
      const slot = Atomics.load(w.watch, Watch.slot)
      this.replaceWorker(w, slot, {
        culprit: `its worker exited unexpectedly (code ${code}) while this agent was running`,
        cause: `the worker exited unexpectedly (code ${code})`
      }, 'crash')
    })
    this.workers.push(w)
    return w
  }

  private rescheduleWatchdog (): void {
    let shortest = this.defaults.handlerTimeoutMs
    for (const a of this.agents.values()) shortest = Math.min(shortest, a.limits.handlerTimeoutMs)
    const tick = Math.max(5, Math.min(250, Math.floor(shortest / 4)))
    if (tick === this.watchdogTickMs && this.watchdog !== undefined) return
    if (this.watchdog !== undefined) clearInterval(this.watchdog)
    this.watchdogTickMs = tick
    this.watchdog = setInterval(this.checkWatchdog, tick)
    this.watchdog.unref()
  }

  /** Terminates a worker whose current call has run past its agent's `handlerTimeoutMs`. */
  private readonly checkWatchdog = (): void => {
    const now = performance.now()
    for (const w of this.workers) {
      if (w.closed) continue
      const slot = Atomics.load(w.watch, Watch.slot)
      if (slot === 0) { w.watchSince = -1; continue }
      const seq = Atomics.load(w.watch, Watch.sequence)
      if (seq !== w.watchSeq || w.watchSince < 0) { w.watchSeq = seq; w.watchSince = now; continue }
      const limit = this.slots.get(slot)?.limits.handlerTimeoutMs ?? this.defaults.handlerTimeoutMs
      if (now - w.watchSince > limit) {
        const id = this.slots.get(slot)?.id ?? '?'
        this.replaceWorker(w, slot, {
          culprit: `handler ran longer than ${limit} ms (handlerTimeoutMs): stopped by terminating its worker`,
          cause: `agent ${id} ran past its handlerTimeoutMs (${limit} ms)`
        }, 'timeout')
      }
    }
  }

  /**
   * Terminates `w`, fails the agent at `culpritSlot` (0: none known) with `why.culprit`,
   * and restarts the worker's other agents on a new worker, from their modules, telling
   * the host `why.cause`.
   */
  private replaceWorker (w: AgentWorker, culpritSlot: number, why: { culprit: string, cause: string }, kind: FailureKind): void {
    if (w.closed) return
    w.closed = true
    void w.worker.terminate()
    this.workers = this.workers.filter(x => x !== w)
    const culprit = culpritSlot === 0 ? undefined : this.slots.get(culpritSlot)
    for (const l of w.loads.values()) l.reject(new InvalidModuleError(`instantiation interrupted: ${why.cause}`))
    w.loads.clear()
    // An agent still loading fails its deploy instead (its load was rejected above).
    if (culprit !== undefined && culprit.state !== 'loaded') this.fail(culprit, why.culprit, kind)
    if (!this.running) {
      // Stopping: nothing will handle the rest of their mailboxes; stop() need not wait.
      for (const a of w.agents) this.wakeDrain(a)
      return
    }
    const now = performance.now()
    this.crashes = this.crashes.filter(t => now - t < CRASH_WINDOW_MS)
    // Terminations by the watchdog are the sandbox working, not a crash loop.
    if (kind === 'crash') this.crashes.push(now)
    if (!w.isReady || this.crashes.length > MAX_CRASHES) {
      // A worker that cannot start, or keeps dying, would be replaced forever.
      this.log.error({ worker: w.id, crashes: this.crashes.length, cause: why.cause }, 'agent worker not replaced: it failed to start or crashes repeatedly')
      for (const a of [...w.agents]) {
        w.agents.delete(a)
        if (a.state === 'running' || a.state === 'draining') this.fail(a, `${why.cause}, and its worker could not be replaced`, 'crash')
      }
      return
    }
    const next = this.startWorker()
    for (const a of [...w.agents]) {
      w.agents.delete(a)
      if (a.state !== 'running' && a.state !== 'draining') continue
      a.worker = next
      a.dirty = false // it may sit in the old worker's dirty list, which nobody flushes now
      next.agents.add(a)
      a.stats.restarts++
      this.metrics?.restarts.inc()
      const restarted = `restarted from its module, in-memory state lost: its worker was terminated because ${why.cause}`
      this.log.warn({ agentId: a.id, reason: restarted }, 'agent restarted')
      this.callHost(() => { this.host.onAgentRestarted?.(a.id, restarted) })
      a.sends = [] // the interrupted run's sends: it runs again
      a.mailbox.resetPosted()
      // The load is posted before the batch below, and a port keeps order.
      this.load(next, a).then(pages => { a.stats.memoryPages = pages }, (err: Error) => {
        this.fail(a, `restart failed: ${err.message}`, 'crash')
      })
      if (a.mailbox.size > 0) this.markDirty(a)
    }
  }

  // --- views ---

  private info (a: AgentSlot): AgentInfo {
    const info: AgentInfo = {
      id: a.id,
      moduleHash: a.compiled?.report.hash ?? '',
      moduleBytes: a.moduleBytes,
      state: a.state,
      limits: { ...a.limits },
      deployedAt: a.deployedAt,
      stats: { ...a.stats, queued: a.mailbox.size }
    }
    if (a.lastError !== undefined) info.lastError = a.lastError
    return info
  }

  private countByState (): Record<AgentState, number> {
    const counts = Object.fromEntries(AGENT_STATES.map(s => [s, 0])) as Record<AgentState, number>
    for (const a of this.agents.values()) counts[a.state]++
    return counts
  }
}

function sha256 (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function asBytes (wasm: Uint8Array): Uint8Array {
  if (!(wasm instanceof Uint8Array)) throw new InvalidModuleError('expected the module as bytes (a Uint8Array)')
  return wasm
}

function checkMemoryCap (report: ModuleReport, cap: number): void {
  if (report.memory.initial > cap) {
    throw new InvalidModuleError(`initial memory of ${report.memory.initial} pages exceeds the cap of ${cap} pages (${cap * WASM_PAGE_BYTES / 1024} KiB, maxMemoryPages)`)
  }
}
