/**
 * Agents' durable state on the node (ABI SPEC.md §7-§9): their key-value stores, timers
 * and the capabilities they declared. The runtime loads each instance from {@link AgentStateService.snapshot} and
 * reports what each handled message changed; {@link AgentStateService.commit} turns that
 * into rows that go into the same write as the message's removal from the inbox and what
 * its handler sent (the router's and delivery's `handled`), so a crash never half-applies
 * a message.
 */
import type { Logger } from 'pino'
import type { AgentId } from '../../protocols/fipa/types.js'
import type { Capability } from '../../protocols/registry/index.js'
import { silentLogger } from '../observability/logger.js'
import { Gauge, type MetricsRegistry } from '../observability/metrics.js'
import type { AgentStateSnapshot, StateChanges } from '../runtime/types.js'
import type { StorageOp, Sublevel } from '../storage/index.js'
import type { TimerService } from '../timers/index.js'
import { AgentCapabilityRows } from './capability-rows.js'
import { AgentKvRows } from './kv-rows.js'

export interface AgentStateOptions {
  /** Sublevel `agent-kv`. */
  kvRows: Sublevel
  /** Sublevel `agent-capabilities`. */
  capabilityRows: Sublevel
  timers: TimerService
  /** Quota of each agent's store, bytes (`agents.kvQuotaBytes`). */
  kvQuotaBytes: number
  /** Most timers pending per agent (`agents.maxTimers`). */
  maxTimers: number
  /** Writes rows in the node's ordered group commit (delivery's `write`). */
  write: (ops: StorageOp[]) => Promise<void>
  logger?: Logger
  metrics?: MetricsRegistry
}

export class AgentStateService {
  readonly kv: AgentKvRows
  readonly timers: TimerService
  readonly capabilities: AgentCapabilityRows

  constructor (private readonly o: AgentStateOptions) {
    const log = o.logger ?? silentLogger()
    this.kv = new AgentKvRows(o.kvRows, log)
    this.capabilities = new AgentCapabilityRows(o.capabilityRows, log)
    this.timers = o.timers
    if (o.metrics !== undefined) {
      const kv = this.kv
      new Gauge({ name: 'caxton_agent_kv_bytes', help: 'Bytes of every agent\'s key-value store, as counted against their quotas (key + value + 32 per entry)', registers: [o.metrics], collect () { this.set(kv.totalBytes()) } })
    }
  }

  /**
   * Reads the stored stores, timers and declared capabilities, deleting those of agents not
   * in `stored` (removed while the node was down). Call before the agents are restored.
   */
  async load (stored: ReadonlySet<AgentId>): Promise<void> {
    const keep = (id: AgentId): boolean => stored.has(id)
    await this.kv.load(keep)
    await this.timers.load(keep)
    await this.capabilities.load(keep)
  }

  /**
   * What an instance of `agentId` starts from. `capabilities` is set only when the agent
   * declared or withdrew some since its deploy: else it offers what it was deployed with.
   */
  snapshot (agentId: AgentId): AgentStateSnapshot {
    const s: AgentStateSnapshot = {
      kv: this.kv.entries(agentId),
      ...this.timers.snapshot(agentId),
      kvQuotaBytes: this.o.kvQuotaBytes,
      maxTimers: this.o.maxTimers
    }
    const capabilities = this.capabilities.get(agentId)
    if (capabilities !== undefined) s.capabilities = capabilities
    return s
  }

  /** Applies what one handled message of `agentId` changed; returns the rows to write with it. */
  commit (agentId: AgentId, changes: StateChanges): StorageOp[] {
    const ops = this.kv.apply(agentId, changes.kv)
    if (changes.timers.length > 0) ops.push(...this.timers.apply(agentId, changes.timers))
    if (changes.capabilities !== undefined) ops.push(...this.capabilities.apply(agentId, changes.capabilities))
    return ops
  }

  /** The capabilities `agentId` declared it offers; undefined when it changed nothing since its deploy. */
  declared (agentId: AgentId): Capability[] | undefined {
    return this.capabilities.get(agentId)
  }

  /** Deletes `agentId`'s store, timers and declared capabilities (it was removed); resolves once written. */
  async drop (agentId: AgentId): Promise<void> {
    const ops = [...this.kv.dropOps(agentId), ...this.timers.dropOps(agentId), ...this.capabilities.dropOps(agentId)]
    if (ops.length > 0) await this.o.write(ops)
  }
}
