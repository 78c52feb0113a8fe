/**
 * The WebAssembly agent runtime: deploys agents into a pool of worker threads, delivers
 * messages to them through bounded mailboxes, and reports what they send, log and how
 * they fail. `index.ts` is the public face; the ABI is `protocols/agent-abi/SPEC.md`.
 *
 * Threads: the main thread owns every agent's mailbox and state; agent workers
 * (`agent-worker.ts`) own the instances, many agents each; the policy worker
 * (`policy-worker.ts`) owns binaryen. Messages cross to a worker in batches and come back
 * the same way.
 *
 * Fairness: a worker has at most {@link MAX_BATCHES_IN_FLIGHT} batches at a time, and each
 * batch takes the agents with messages waiting in turn, each for about
 * {@link QUANTUM_MS} of its measured handler time per round, until the batch holds about
 * {@link BATCH_MS} of work: deficit round robin with estimated costs (Shreedhar and
 * Varghese, "Efficient fair queuing using deficit round robin", SIGCOMM 1995). One agent's
 * backlog thus delays another's next message by a few ms at most. Sends are metered per
 * agent (`budget.ts`); while an agent's last call had sends refused over its budget, its
 * messages go in turns at most every `throttledTurnMs` (200 ms), and one over its budget
 * for longer than `overBudgetGraceMs` is suspended.
 *
 * Lifecycle: loaded → running ⇄ suspended; running → draining → stopped; stopped or
 * failed → loaded (started again from the module). A stopped or suspended agent keeps its
 * mailbox: what is delivered with `force` (already in its durable inbox) waits there; new
 * messages are refused with `not-running` and wait in their senders' outboxes.
 *
 * Faults: fuel stops runaway loops inside WebAssembly deterministically. The watchdog is
 * the backstop for a call that still runs past `handlerTimeoutMs` (e.g. fuel set very
 * high): it asks that call to stop, and the call fails at its next fuel slice (see
 * `fuel.ts`), in its own instance: the worker's other agents keep their state. Only a
 * worker that does not answer within {@link INTERRUPT_GRACE_MS}, or that crashes, is
 * terminated: its other agents are then restarted from their modules (their in-memory
 * state is lost; each is logged, counted in `stats.restarts` and reported through
 * `host.onAgentRestarted`). Messages they had not yet been reported as handling are posted
 * again to the new instance, so a handler runs at least once; what it sent is reported
 * with its `Handled` record only (`host.onHandled`), so the sends of a run that did not
 * finish are never seen.
 */
import { createHash } from 'node:crypto'
import { availableParallelism } from 'node:os'
import type { ResourceLimits, Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import type { MetricsRegistry } from '../observability/metrics.js'
import { LRUCache } from 'lru-cache'
import { LOG_LEVELS, WASM_PAGE_BYTES, decodeFromAgent, encodeAbiMessageScratch } from '../../protocols/agent-abi/index.js'
import type { AclMessage, AgentId } from '../../protocols/fipa/types.js'
import { isAgentId } from '../../protocols/fipa/rules.js'
import { silentLogger } from '../observability/logger.js'
import { OverBudgetWatch } from './budget.js'
import {
  AgentExistsError, AgentNotFoundError, AgentStateError, InvalidAgentIdError, InvalidModuleError, RuntimeNotRunningError
} from './errors.js'
import { readChanges } from './host/changes.js'
import { DEFAULT_AGENT_LIMITS, resolveLimits } from './limits.js'
import { Mailbox } from './mailbox.js'
import { AGENT_STATES, RuntimeMetrics } from './metrics.js'
import { PolicyClient } from './policy-client.js'
import type {
  AgentInfo, AgentLimits, AgentOutbound, AgentRuntime, AgentState, AgentStats, DeliverResult, DeployOptions, MeteredModuleStore, ModuleReport, RuntimeHost
} from './types.js'
import { meteringFingerprint } from './metering-fingerprint.js'
import {
  ByteWriter, FAILURE_KINDS, FRAME_FLAGS, RecordKind, Watch, wasTransferred,
  type AgentWorkerData, type FailureKind, type FromWorker, type LoadRequest, type ToWorker
} from './worker-protocol.js'
import { spawnWorker } from './worker-spawn.js'
import { planBatch } from './batch-plan.js'

/** A worker that crashed this many times within `CRASH_WINDOW_MS` is not replaced again. */
const MAX_CRASHES = 5
const CRASH_WINDOW_MS = 10_000
/** Batches a worker has at once: it runs one while the next is being built. */
export const MAX_BATCHES_IN_FLIGHT = 2
/** A batch is cut at about this much estimated handler time, ms. */
export const BATCH_MS = 2
/** Estimated handler time an agent gets per round of a batch, ms. */
export const QUANTUM_MS = 0.5
/**
 * An agent over its send budget gets a turn at most this often, ms (see `postBatch`): the
 * default of the runtime's `throttledTurnMs`.
 */
export const THROTTLED_TURN_MS = 200
/** Most messages of one agent per round. */
const MAX_QUANTUM = 256
/** Most messages of one batch. */
const MAX_BATCH_MESSAGES = 1024
/** A batch is cut at about this size, bytes. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024
/** Results buffers held for a worker between two batches. */
const MAX_RESULT_SPARES = 4
/** The handler time assumed of an agent before one was measured, ms. */
const INITIAL_COST_MS = 0.05
/** Weight of the newest handler time in an agent's estimate (exponential moving average). */
const COST_ALPHA = 0.2
/** How long the watchdog waits for an interrupted call to stop before it terminates the worker, ms. */
export const INTERRUPT_GRACE_MS = 1000

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
  /**
   * `resourceLimits` of each agent worker (Node's `worker_threads`): its JavaScript heap and
   * stack. Agents' linear memories are not counted there (they are capped per agent). A
   * worker past them exits, and is replaced like one that crashed. @default Node's defaults
   */
  workerResourceLimits?: ResourceLimits
  /** How long `stop()` / `remove()` / `stopAgent()` wait for mailboxes to drain, ms. @default 5000 */
  drainTimeoutMs?: number
  /** An agent over its send budget for this long is suspended, ms (see `OverBudgetWatch`). @default 5000 */
  overBudgetGraceMs?: number
  /**
   * While its last call had sends refused over its budget, an agent gets a turn (its waiting
   * messages, up to 256 or 1.25 × what its budget lets it send in this time, if more) at most
   * this often, ms. @default {@link THROTTLED_TURN_MS}
   */
  throttledTurnMs?: number
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
  /**
   * Keeps the modules the policy worker metered, across restarts: a module found there
   * (metered by this build) is compiled without the policy worker. @default none
   */
  meteredModules?: MeteredModuleStore
  /** Wall clock for `deployedAt`, ms since the epoch. @default Date.now */
  now?: () => number
}

