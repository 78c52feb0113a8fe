/**
 * Node-wide bounds on what deploys may take: how many agents, how much memory their caps
 * add up to, and the largest limits one agent may ask, its send budget among them
 * (config section `quota`).
 */
import type { AgentLimits } from '../runtime/types.js'
import { AgentQuotaExceededError, LimitTooHighError } from './errors.js'

export interface QuotaConfig {
  /** Agents this node hosts at most. */
  maxAgents: number
  /** Sum of the agents' memory caps, 64 KiB pages. */
  maxTotalMemoryPages: number
  /** Largest `maxMemoryPages` a deploy may ask, pages. */
  maxMemoryPages: number
  /** Largest `mailboxCapacity`, messages. */
  maxMailboxCapacity: number
  /** Largest `fuelPerMessage`. */
  maxFuelPerMessage: number
  /** Largest `handlerTimeoutMs`, ms. */
  maxHandlerTimeoutMs: number
  /** Largest `sendsPerSecond`, messages. */
  maxSendsPerSecond: number
  /** Largest `sendBurst`, messages. */
  maxSendBurst: number
  /** Largest `sendBytesPerSecond`, bytes. */
  maxSendBytesPerSecond: number
}

const MAX_OF: ReadonlyArray<[keyof AgentLimits, keyof QuotaConfig]> = [
  ['maxMemoryPages', 'maxMemoryPages'],
  ['mailboxCapacity', 'maxMailboxCapacity'],
  ['fuelPerMessage', 'maxFuelPerMessage'],
  ['handlerTimeoutMs', 'maxHandlerTimeoutMs'],
  ['sendsPerSecond', 'maxSendsPerSecond'],
  ['sendBurst', 'maxSendBurst'],
  ['sendBytesPerSecond', 'maxSendBytesPerSecond']
]

/**
 * @example
 * ```ts
 * const quota = new AgentQuota(config.quota, defaultLimits)
 * const release = quota.reserve(req.limits, node.listAgents())   // throws when over
 * try { await deploy(req) } finally { release() }
 * ```
 */
export class AgentQuota {
  private readonly config: QuotaConfig
  private readonly defaults: AgentLimits
  /** Deploys checked and not finished yet: their pages count against the total. */
  private readonly pending = new Set<{ pages: number }>()

  constructor (config: QuotaConfig, defaults: AgentLimits) {
    this.config = config
    this.defaults = defaults
  }

  /**
   * Checks a deploy against the quota, counting the agents deployed and the deploys in
   * progress, and holds its share until the returned function is called (when the
   * deploy has finished, either way).
   * @param asked - the limits the deploy asks (the node's defaults fill the rest)
   * @param deployed - the agents the node hosts now
   * @throws LimitTooHighError, AgentQuotaExceededError
   */
  reserve (asked: Partial<AgentLimits> | undefined, deployed: ReadonlyArray<{ limits: AgentLimits }>): () => void {
    for (const [field, key] of MAX_OF) {
      const value = asked?.[field]
      if (typeof value === 'number' && value > this.config[key]) throw new LimitTooHighError(field, value, this.config[key], `quota.${key}`)
    }
    const agents = deployed.length + this.pending.size
    if (agents >= this.config.maxAgents) throw new AgentQuotaExceededError('agents', agents, 1, this.config.maxAgents)
    const pages = asked?.maxMemoryPages ?? this.defaults.maxMemoryPages
    let used = 0
    for (const a of deployed) used += a.limits.maxMemoryPages
    for (const p of this.pending) used += p.pages
    if (used + pages > this.config.maxTotalMemoryPages) throw new AgentQuotaExceededError('memoryPages', used, pages, this.config.maxTotalMemoryPages)
    const hold = { pages }
    this.pending.add(hold)
    return () => { this.pending.delete(hold) }
  }
}
