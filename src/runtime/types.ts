/**
 * The contract between the agent runtime and the rest of the node. The router only
 * sees {@link AgentRuntime}; the runtime only sees {@link RuntimeHost}.
 */
import type { AclMessage, AgentId } from '../../protocols/fipa/types.js'
import type { AgentStateSnapshot, StateChanges } from './host/changes.js'

export type { AgentStateSnapshot, StateChanges, TimerChange } from './host/changes.js'

/** Per-agent resource limits. Every field has a default (see `DEFAULT_AGENT_LIMITS`). */
export interface AgentLimits {
  /** Cap on the agent's linear memory, in 64 KiB WASM pages. @default 256 (16 MiB) */
  maxMemoryPages: number
  /** Messages queued for the agent before `deliver` answers `'mailbox-full'`. @default 1024 */
  mailboxCapacity: number
  /** Fuel budget for one `handle_message` call (≈ instructions). @default 50_000_000 */
  fuelPerMessage: number
  /** Wall-clock backstop for one `handle_message` call, ms; past it the agent is stopped. @default 5000 */
  handlerTimeoutMs: number
  /**
   * Send budget: messages per second the agent may send, sustained (a token bucket; see
   * `budget.ts`). One send per message handled from another agent or a client is free:
   * a reply is paid for by the request. Past it `env.send` answers `overBudget`. @default 1000
   */
  sendsPerSecond: number
  /** Send budget: messages sent at once after a quiet spell (the bucket's size). @default 1000 */
  sendBurst: number
  /** Send budget: bytes per second, sustained; also the most bytes sent at once. @default 4194304 (4 MiB) */
  sendBytesPerSecond: number
}

/**
 * Agent lifecycle: loaded (instantiating) → running → draining → stopped; suspended (its
 * instance kept, no message handled) from running and back; failed when stopped by a
 * fault. A stopped or failed agent is started again from its module.
 */
export type AgentState = 'loaded' | 'running' | 'draining' | 'stopped' | 'suspended' | 'failed'

export interface AgentStats {
  /** Messages accepted into the mailbox. */
  received: number
  /** `handle_message` calls that returned. */
  handled: number
  /** Messages the agent passed to `env.send`. */
  sent: number
  /** Messages the agent could not handle (trap, non-zero return). */
  errors: number
  /** Messages waiting in the mailbox now. */
  queued: number
  /** Current linear memory size, 64 KiB pages. */
  memoryPages: number
  /**
   * Times the agent was restarted from its module, losing its in-memory state, because
   * another agent on the same worker had to be stopped by terminating that worker.
   */
  restarts?: number
  /** Sends refused because the agent was over its send budget (`env.send` answered `overBudget`). */
  overBudget?: number
}

export interface AgentInfo {
  id: AgentId
  /** sha256 of the module as deployed, hex. */
  moduleHash: string
  /** Size of the module as deployed, bytes. */
  moduleBytes: number
  state: AgentState
  limits: AgentLimits
  /** ms since the epoch. */
  deployedAt: number
  stats: AgentStats
  /** Why the agent is `suspended` (by an operator, or over its send budget), when it is. */
  reason?: string
  /** Why the agent is `failed`, when it is. */
  lastError?: string
}

/** How {@link AgentRuntime.deploy} leaves an agent (restoring one that was stopped or suspended). */
export interface DeployOptions {
  /** `stopped`: compiled, not instantiated; `suspended`: instantiated, handles nothing. @default running */
  state?: 'stopped' | 'suspended'
  /** Why it is suspended (shown as `reason`). */
  reason?: string
}

/** What `deliver` did with a message. */
export type DeliverResult = 'queued' | 'mailbox-full' | 'no-such-agent' | 'not-running'

/**
 * A message an agent asked to send, decoded from the agent ABI but not validated: the
 * router validates it, stamps it and sets `sender` to the agent's id (agents cannot spoof).
 * `error` is set instead when the agent's bytes could not be decoded at all.
 */