interface CompiledAgentModule {
  report: ModuleReport
  module: WebAssembly.Module
}

/** The estimated handler time of an agent's turn in the batch being built, ms. */
function turnCost (a: AgentSlot): number {
  return a.planned * a.costMs
}

/** An agent as the runtime holds it: limits, state, mailbox, stats, and the worker slot it runs in. */
class AgentSlot {
  state: AgentState = 'loaded'
  lastError: string | undefined
  /** Why it is suspended. */
  reason: string | undefined
  readonly stats: Required<AgentStats> = { received: 0, handled: 0, sent: 0, errors: 0, queued: 0, memoryPages: 0, restarts: 0, overBudget: 0 }
  readonly mailbox: Mailbox
  /** Replaced by an upgrade, with the module (`compiled`) and its size. */
  limits: AgentLimits
  deployedAt: number
  moduleBytes: number
  worker: AgentWorker | undefined
  compiled: CompiledAgentModule | undefined
  /** In its worker's ready list (has messages to post). */
  ready = false
  /** Draining and past its deadline: nothing more is posted. */
  holding = false
  /** Estimated handler time of one message, ms. */
  costMs = INITIAL_COST_MS
  /** Messages of its turn in the batch being built (0 outside `postBatch`). */
  planned = 0
  readonly overBudget: OverBudgetWatch
  /**
   * Its last call had sends refused over its budget: it gets a turn at most every
   * `throttledTurnMs`, none while a message of its own is in its worker (`postBatch`).
   */
  throttled = false
  /** An `OverBudget` record came for the call being read (its `Handled` record follows). */
  refusedInCall = false
  /** While throttled: when its next turn may be posted (`performance.now()`, ms). */
  turnAt = -Infinity
  /** Throttled, with messages waiting for `turnAt`: the runtime's pace timer marks it ready (`pace`). */
  waitingTurn = false
  /** Woken on progress (a message handled, the agent unloaded or failed); each re-checks its condition. */
  waiters: Array<() => void> = []
  removing: Promise<string[]> | undefined
  /** A lifecycle action (stop, start) in progress. */
  changing: Promise<AgentInfo> | undefined
  /** Sends of the message being handled, reported with its `Handled` record. */
  sends: AgentOutbound[] = []
  /** Its start function runs: sends now are reported on their own (`onAgentSend`). */
  starting = false

  constructor (
    readonly id: AgentId,
    readonly slot: number,
    limits: AgentLimits,
    deployedAt: number,
    moduleBytes: number,
    graceMs: number
  ) {
    this.limits = limits
    this.deployedAt = deployedAt
    this.moduleBytes = moduleBytes
    this.mailbox = new Mailbox(limits.mailboxCapacity, slot)
    this.overBudget = new OverBudgetWatch(graceMs)
  }

  /** Ends a spell over budget (the agent was started again or resumed). */
  forgetOverBudget (): void {
    this.overBudget.reset()
    this.throttled = false
  }

  /** Whether its messages go to its worker now. */
  get posting (): boolean {
    return this.state === 'running' || (this.state === 'draining' && !this.holding)
  }
}

