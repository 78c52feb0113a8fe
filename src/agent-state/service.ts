/**
 * Agents' durable state on the node (ABI SPEC.md §7-§8): their key-value stores and
 * timers. The runtime loads each instance from {@link AgentStateService.snapshot} and
 * reports what each handled message changed; {@link AgentStateService.commit} turns that
 * into rows that go into the same write as the message's removal from the inbox and what
 * its handler sent (the router's and delivery's `handled`), so a crash never half-applies
 * a message.
 */
import type { Logger } from 'pino'
import type { AgentId } from '../../protocols/fipa/types.js'
import { silentLogger } from '../observability/logger.js'
import { Gauge, type MetricsRegistry } from '../observability/metrics.js'
import type { AgentStateSnapshot, StateChanges } from '../runtime/types.js'
import type { StorageOp, Sublevel } from '../storage/index.js'
import type { TimerService } from '../timers/index.js'
import { AgentKvRows } from './kv-rows.js'

export interface AgentStateOptions {
  /** Sublevel `agent-kv`. */
  kvRows: Sublevel
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

  constructor (private readonly o: AgentStateOptions) {
    const log = o.logger ?? silentLogger()
    this.kv = new AgentKvRows(o.kvRows, log)
    this.timers = o.timers
    if (o.metrics !== undefined) {
      const kv = this.kv
      new Gauge({ name: 'caxton_agent_kv_bytes', help: 'Bytes of every agent\'s key-value store, as counted against their quotas (key + value + 32 per entry)', registers: [o.metrics], collect () { this.set(kv.totalBytes()) } })
    }
  }

  /**
   * Reads the stored stores and timers, deleting those of agents not in `stored` (removed
   * while the node was down). Call before the agents are restored.
   */
  async load (stored: ReadonlySet<AgentId>): Promise<void> {
    const keep = (id: AgentId): boolean => stored.has(id)
    await this.kv.load(keep)
    await this.timers.load(keep)
  }

  /** What an instance of `agentId` starts from. */
  snapshot (agentId: AgentId): AgentStateSnapshot {
    return {
      kv: this.kv.entries(agentId),
      ...this.timers.snapshot(agentId),
      kvQuotaBytes: this.o.kvQuotaBytes,
      maxTimers: this.o.maxTimers
    }
  }

  /** Applies what one handled message of `agentId` changed; returns the rows to write with it. */
  commit (agentId: AgentId, changes: StateChanges): StorageOp[] {
    const ops = this.kv.apply(agentId, changes.kv)
    if (changes.timers.length > 0) ops.push(...this.timers.apply(agentId, changes.timers))
    return ops
  }

  /** Deletes `agentId`'s store and timers (it was removed); resolves once written. */
  async drop (agentId: AgentId): Promise<void> {
    const ops = [...this.kv.dropOps(agentId), ...this.timers.dropOps(agentId)]
    if (ops.length > 0) await this.o.write(ops)
  }
}