export type AgentOutbound =
  | { ok: true, draft: Record<string, unknown> }
  | { ok: false, error: string }

/** What the runtime needs from the node (injected). */
export interface RuntimeHost {
  /**
   * An agent's `handle_message` returned for the message delivered with `token` (undefined
   * when delivered without one), having called `env.send` with `sends`, in order. Called
   * once per message delivered, in delivery order; the host commits the message's removal
   * from the durable inbox together with the sends and `state`, what the handler changed
   * in the agent's store and timers (undefined when nothing: ABI SPEC.md §7-§8).
   */
  onHandled: (agentId: AgentId, token: string | undefined, sends: AgentOutbound[], state?: StateChanges) => void
  /**
   * The durable state an instance of `agentId` starts from: its store and timers as of the
   * last message reported through `onHandled`, with their bounds. Asked at every load
   * (deploy, and a restart after its worker was terminated). Without it an instance starts
   * empty, with default bounds, and what it writes lasts as long as the instance.
   */
  agentState?: (agentId: AgentId) => AgentStateSnapshot | undefined
  /** An agent called `env.send` outside a message: from its start function. */
  onAgentSend: (agentId: AgentId, outbound: AgentOutbound) => void
  /** An agent called `env.log` (text is already decoded). */
  onAgentLog: (agentId: AgentId, level: 'debug' | 'info' | 'warn' | 'error', text: string) => void
  /**
   * An agent was stopped by a fault (trap, fuel, memory, timeout); it stays listed as
   * `failed`. `tokens` are the messages it will not handle, the one it failed on first: the
   * host disposes of them (dead letters, FAILURE to their senders).
   */
  onAgentFailed: (agentId: AgentId, reason: string, tokens: string[]) => void
  /**
   * An agent was restarted from its module, losing its in-memory state, because its
   * worker had to be terminated (another agent on it ran past `handlerTimeoutMs`, or the
   * worker crashed). Messages it had not finished are handled again by the new instance.
   */
  onAgentRestarted?: (agentId: AgentId, reason: string) => void
  /**
   * An agent's state changed after its deploy: by a lifecycle call (stop, start, suspend,
   * resume), by the runtime (suspended over its send budget) or by a fault (failed, also
   * reported through `onAgentFailed`). `reason` says why it is suspended or failed.
   */
  onStateChanged?: (agentId: AgentId, state: AgentState, reason?: string) => void
}