class AgentWorker {
  readonly agents = new Set<AgentSlot>()
  /** Agents with messages to post, in turn (round robin). */
  ready: AgentSlot[] = []
  /** Batches posted whose last results have not come back. */
  inFlight = 0
  /** Its results buffers, read: handed back with the next batch (see `ByteWriter.recycle`). */
  spares: ArrayBuffer[] = []
  readonly loads = new Map<number, { resolve: (pages: number) => void, reject: (err: Error) => void }>()
  readonly unloads = new Map<number, () => void>()
  /** Terminated (by us) or exited: its messages are ignored from then on. */
  closed = false
  /** Its entry module loaded (it posted 'ready'). */
  isReady = false
  readonly ready$ = Promise.withResolvers<void>()
  watchSeq = -1
  watchSince = -1
  /** The call sequence the watchdog asked to stop, and when (performance.now()). */
  interruptedSeq = -1
  interruptedAt = -1

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
  private readonly resourceLimits: ResourceLimits | undefined
  private readonly drainTimeoutMs: number
  private readonly graceMs: number
  private readonly sandbox: Pick<LoadRequest, 'maxSendBytes' | 'maxSendsPerMessage' | 'maxLogsPerMessage' | 'maxLogBytes'>
  private readonly now: () => number
  private readonly policy: PolicyClient
  private readonly meteredModules: MeteredModuleStore | undefined
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
  /**
   * Where batches are built (one at a time: `postBatch` is synchronous). Kept between
   * batches so that each starts at the size the last one needed instead of growing to it.
   */
  private readonly batch = new ByteWriter(16 * 1024)
  /** The agents with a turn in the batch being built (`postBatch`), kept to be reused. */
  private readonly turns: AgentSlot[] = []
  /** Throttled agents left out of the batch being built (`postBatch`), kept to be reused. */
  private readonly resting: AgentSlot[] = []
  /** Throttled agents whose turn is due in the batch being built (`postBatch`), kept to be reused. */
  private readonly due: AgentSlot[] = []
  private readonly throttledTurnMs: number
  /** Throttled agents waiting for their next turn (`turnAt`), and the timer that wakes them (at `paceAt`). */
  private paced: AgentSlot[] = []
  private paceTimer: NodeJS.Timeout | undefined
  private paceAt = Infinity
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
    this.resourceLimits = options.workerResourceLimits
    this.drainTimeoutMs = options.drainTimeoutMs ?? 5000
    this.graceMs = options.overBudgetGraceMs ?? 5000
    this.throttledTurnMs = options.throttledTurnMs ?? THROTTLED_TURN_MS
    this.sandbox = {
      maxSendBytes: options.maxSendBytes ?? 1024 * 1024,
      maxSendsPerMessage: options.maxSendsPerMessage ?? 1000,
      maxLogsPerMessage: options.maxLogsPerMessage ?? 100,
      maxLogBytes: options.maxLogBytes ?? 4096
    }
    this.modules = new LRUCache({ max: options.moduleCacheSize ?? 64 })
    this.now = options.now ?? Date.now
    this.policy = new PolicyClient({ logger: this.log.child({ component: 'caxton:runtime:policy' }), idleMs: options.policyIdleMs })
    this.meteredModules = options.meteredModules
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
      await Promise.all(workers.map(async w => { await w.ready$.promise }))
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
    for (const a of this.agents.values()) {
      // What is left stays in the durable inbox (the host's), for the next start.
      const left = a.mailbox.size
      a.mailbox.clear()
      if (left > 0 && live.includes(a)) this.log.warn({ agentId: a.id, left }, 'agent stopped before its mailbox drained')
      if (a.state !== 'failed') a.state = 'stopped'
    }
    if (this.watchdog !== undefined) clearInterval(this.watchdog)
    clearTimeout(this.paceTimer)
    this.paceTimer = undefined
    this.paceAt = Infinity
    for (const a of this.paced) a.waitingTurn = false
    this.paced = []
    this.watchdog = undefined
    const workers = this.workers
    this.workers = []
    for (const w of workers) this.close(w, new RuntimeNotRunningError())
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

  async deploy (id: AgentId, wasm: Uint8Array, limits?: Partial<AgentLimits>, options: DeployOptions = {}): Promise<AgentInfo> {
    if (!this.running) throw new RuntimeNotRunningError()
    if (!isAgentId(id)) throw new InvalidAgentIdError(String(id))
    if (this.agents.has(id)) throw new AgentExistsError(id)
    const resolved = resolveLimits(this.defaults, limits)
    const bytes = asBytes(wasm)
    const started = performance.now()
    const a = new AgentSlot(id, this.nextSlot++, resolved, this.now(), bytes.length, this.graceMs)
    this.agents.set(id, a)
    try {
      const compiled = await this.compile(bytes)
      checkMemoryCap(compiled.report, resolved.maxMemoryPages)
      a.compiled = compiled
      if (this.agents.get(id) !== a) throw new AgentNotFoundError(id)
      if (!this.running) throw new RuntimeNotRunningError()
      if (options.state === 'stopped') {
        a.state = 'stopped'
      } else {
        await this.instantiate(a)
        if (options.state === 'suspended') {
          a.state = 'suspended'
          a.reason = options.reason ?? 'suspended before the node restarted'
        } else {
          // Not a transition for the host: it publishes the state the deploy returns.
          a.state = 'running'
          this.markReady(a)
        }
      }
      this.rescheduleWatchdog()
      this.metrics?.deploys.observe({ result: 'ok' }, (performance.now() - started) / 1000)
      this.log.info({ agentId: id, hash: compiled.report.hash, state: a.state, ms: Math.round(performance.now() - started) }, 'agent deployed')
      return this.info(a)
    } catch (err) {
      this.metrics?.deploys.observe({ result: 'error' }, (performance.now() - started) / 1000)
      if (this.agents.get(id) === a && a.removing === undefined) {
        this.agents.delete(id)
        this.detach(a)
      }
      throw err
    }
  }

  async remove (id: AgentId): Promise<string[]> {
    const a = this.agents.get(id)
    if (a === undefined) throw new AgentNotFoundError(id)
    if (a.removing !== undefined) return await a.removing
    a.removing = (async () => {
      await a.changing?.catch(() => {})
      if (a.state === 'running') {
        a.state = 'draining'
        await this.drain(a, performance.now() + this.drainTimeoutMs)
      }
      a.holding = true
      // Not waiting for a call in flight: what it would send is dropped with it, and its
      // message goes back to the host among the rest.
      this.unload(a, false)
      // Whatever it did not handle (a stopped or suspended agent's too) goes back to the host.
      const left = a.mailbox.clear()
      if (left.length > 0) this.log.warn({ agentId: id, left: left.length, state: a.state }, 'agent removed before its mailbox drained')
      if (a.state !== 'failed') a.state = 'stopped'
      if (this.agents.get(id) === a) this.agents.delete(id)
      this.log.info({ agentId: id }, 'agent removed')
      return left
    })()
    return await a.removing
  }

  async stopAgent (id: AgentId): Promise<AgentInfo> {
    return await this.change(id, 'stop', async a => {
      if (a.state === 'stopped') return
      if (a.state !== 'running' && a.state !== 'suspended') throw new AgentStateError(id, a.state, 'stop', a.state === 'failed' ? 'a failed agent is already stopped; start or remove it' : '')
      const wasRunning = a.state === 'running'
      this.transition(a, 'draining')
      if (wasRunning) {
        const drained = await this.drain(a, performance.now() + this.drainTimeoutMs)
        if (!drained) this.log.warn({ agentId: id, left: a.mailbox.size }, 'agent stopped before its mailbox drained: the rest waits for its start')
      }
      // A suspended agent handles nothing more: what waits is kept for its start.
      a.holding = true
      await this.unload(a)
      // It may have failed on a message in flight meanwhile.
      if ((a.state as AgentState) === 'failed' || this.agents.get(id) !== a) return
      a.mailbox.resetPosted()
      a.stats.memoryPages = 0
      a.reason = undefined
      this.transition(a, 'stopped')
    })
  }

