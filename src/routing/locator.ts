/**
 * Agent → node resolution for the router (DESIGN.md `routing/`): the cluster registry
 * first (a replica on this node: no I/O); routes learned from inbound traffic next (API
 * clients on other nodes are not agents and are not in the registry, yet their replies
 * must find the way back); kad-dht provider records last, for an agent the registry has
 * not learned yet. A provider that the registry knows removed the agent is skipped.
 */
import type { Logger } from 'pino'
import type { AgentId } from '../../protocols/fipa/types.js'
import { LRUCache } from 'lru-cache'
import { silentLogger } from '../observability/logger.js'
import type { AgentLocator } from '../router/locator.js'

/** Where the registry says an agent is (`ClusterRegistry.lookup`). */
export type RegistryAnswer = { node: string, version?: string } | { removedBy: string }

/** What the locator needs from the registry. */
export interface RegistryLookup {
  lookup: (agentId: AgentId) => RegistryAnswer | undefined
}

/** What the locator needs from the DHT (`ProviderRecords.find`). */
export interface ProviderLookup {
  find: (agentId: AgentId, accept: (peer: string) => boolean) => Promise<string | undefined>
}

export interface RegistryLocatorOptions {
  /** This node (PeerId string). */
  self: string
  registry: RegistryLookup
  providers: ProviderLookup
  /** Learned routes kept (LRU). @default 100_000 */
  maxLearned?: number
  logger?: Logger
}

export class RegistryLocator implements AgentLocator {
  /** agent (usually an API client) → peer it last wrote from. */
  private readonly learned: LRUCache<AgentId, string>
  /**
   * Registry answers a peer contradicted ("no such agent"): skipped until the registry
   * says something else about the agent (another node, or a newer version).
   */
  private readonly contradicted = new Map<AgentId, { node: string, version?: string }>()
  private readonly log: Logger

  constructor (private readonly options: RegistryLocatorOptions) {
    this.log = options.logger ?? silentLogger()
    this.learned = new LRUCache({ max: options.maxLearned ?? 100_000 })
  }

  lookup (agentId: AgentId): string | undefined {
    return this.fromRegistry(agentId) ?? this.learned.get(agentId)
  }

  async resolve (agentId: AgentId, options: { exclude?: string } = {}): Promise<string | undefined> {
    const exclude = options.exclude
    const registered = this.fromRegistry(agentId)
    if (registered !== undefined && registered !== exclude) return registered
    const learned = this.learned.get(agentId)
    if (learned !== undefined && learned !== exclude) return learned
    const answer = this.options.registry.lookup(agentId)
    const removedBy = answer !== undefined && 'removedBy' in answer ? answer.removedBy : undefined
    const found = await this.options.providers.find(agentId, peer => peer !== exclude && peer !== removedBy)
    if (found !== undefined) {
      this.log.debug({ agentId, peer: found }, 'agent located through a DHT provider record')
      this.learn(agentId, found)
    }
    return found
  }

  learn (agentId: AgentId, peer: string): void {
    const c = this.contradicted.get(agentId)
    if (c !== undefined && c.node === peer) this.contradicted.delete(agentId)
    if (this.fromRegistry(agentId) === peer) return
    // Called for every message a peer delivers: an id already bound to that peer is left
    // as it is (no LRU refresh); if evicted meanwhile, its next message learns it again.
    if (this.learned.peek(agentId) === peer) return
    this.learned.set(agentId, peer)
  }

  forget (agentId: AgentId, peer: string): void {
    if (this.learned.get(agentId) === peer) this.learned.delete(agentId)
    const answer = this.options.registry.lookup(agentId)
    if (answer !== undefined && 'node' in answer && answer.node === peer) {
      this.contradicted.set(agentId, { node: answer.node, version: answer.version })
    }
  }

  /** The node the registry names for a live agent (whatever a peer said of it), or undefined. */
  registeredOn (agentId: AgentId): string | undefined {
    const answer = this.options.registry.lookup(agentId)
    return answer !== undefined && 'node' in answer ? answer.node : undefined
  }

  /** The peer an unregistered id (an API client) was learned from, or undefined. */
  learnedFrom (agentId: AgentId): string | undefined {
    return this.learned.peek(agentId)
  }

  private fromRegistry (agentId: AgentId): string | undefined {
    const answer = this.options.registry.lookup(agentId)
    if (answer === undefined || !('node' in answer)) return undefined
    const c = this.contradicted.get(agentId)
    if (c !== undefined) {
      if (c.node === answer.node && c.version === answer.version) return undefined
      this.contradicted.delete(agentId)
    }
    return answer.node
  }
}