/** The agent runtime as the node and router use it. */
export interface AgentRuntime {
  start: () => Promise<void>
  /** Drains every agent's mailbox (bounded by `drainTimeoutMs`), then stops workers. */
  stop: () => Promise<void>
  /**
   * Checks a module against the sandbox policy without deploying it.
   * @throws InvalidModuleError naming the offending import, feature or limit.
   */
  inspect: (wasm: Uint8Array) => Promise<ModuleReport>
  /**
   * Validates, instantiates and starts an agent (or, with `options.state`, leaves it
   * stopped or suspended).
   * @throws InvalidModuleError, AgentExistsError, InvalidLimitsError
   */
  deploy: (id: AgentId, wasm: Uint8Array, limits?: Partial<AgentLimits>, options?: DeployOptions) => Promise<AgentInfo>
  /**
   * Drains (bounded by `drainTimeoutMs`) and stops an agent.
   * @returns the tokens of the messages it did not handle, oldest first
   * @throws AgentNotFoundError
   */
  remove: (id: AgentId) => Promise<string[]>
  /**
   * running → draining (its mailbox drains, bounded by `drainTimeoutMs`) → stopped; a
   * suspended agent stops without handling more. Its instance, and in-memory state, is
   * dropped; the messages it did not handle stay in its mailbox (and durable inbox) for
   * `startAgent`. No-op when stopped.
   * @throws AgentNotFoundError, AgentStateError (starting, failed, being removed)
   */
  stopAgent: (id: AgentId) => Promise<AgentInfo>
  /**
   * stopped or failed → loaded → running: instantiated again from its module (its start
   * function runs), then handles what waits in its mailbox. No-op when running.
   * @throws AgentNotFoundError, AgentStateError (suspended: resume it), InvalidModuleError
   *   (its start function failed: it is failed again)
   */
  startAgent: (id: AgentId) => Promise<AgentInfo>
  /**
   * Replaces the agent's module (and limits: the node's defaults fill what `limits` omits)
   * in place. The new module is checked and compiled first: one the policy refuses changes
   * nothing. Then running → draining (the old instance finishes the messages already posted
   * to it; the rest stay in its mailbox, in order) → loaded (the new instance starts from
   * the agent's durable state, `host.agentState`) → running. A suspended agent comes back
   * suspended with the new instance, a stopped one stays stopped with the new module, a
   * failed one is started with it. When the new module's start function fails, the old
   * module is instantiated again (in-memory state lost) and the error is thrown.
   * @throws AgentNotFoundError, AgentStateError (loading, draining, being removed),
   *   InvalidModuleError, RuntimeNotRunningError
   */
  upgrade: (id: AgentId, wasm: Uint8Array, limits?: Partial<AgentLimits>) => Promise<AgentInfo>
  /**
   * running → suspended: its instance (and state) is kept, it handles nothing until
   * `resume`; messages wait as for a stopped agent. No-op when suspended.
   * @throws AgentNotFoundError, AgentStateError
   */
  suspend: (id: AgentId, reason?: string) => AgentInfo
  /**
   * suspended → running. No-op when running.
   * @throws AgentNotFoundError, AgentStateError (stopped or failed: start it)
   */
  resume: (id: AgentId) => AgentInfo
  /**
   * Hands a validated message to a local agent's mailbox. O(1), never blocks. `token`
   * comes back through `onHandled` (or `onAgentFailed`, or `remove`). `force` says the
   * message is in the agent's durable inbox already: the mailbox's capacity is ignored,
   * and a stopped or suspended agent keeps it for its start (`not-running` otherwise).
   */
  deliver: (id: AgentId, message: AclMessage, token?: string, force?: boolean) => DeliverResult
  /**
   * Whether `deliver` would queue a message now, counting `reserved` more messages on their
   * way in (being persisted): `queued` when it would.
   */
  admit: (id: AgentId, reserved?: number) => DeliverResult
  /**
   * While on, an agent's `env.send` returns `SEND_RESULT.outboxFull` (the node's outbox is
   * full) instead of accepting the message.
   */
  setSendBackpressure: (on: boolean) => void
  has: (id: AgentId) => boolean
  get: (id: AgentId) => AgentInfo | undefined
  list: () => AgentInfo[]
}

/** What the policy check found in a module. */
export interface ModuleReport {
  /** sha256 of the module, hex. */
  hash: string
  bytes: number
  imports: string[]
  exports: string[]
  /** Initial / maximum memory the module declares, pages (before the host caps it). */
  memory: { initial: number, maximum?: number }
}

/**
 * A module as the policy worker checked and metered it, kept across restarts by a
 * {@link MeteredModuleStore}.
 */
export interface MeteredModule {
  /** `meteringFingerprint()` of the build that metered it. */
  fingerprint: string
  /** What the policy check found (the module's hash is the store's key). */
  report: Omit<ModuleReport, 'hash'>
  /** The module rewritten for the sandbox (what the agent worker instantiates). */
  instrumented: Uint8Array
}

/**
 * Where the runtime keeps the modules it has checked and metered, by the sha256 of the
 * module as deployed (hex), so that a restart compiles the metered form it kept instead of
 * loading binaryen in the policy worker and checking every agent's module again (~1.5 s
 * before the first agent was back, at a node's start on a 2-core machine). The runtime
 * uses a kept module only when its fingerprint is this build's. Neither call may be
 * relied on: a failed `get` is a miss, a failed `put` is logged.
 */
export interface MeteredModuleStore {
  get: (hash: string) => Promise<MeteredModule | undefined>
  put: (hash: string, module: MeteredModule) => Promise<void>
}