  async startAgent (id: AgentId): Promise<AgentInfo> {
    return await this.change(id, 'start', async a => {
      if (a.state === 'running') return
      if (a.state !== 'stopped' && a.state !== 'failed') {
        throw new AgentStateError(id, a.state, 'start', a.state === 'suspended' ? 'resume a suspended agent' : '')
      }
      if (!this.running) throw new RuntimeNotRunningError()
      a.lastError = undefined
      a.reason = undefined
      a.holding = false
      a.forgetOverBudget()
      this.transition(a, 'loaded')
      await this.instantiateOrFail(a)
      this.setRunning(a)
    })
  }

  async upgrade (id: AgentId, wasm: Uint8Array, limits?: Partial<AgentLimits>): Promise<AgentInfo> {
    if (!this.running) throw new RuntimeNotRunningError()
    if (!this.agents.has(id)) throw new AgentNotFoundError(id)
    const resolved = resolveLimits(this.defaults, limits)
    // Checked before the agent is touched: a module the policy refuses changes nothing.
    const compiled = await this.compile(asBytes(wasm))
    checkMemoryCap(compiled.report, resolved.maxMemoryPages)
    return await this.change(id, 'upgrade', async a => {
      if (a.state === 'loaded' || a.state === 'draining') throw new AgentStateError(id, a.state, 'upgrade')
      if (!this.running) throw new RuntimeNotRunningError()
      const was = a.state
      const old = { compiled: a.compiled, limits: a.limits, moduleBytes: a.moduleBytes, deployedAt: a.deployedAt }
      const swap = (to: typeof old): void => {
        a.compiled = to.compiled
        a.limits = to.limits
        a.moduleBytes = to.moduleBytes
        a.deployedAt = to.deployedAt
        a.mailbox.capacity = to.limits.mailboxCapacity
      }
      if (hasInstance(a)) {
        // The old instance finishes the messages already posted to it; the rest wait in
        // the mailbox, in order, for the new one.
        a.holding = true
        this.transition(a, 'draining')
        await this.unload(a)
        a.mailbox.resetPosted()
      }
      swap({ compiled, limits: resolved, moduleBytes: wasm.byteLength, deployedAt: this.now() })
      this.rescheduleWatchdog()
      if (was === 'stopped') return
      a.lastError = undefined
      this.transition(a, 'loaded')
      try {
        await this.instantiate(a)
      } catch (err) {
        this.detach(a)
        if (this.agents.get(id) !== a) throw err
        // The new module's start function failed: the old one takes over again (from its
        // module: its in-memory state starts over, its durable state is kept).
        this.log.warn({ agentId: id, err: (err as Error).message }, 'upgraded module failed to start: the old one is restored')
        swap(old)
        await this.instantiateOrFail(a).catch(() => { throw err })
        this.settleAfterUpgrade(a, was)
        throw err
      }
      this.settleAfterUpgrade(a, was)
      this.log.info({ agentId: id, hash: compiled.report.hash, state: a.state }, 'agent upgraded')
    })
  }

  /** After an upgrade's new instance loaded: back to running, or to suspended as it was. */
  private settleAfterUpgrade (a: AgentSlot, was: AgentState): void {
    if (was === 'suspended') {
      a.holding = false
      this.transition(a, 'suspended')
      return
    }
    a.reason = undefined
    a.forgetOverBudget()
    this.setRunning(a)
  }

  suspend (id: AgentId, reason = 'suspended by an operator'): AgentInfo {
    const a = this.agents.get(id)
    if (a === undefined) throw new AgentNotFoundError(id)
    if (a.state === 'suspended') return this.info(a)
    if (a.state !== 'running' || a.changing !== undefined) throw new AgentStateError(id, a.state, 'suspend')
    this.suspendSlot(a, reason, 'operator')
    return this.info(a)
  }

  resume (id: AgentId): AgentInfo {
    const a = this.agents.get(id)
    if (a === undefined) throw new AgentNotFoundError(id)
    if (a.state === 'running') return this.info(a)
    if (a.state !== 'suspended' || a.changing !== undefined) {
      throw new AgentStateError(id, a.state, 'resume', a.state === 'stopped' || a.state === 'failed' ? 'start it instead' : '')
    }
    a.reason = undefined
    a.forgetOverBudget()
    this.log.info({ agentId: id }, 'agent resumed')
    this.setRunning(a)
    return this.info(a)
  }

