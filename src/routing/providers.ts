/**
 * The kad-dht fallback of agent resolution (DESIGN.md: kad-dht under the private
 * `/caxton` protocol): a node provides `agentKey(id)` for every agent it hosts, re-provides
 * them on a schedule (the DHT peers keep provider records in memory and forget them when
 * they restart; nodes joining later are the closest to some keys), and withdraws a record
 * when the agent is removed. kad-dht has no delete: withdrawing stops this node's
 * re-providing (its own and kad-dht's) and lets the copies expire (48 h in kad-dht 16);
 * until then, lookups skip a provider the registry knows removed the agent.
 */
import type { ContentRouting, PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { Logger } from 'pino'
import type { AgentId } from '../../protocols/fipa/types.js'
import { silentLogger } from '../observability/logger.js'
import type { MetricsRegistry } from '../observability/metrics.js'
import { RoutingMetrics } from './metrics.js'
import { agentKey } from './agent-key.js'

export interface ProviderRecordsOptions {
  contentRouting: Pick<ContentRouting, 'provide' | 'findProviders'>
  /** kad-dht itself, to stop its own re-providing of a withdrawn key. */
  dht?: { cancelReprovide: (key: CID) => Promise<void> }
  /** This node (PeerId string): never an answer. */
  self: string
  /** The agents this node hosts now. */
  localAgents: () => AgentId[]
  /** Period of re-providing every local agent, ms (±20% jitter); 0 disables. */
  reprovideIntervalMs: number
  /** Bound on one provider lookup, ms. */
  lookupTimeoutMs: number
  /** Bound on one provide, ms. @default 30000 */
  provideTimeoutMs?: number
  /** Provides running at once during a re-provide round. @default 4 */
  concurrency?: number
  logger?: Logger
  metrics?: MetricsRegistry
}

export class ProviderRecords {
  private readonly log: Logger
  private timer?: NodeJS.Timeout
  private running = false
  private readonly metrics?: RoutingMetrics

  constructor (private readonly options: ProviderRecordsOptions) {
    this.log = options.logger ?? silentLogger()
    if (options.metrics !== undefined) this.metrics = new RoutingMetrics(options.metrics)
  }

  start (): void {
    if (this.running) return
    this.running = true
    this.arm()
  }

  stop (): void {
    this.running = false
    clearTimeout(this.timer)
  }

  /** Publishes this node as a provider of `agentId`, in the background (failures are logged). */
  provide (agentId: AgentId): void {
    void this.provideNow(agentId)
  }

  /** Stops re-providing `agentId` (the DHT's copies expire by themselves). Never throws. */
  async withdraw (agentId: AgentId): Promise<void> {
    try {
      await this.options.dht?.cancelReprovide(await agentKey(agentId))
    } catch (err) {
      this.log.debug({ agentId, err: (err as Error).message }, 'cancelReprovide failed')
    }
  }

  /**
   * The first provider of `agentId` that `accept` takes, within the lookup bound; undefined
   * when none (or the DHT has no peers).
   */
  async find (agentId: AgentId, accept: (peer: string) => boolean): Promise<string | undefined> {
    const signal = AbortSignal.timeout(this.options.lookupTimeoutMs)
    try {
      for await (const provider of this.options.contentRouting.findProviders(await agentKey(agentId), { signal })) {
        const peer = (provider.id as PeerId).toString()
        if (peer === this.options.self || !accept(peer)) continue
        this.metrics?.lookups.inc({ outcome: 'found' })
        return peer
      }
    } catch (err) {
      this.log.debug({ agentId, err: (err as Error).message }, 'DHT provider lookup ended without a result')
    }
    this.metrics?.lookups.inc({ outcome: 'none' })
    return undefined
  }

  /** Re-provides every local agent now, `concurrency` at a time. @returns how many were provided */
  async reprovideAll (): Promise<number> {
    const queue = [...this.options.localAgents()]
    let ok = 0
    const worker = async (): Promise<void> => {
      for (let id = queue.shift(); id !== undefined && this.running; id = queue.shift()) {
        if (await this.provideNow(id)) ok++
      }
    }
    await Promise.all(Array.from({ length: this.options.concurrency ?? 4 }, worker))
    return ok
  }

  private async provideNow (agentId: AgentId): Promise<boolean> {
    try {
      await this.options.contentRouting.provide(await agentKey(agentId), { signal: AbortSignal.timeout(this.options.provideTimeoutMs ?? 30_000) })
      this.metrics?.provides.inc({ outcome: 'ok' })
    } catch (err) {
      this.metrics?.provides.inc({ outcome: 'failed' })
      this.log.debug({ agentId, err: (err as Error).message }, 'DHT provide failed (the registry still names the agent\'s node)')
      return false
    }
    // Removed while the provide ran: do not leave kad-dht re-providing it.
    if (!this.options.localAgents().includes(agentId)) await this.withdraw(agentId)
    return true
  }

  private arm (): void {
    const every = this.options.reprovideIntervalMs
    if (!this.running || every <= 0) return
    this.timer = setTimeout(() => {
      void this.reprovideAll().finally(() => { this.arm() })
    }, every * (0.8 + 0.4 * Math.random()))
    this.timer.unref()
  }
}