  deliver (id: AgentId, message: AclMessage, token?: string, force = false): DeliverResult {
    const a = this.agents.get(id)
    if (a === undefined) return 'no-such-agent'
    // A message already in the durable inbox (`force`) waits in a stopped or suspended
    // agent's mailbox for its start; a failed agent takes nothing.
    if (a.state !== 'running' && (!force || a.state === 'failed')) return 'not-running'
    // Checked before `push` does: a refused message costs no encoding.
    if (!force && a.mailbox.size >= a.mailbox.capacity) return 'mailbox-full'
    // Encoded in the codec's scratch buffer and copied once into the mailbox: no Uint8Array
    // (and ArrayBuffer) of its own (see `Mailbox`). Encoding into each mailbox's buffer
    // instead would make the encoder's DataView and Buffer again whenever the agent changes.
    a.mailbox.push(encodeAbiMessageScratch(message), token, force, message.sender === id ? FRAME_FLAGS.fromSelf : 0)
    a.stats.received++
    this.markReady(a)
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

  // --- lifecycle internals ---

  /** Runs one lifecycle action at a time per agent. @throws AgentNotFoundError, and `fn`'s errors */
  private async change (id: AgentId, action: string, fn: (a: AgentSlot) => Promise<void>): Promise<AgentInfo> {
    const a = this.agents.get(id)
    if (a === undefined) throw new AgentNotFoundError(id)
    if (a.removing !== undefined) throw new AgentStateError(id, 'being removed', action)
    while (a.changing !== undefined) await a.changing.catch(() => {})
    const p = (async () => {
      await fn(a)
      return this.info(a)
    })()
    a.changing = p
    try {
      return await p
    } finally {
      if (a.changing === p) a.changing = undefined
    }
  }

  /** Sets a state the host did not cause itself, and tells it. */
  private transition (a: AgentSlot, state: AgentState): void {
    if (a.state === state) return
    a.state = state
    this.callHost(() => { this.host.onStateChanged?.(a.id, state, a.state === 'suspended' ? a.reason : a.lastError) })
  }

  private setRunning (a: AgentSlot): void {
    a.holding = false
    this.transition(a, 'running')
    this.markReady(a)
  }

  private suspendSlot (a: AgentSlot, reason: string, by: 'operator' | 'budget'): void {
    a.reason = reason
    this.metrics?.suspensions.inc({ by })
    this.log.warn({ agentId: a.id, reason, queued: a.mailbox.size }, 'agent suspended')
    // Its messages already posted run; nothing more is posted until it is resumed.
    this.transition(a, 'suspended')
  }

  /** {@link instantiate}, or the agent is `failed` with the reason. @throws InvalidModuleError */
  private async instantiateOrFail (a: AgentSlot): Promise<void> {
    try {
      await this.instantiate(a)
    } catch (err) {
      this.detach(a)
      a.lastError = (err as Error).message
      if (this.agents.get(a.id) === a) this.transition(a, 'failed')
      throw err
    }
  }

  /** Loads the agent's instance on the least loaded worker. @throws InvalidModuleError */
  private async instantiate (a: AgentSlot): Promise<void> {
    const w = this.pickWorker()
    if (w === undefined) throw new Error('no agent worker is running (workers kept crashing; see the log)')
    this.slots.set(a.slot, a)
    a.worker = w
    w.agents.add(a)
    a.stats.memoryPages = await this.load(w, a)
    if (a.removing !== undefined || this.agents.get(a.id) !== a) {
      // Removed meanwhile (`remove` could not unload what was still loading).
      void this.unload(a, false)
      throw new AgentNotFoundError(a.id)
    }
  }

  // --- deploy internals ---

  /**
   * Policy check + fuel pass (policy worker), then compile; cached by sha256, in memory and
   * in `meteredModules` when given (a module metered by this build is read back from there
   * and compiled without the policy worker).
   */
  private async compile (bytes: Uint8Array): Promise<CompiledAgentModule> {
    const hash = sha256(bytes)
    let entry = this.modules.get(hash)
    if (entry !== undefined) return await entry
    entry = (async () => {
      const kept = await this.keptModule(hash)
      if (kept !== undefined) return kept
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
      this.metrics?.metered.inc({ source: 'policy' })
      if (this.meteredModules !== undefined) {
        this.meteredModules.put(hash, { fingerprint: meteringFingerprint(), report: result.report, instrumented }).catch((err: Error) => {
          this.log.warn({ hash, err: err.message }, 'could not keep a metered module (it is metered again after a restart)')
        })
      }
      return { report: { hash, ...result.report }, module }
    })()
    this.modules.set(hash, entry)
    entry.catch(() => { if (this.modules.peek(hash) === entry) this.modules.delete(hash) })
    return await entry
  }

  /**
   * The metered form of the module `hash` kept in `meteredModules` by this build, compiled;
   * undefined when there is none, it was metered by another build, or it cannot be read or
   * compiled (the module is then checked and metered again, and kept anew).
   */
  private async keptModule (hash: string): Promise<CompiledAgentModule | undefined> {
    if (this.meteredModules === undefined) return undefined
    try {
      const kept = await this.meteredModules.get(hash)
      if (kept === undefined || kept.fingerprint !== meteringFingerprint()) return undefined
      const module = await WebAssembly.compile(kept.instrumented as Uint8Array<ArrayBuffer>)
      this.metrics?.metered.inc({ source: 'kept' })
      return { report: { hash, ...kept.report }, module }
    } catch (err) {
      this.log.warn({ hash, err: (err as Error).message }, 'a kept metered module could not be used; checking the module again')
      return undefined
    }
  }

  private async load (w: AgentWorker, a: AgentSlot): Promise<number> {
    const compiled = a.compiled as CompiledAgentModule
    const declared = compiled.report.memory
    const maximum = Math.min(a.limits.maxMemoryPages, declared.maximum ?? a.limits.maxMemoryPages)
    const { promise, resolve, reject } = Promise.withResolvers<number>()
    w.loads.set(a.slot, { resolve, reject })
    a.starting = true
    const l = a.limits
    w.post({
      t: 'load',
      slot: a.slot,
      agentId: a.id,
      module: compiled.module,
      memory: { initial: declared.initial, maximum },
      fuelPerMessage: l.fuelPerMessage,
      handlerTimeoutMs: l.handlerTimeoutMs,
      sendsPerSecond: l.sendsPerSecond,
      sendBurst: l.sendBurst,
      sendBytesPerSecond: l.sendBytesPerSecond,
      ...this.sandbox,
      state: this.host.agentState?.(a.id)
    })
    return await promise
  }

  /**
   * Drops the agent's instance. With `wait`, resolves once its worker has answered, so
   * that every result of a message posted before has been read; without, its results
   * from now on are ignored.
   */
  private async unload (a: AgentSlot, wait = true): Promise<void> {
    const w = a.worker
    if (w !== undefined && !w.closed) {
      const { promise, resolve } = Promise.withResolvers<void>()
      if (wait) w.unloads.set(a.slot, resolve)
      w.post({ t: 'unload', slot: a.slot })
      if (wait) await promise
    }
    this.detach(a)
  }

  /** Forgets the agent's worker and slot (its instance is gone or going). */
  private detach (a: AgentSlot): void {
    const w = a.worker
    w?.agents.delete(a)
    a.worker = undefined
    a.ready = false
    this.slots.delete(a.slot)
    this.wake(a)
  }

  private pickWorker (): AgentWorker | undefined {
    let best: AgentWorker | undefined
    for (const w of this.workers) if (best === undefined || w.agents.size < best.agents.size) best = w
    return best
  }

  // --- message flow ---

  /** Puts the agent in its worker's turn when it has messages to post, and schedules a flush. */
  private markReady (a: AgentSlot): void {
    const w = a.worker
    if (a.ready || a.waitingTurn || w === undefined || !a.posting || !a.mailbox.hasUnposted) return
    a.ready = true
    w.ready.push(a)
    if (w.inFlight < MAX_BATCHES_IN_FLIGHT) this.scheduleFlush()
  }

  private scheduleFlush (): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(this.flush)
  }

  /** Posts a batch to every worker that has room for one and messages waiting. */
  private readonly flush = (): void => {
    this.flushScheduled = false
    for (const w of this.workers) {
      while (!w.closed && w.inFlight < MAX_BATCHES_IN_FLIGHT && w.ready.length > 0) {
        if (!this.postBatch(w)) break
      }
    }
  }

  /**
   * Builds one batch for `w`: the agents in its ready list take turns, each with up to its
   * quantum of messages, until the batch holds about {@link BATCH_MS} of estimated work; an
   * agent with messages left goes to the back of the list. The turns are then written
   * cheapest first, and the worker posts the results of the cheap ones before it runs the
   * rest (`planBatch`). A throttled agent (its last call had sends refused over its
   * budget) gets a turn of its waiting messages (`throttledTurnOf`) at most every
   * `throttledTurnMs`, and none while one of its messages is in the worker.
   * @returns whether a batch was posted
   */
  private postBatch (w: AgentWorker): boolean {
    const ready = w.ready
    const turns = this.turns
    const resting = this.resting
    const due = this.due
    let estimatedMs = 0
    let messages = 0
    let i = 0
    let now: number | undefined
    while (i < ready.length && estimatedMs < BATCH_MS && messages < MAX_BATCH_MESSAGES) {
      const a = ready[i++]
      a.ready = false
      if (a.worker !== w || !a.posting) continue
      const left = a.mailbox.size - a.mailbox.posted - a.planned
      // Over its send budget: a call now would mostly have its sends refused again (issue
      // 10's flood agent: ~23 µs a message for 1,000 refused sends), so its messages wait
      // for its next turn. The timer's wake may come a little before `turnAt` by this clock.
      if (a.throttled) {
        if (a.mailbox.posted > 0) resting.push(a)
        else if (left > 0) {
          now ??= performance.now()
          if (now >= a.turnAt - 1) due.push(a)
          else this.pace(a)
        }
        continue
      }
      const quantum = Math.min(MAX_BATCH_MESSAGES - messages, Math.max(1, Math.min(MAX_QUANTUM, Math.floor(QUANTUM_MS / a.costMs))))
      const n = Math.min(quantum, left)
      if (n <= 0) continue
      if (a.planned === 0) turns.push(a)
      a.planned += n
      messages += n
      estimatedMs += n * a.costMs
      if (left > n) {
        a.ready = true
        ready.push(a)
      }
    }
    w.ready = ready.slice(i)
    // A throttled agent's turn: what waits (up to `throttledTurnOf`), at most every
    // throttledTurnMs. Its handling and the main thread's work on its results (a post, a
    // results message, a commit) come a few times a second in one piece instead of once
    // for each message: issue 10's flood agent alone on a node cost 137-170 µs of the main
    // thread a message handled as one message a batch, 57-61 µs in turns every 200 ms
    // (docs/performance.md, isolation's eleventh look).
    for (const a of due) {
      const n = Math.min(this.throttledTurnOf(a), MAX_BATCH_MESSAGES - messages, a.mailbox.size - a.mailbox.posted)
      if (n <= 0) {
        resting.push(a)
        continue
      }
      turns.push(a)
      a.planned = n
      messages += n
      a.turnAt = (now ?? performance.now()) + this.throttledTurnMs
    }
    due.length = 0
    // Their next turn comes in a later batch (flushed when a batch's results come back).
    for (const a of resting) {
      a.ready = true
      w.ready.push(a)
    }
    resting.length = 0
    if (turns.length === 0) return false
    const flushAt = planBatch(turns, turnCost)
    // The mailboxes hold the frames: one copy each for the agents' turns.
    const out = this.batch
    for (let k = 0; k < turns.length; k++) {
      const a = turns[k]
      const n = a.planned
      a.planned = 0
      if (out.length < MAX_BATCH_BYTES) a.mailbox.takeUnposted(n, out, k === flushAt ? FRAME_FLAGS.flushAfter : 0)
      if (a.mailbox.hasUnposted && !a.ready) {
        a.ready = true
        w.ready.push(a)
      }
    }
    turns.length = 0
    if (out.length === 0) return false
    const { buf, length, transfer } = out.hand()
    w.inFlight++
    const spares = w.spares
    w.spares = []
    w.post({ t: 'batch', buf, length, spares }, transfer ? [buf, ...spares] : spares)
    return true
  }

  /** Most messages of a throttled agent's turn: 1.25 × its sends per `throttledTurnMs`, at least {@link MAX_QUANTUM}. */
  private throttledTurnOf (a: AgentSlot): number {
    return Math.max(MAX_QUANTUM, Math.ceil(a.limits.sendsPerSecond * this.throttledTurnMs / 800))
  }

  /**
   * Keeps a throttled agent out of the ready lists until its `turnAt` (one timer for all):
   * messages delivered to it meanwhile do not make it ready (`markReady`).
   */
  private pace (a: AgentSlot): void {
    a.waitingTurn = true
    this.paced.push(a)
    if (a.turnAt >= this.paceAt) return
    clearTimeout(this.paceTimer)
    this.paceAt = a.turnAt
    this.paceTimer = setTimeout(this.wakePaced, Math.max(0, a.turnAt - performance.now()))
    this.paceTimer.unref()
  }

  private readonly wakePaced = (): void => {
    this.paceTimer = undefined
    this.paceAt = Infinity
    const paced = this.paced
    this.paced = []
    for (const a of paced) {
      a.waitingTurn = false
      this.markReady(a)
    }
  }

  private onWorkerMessage (w: AgentWorker, msg: FromWorker): void {
    if (w.closed) return
    switch (msg.t) {
      case 'results':
        this.onResults(msg.buf, msg.length)
        // Nothing read from it is kept (decoding copies): the worker may write in it again.
        if (wasTransferred(msg.buf) && w.spares.length < MAX_RESULT_SPARES) w.spares.push(msg.buf)
        if (msg.spare !== undefined) this.batch.recycle(msg.spare)
        if (msg.done) {
          w.inFlight = Math.max(0, w.inFlight - 1)
          if (w.ready.length > 0) this.scheduleFlush()
        }
        break
      case 'ready':
        w.isReady = true
        w.ready$.resolve()
        break
      case 'loaded':
      case 'load-failed': {
        const l = w.loads.get(msg.slot)
        w.loads.delete(msg.slot)
        const a = this.slots.get(msg.slot)
        if (a !== undefined) a.starting = false
        if (msg.t === 'loaded') l?.resolve(msg.memoryPages)
        else l?.reject(new InvalidModuleError(msg.reason))
        break
      }
      case 'unloaded': {
        const done = w.unloads.get(msg.slot)
        w.unloads.delete(msg.slot)
        done?.()
        break
      }
    }
  }

  private onResults (buf: ArrayBuffer, length: number): void {
    const view = new DataView(buf, 0, length)
    const bytes = new Uint8Array(buf, 0, length)
    // Counted here, added to the metrics once per buffer (a labelled `inc` hashes its labels).
    let handledOk = 0
    let handledError = 0
    let off = 0
    records: while (off < length) {
      const kind = bytes[off]
      const slot = view.getUint32(off + 1, true)
      off += 5
      const a = this.slots.get(slot)
      switch (kind) {
        case RecordKind.Handled: {
          const status = view.getInt32(off, true)
          const ms = view.getFloat64(off + 4, true)
          const pages = view.getUint32(off + 12, true)
          const changes = view.getUint32(off + 16, true)
          const state = changes === 0 || a === undefined ? undefined : readChanges(bytes.subarray(off + 20, off + 20 + changes))
          off += 20 + changes
          if (a === undefined) break
          a.stats.handled++
          a.stats.memoryPages = pages
          a.throttled = a.refusedInCall
          a.refusedInCall = false
          a.costMs += (ms - a.costMs) * COST_ALPHA
          const token = a.mailbox.ack()
          const sends = a.sends
          a.sends = []
          if (status === 0) {
            handledOk++
          } else {
            handledError++
            a.stats.errors++
          }
          this.metrics?.handlerSeconds.observe(ms / 1000)
          // Not through `callHost`: no closure per message. With the metrics counted per
          // buffer, reading results went from 0.24 to 0.12 µs per message (perf, sink agent).
          try {
            this.host.onHandled(a.id, token, sends, state)
          } catch (err) {
            this.log.error({ err }, 'runtime host callback threw')
          }
          if (a.waiters.length > 0) this.wake(a)
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
        case RecordKind.OverBudget: {
          const refused = view.getUint32(off, true)
          off += 4
          if (a === undefined) break
          // The start function's sends have no `Handled` record to follow.
          if (!a.starting) a.refusedInCall = true
          this.overBudget(a, refused)
          break
        }
        default:
          // A record this runtime does not know can only be a bug; the rest of the
          // buffer cannot be framed, so it is dropped.
          this.log.error({ kind, off }, 'unknown record from agent worker')
          break records
      }
    }
    if (this.metrics !== undefined && handledOk + handledError > 0) this.metrics.countHandled(handledOk, handledError)
  }

  /** `refused` sends of one call were over the agent's budget: suspends it once that has lasted the grace period. */
  private overBudget (a: AgentSlot, refused: number): void {
    a.stats.overBudget += refused
    this.metrics?.sendsOverBudget.inc(refused)
    if (!a.overBudget.refused(performance.now()) || a.state !== 'running') return
    const l = a.limits
    this.suspendSlot(a, `over its send budget (${l.sendsPerSecond} messages/s, burst ${l.sendBurst}, ${l.sendBytesPerSecond} bytes/s) for more than ${this.graceMs} ms`, 'budget')
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
    a.reason = undefined
    a.stats.errors++
    a.sends = []
    const dropped = a.mailbox.clear()
    this.detach(a)
    this.metrics?.failure(kind)
    this.log.warn({ agentId: a.id, reason, dropped: dropped.length }, 'agent failed')
    this.callHost(() => { this.host.onAgentFailed(a.id, reason, dropped) })
    this.callHost(() => { this.host.onStateChanged?.(a.id, 'failed', reason) })
  }

  // --- drain ---

  /** Waits until the agent's mailbox is empty (true), or `deadline` (performance.now()) passes (false). */
  private async drain (a: AgentSlot, deadline: number): Promise<boolean> {
    return await this.until(a, () => a.mailbox.size === 0 || a.worker === undefined, deadline)
  }

  private async until (a: AgentSlot, done: () => boolean, deadline: number): Promise<boolean> {
    if (done()) return true
    const { promise, resolve } = Promise.withResolvers<boolean>()
    const waiter = (): void => {
      if (done()) resolve(true)
      else a.waiters.push(waiter)
    }
    a.waiters.push(waiter)
    const timer = setTimeout(() => { resolve(false) }, Math.max(0, deadline - performance.now()))
    const result = await promise
    clearTimeout(timer)
    a.waiters = a.waiters.filter(x => x !== waiter)
    return result
  }

  private wake (a: AgentSlot): void {
    const waiters = a.waiters
    a.waiters = []
    for (const w of waiters) w()
  }

  // --- workers and the watchdog ---

  private startWorker (): AgentWorker {
    const watch = new SharedArrayBuffer(Watch.length * Int32Array.BYTES_PER_ELEMENT)
    const data: AgentWorkerData = { watch }
    const worker = spawnWorker('agent-worker', { ...data }, { resourceLimits: this.resourceLimits })
    const w = new AgentWorker(this.nextWorkerId++, worker, new Int32Array(watch))
    if (this.backpressure) Atomics.store(w.watch, Watch.backpressure, 1)
    w.ready$.promise.catch(() => {})
    worker.on('message', (msg: FromWorker) => { this.onWorkerMessage(w, msg) })
    worker.on('error', (err) => {
      if (!w.closed) this.log.error({ err, worker: w.id }, 'agent worker crashed')
      w.ready$.reject(err)
    })
    worker.on('exit', (code) => {
      w.ready$.reject(new Error(`agent worker exited (code ${code}) before it was ready`))
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

  /** Marks a worker closed: pending loads fail with `err`, pending unloads are done. */
  private close (w: AgentWorker, err: Error): void {
    w.closed = true
    for (const l of w.loads.values()) l.reject(err)
    w.loads.clear()
    for (const done of w.unloads.values()) done()
    w.unloads.clear()
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

  /**
   * Asks a call that has run past its agent's `handlerTimeoutMs` to stop (`Watch.interrupt`);
   * terminates the worker when the call is still running {@link INTERRUPT_GRACE_MS} later.
   */
  private readonly checkWatchdog = (): void => {
    const now = performance.now()
    for (const w of this.workers) {
      if (w.closed) continue
      const slot = Atomics.load(w.watch, Watch.slot)
      if (slot === 0) { w.watchSince = -1; continue }
      const seq = Atomics.load(w.watch, Watch.sequence)
      if (seq !== w.watchSeq || w.watchSince < 0) { w.watchSeq = seq; w.watchSince = now; continue }
      const limit = this.slots.get(slot)?.limits.handlerTimeoutMs ?? this.defaults.handlerTimeoutMs
      if (now - w.watchSince <= limit) continue
      if (w.interruptedSeq !== seq) {
        w.interruptedSeq = seq
        w.interruptedAt = now
        Atomics.store(w.watch, Watch.interrupt, seq)
        this.log.warn({ agentId: this.slots.get(slot)?.id, limitMs: limit }, 'handler ran past handlerTimeoutMs: asked it to stop')
        continue
      }
      if (now - w.interruptedAt > INTERRUPT_GRACE_MS) {
        const id = this.slots.get(slot)?.id ?? '?'
        this.replaceWorker(w, slot, {
          culprit: `handler ran longer than ${limit} ms (handlerTimeoutMs) and did not stop when asked: stopped by terminating its worker`,
          cause: `agent ${id} ran past its handlerTimeoutMs (${limit} ms) and did not stop when asked`
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
    this.close(w, new InvalidModuleError(`instantiation interrupted: ${why.cause}`))
    void w.worker.terminate()
    this.workers = this.workers.filter(x => x !== w)
    const culprit = culpritSlot === 0 ? undefined : this.slots.get(culpritSlot)
    // An agent still loading fails its deploy instead (its load was rejected above).
    if (culprit !== undefined && culprit.state !== 'loaded') this.fail(culprit, why.culprit, kind)
    if (!this.running) {
      // Stopping: nothing will handle the rest of their mailboxes; stop() need not wait.
      for (const a of w.agents) this.wake(a)
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
        if (hasInstance(a)) this.fail(a, `${why.cause}, and its worker could not be replaced`, 'crash')
      }
      return
    }
    const next = this.startWorker()
    for (const a of [...w.agents]) {
      w.agents.delete(a)
      // One being stopped or removed is not brought back: its unload is done (see close()).
      if (!hasInstance(a) || a.holding) continue
      a.worker = next
      a.ready = false // it may sit in the old worker's ready list, which nobody flushes now
      next.agents.add(a)
      a.stats.restarts++
      this.metrics?.restarts.inc()
      const restarted = `restarted from its module, in-memory state lost: its worker was terminated because ${why.cause}`
      this.log.warn({ agentId: a.id, reason: restarted }, 'agent restarted')
      this.callHost(() => { this.host.onAgentRestarted?.(a.id, restarted) })
      a.sends = [] // the interrupted run's sends: it runs again
      a.mailbox.resetPosted()
      // The load is posted before any batch, and a port keeps order.
      this.load(next, a).then(pages => { a.stats.memoryPages = pages }, (err: Error) => {
        this.fail(a, `restart failed: ${err.message}`, 'crash')
      })
      this.markReady(a)
      this.wake(a)
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
    if (a.state === 'suspended' && a.reason !== undefined) info.reason = a.reason
    if (a.lastError !== undefined) info.lastError = a.lastError
    return info
  }

  private countByState (): Record<AgentState, number> {
    const counts = Object.fromEntries(AGENT_STATES.map(s => [s, 0])) as Record<AgentState, number>
    for (const a of this.agents.values()) counts[a.state]++
    return counts
  }
}

/** Whether the agent has an instance on its worker (one still loading fails its deploy or start instead). */
function hasInstance (a: AgentSlot): boolean {
  return a.state === 'running' || a.state === 'draining' || a.state === 'suspended'
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
