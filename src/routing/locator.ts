/**
 * Agent → node resolution (DESIGN.md `routing/`): a table fed by gossipsub announcements
 * first, routes learned from inbound traffic second, kad-dht provider records (under the
 * private `/caxton` DHT) as the fallback for an agent this node has not heard of.
 */
import type { Logger } from 'pino'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { GossipSub, Message } from '@libp2p/gossipsub'
import type { AgentId } from '../../protocols/fipa/types.js'
import { silentLogger } from '../observability/logger.js'
import type { AgentLocator } from '../router/locator.js'
import { agentKey } from './agent-key.js'
import { AGENTS_TOPIC, decodeAnnouncement, encodeAnnouncement } from './announce.js'

export interface GossipLocatorOptions {
  libp2p: Pick<Libp2p, 'peerId' | 'contentRouting' | 'addEventListener' | 'removeEventListener'> & { services: { pubsub: GossipSub } }
  /** The agents this node hosts now (announced as a whole). */
  localAgents: () => string[]
  /** Re-announce period, ms; 0 disables the timer (announcements then go out on change only). */
  announceIntervalMs: number
  /** Bound on a kad-dht provider lookup, ms. */
  dhtLookupTimeoutMs: number
  /** Learned routes kept (LRU). @default 100_000 */
  maxLearned?: number
  clock?: () => number
  logger?: Logger
}

export class GossipLocator implements AgentLocator {
  /** agent → hosting peer, from announcements. */
  private readonly table = new Map<AgentId, string>()
  /** peer → its last announcement (seq and agents), to replace it wholesale. */
  private readonly byPeer = new Map<string, { seq: number, agents: string[] }>()
  /** agent (usually an API client) → peer it last wrote from. */
  private readonly learned = new Map<AgentId, string>()
  private readonly log: Logger
  private readonly self: string
  private timer?: NodeJS.Timeout
  private debounce?: NodeJS.Timeout
  private lastSeq = 0
  private readonly onMessage = (evt: CustomEvent<Message>): void => { this.handleAnnouncement(evt.detail) }
  private readonly onSubscriptionChange = (): void => { this.announceSoon() }

  constructor (private readonly options: GossipLocatorOptions) {
    this.log = options.logger ?? silentLogger()
    this.self = options.libp2p.peerId.toString()
  }

  start (): void {
    const pubsub = this.options.libp2p.services.pubsub
    pubsub.subscribe(AGENTS_TOPIC)
    pubsub.addEventListener('message', this.onMessage)
    // A peer that just subscribed has missed earlier announcements: send ours again.
    pubsub.addEventListener('subscription-change', this.onSubscriptionChange)
    if (this.options.announceIntervalMs > 0) {
      this.timer = setInterval(() => { void this.announce() }, this.options.announceIntervalMs)
      this.timer.unref()
    }
  }

  stop (): void {
    const pubsub = this.options.libp2p.services.pubsub
    clearInterval(this.timer)
    clearTimeout(this.debounce)
    pubsub.removeEventListener('message', this.onMessage)
    pubsub.removeEventListener('subscription-change', this.onSubscriptionChange)
    pubsub.unsubscribe(AGENTS_TOPIC)
  }

  lookup (agentId: AgentId): string | undefined {
    return this.table.get(agentId) ?? this.learned.get(agentId)
  }

  async resolve (agentId: AgentId, options: { exclude?: string } = {}): Promise<string | undefined> {
    const known = this.lookup(agentId)
    if (known != null && known !== options.exclude) return known
    return await this.findProvider(agentId, options.exclude)
  }

  learn (agentId: AgentId, peer: string): void {
    if (this.table.get(agentId) === peer) return
    this.learned.delete(agentId)
    this.learned.set(agentId, peer)
    if (this.learned.size > (this.options.maxLearned ?? 100_000)) {
      const oldest = this.learned.keys().next().value
      if (oldest !== undefined) this.learned.delete(oldest)
    }
  }

  forget (agentId: AgentId, peer: string): void {
    if (this.table.get(agentId) === peer) this.table.delete(agentId)
    if (this.learned.get(agentId) === peer) this.learned.delete(agentId)
  }

  /** Tells the cluster this node hosts `agentId` (gossip now, DHT provider record in the background). */
  async added (agentId: AgentId): Promise<void> {
    await this.announce()
    void this.provide(agentId)
  }

  /** Tells the cluster this node no longer hosts `agentId`. */
  async removed (agentId: AgentId): Promise<void> {
    await this.announce()
    try {
      await (this.options.libp2p as unknown as { services: { dht?: { cancelReprovide: (k: unknown) => Promise<void> } } })
        .services.dht?.cancelReprovide(await agentKey(agentId))
    } catch (err) {
      this.log.debug({ agentId, err: (err as Error).message }, 'cancelReprovide failed')
    }
  }

  /** Publishes this node's full agent list on `caxton/agents/1`. */
  async announce (): Promise<void> {
    const now = (this.options.clock ?? Date.now)()
    this.lastSeq = Math.max(this.lastSeq + 1, now)
    const bytes = encodeAnnouncement({ v: 1, peer: this.self, seq: this.lastSeq, agents: this.options.localAgents() })
    try {
      await this.options.libp2p.services.pubsub.publish(AGENTS_TOPIC, bytes)
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'announcement not published')
    }
  }

  /** Agents announced by other nodes (for diagnostics). */
  knownAgents (): Array<{ agentId: AgentId, peer: string }> {
    return [...this.table].map(([agentId, peer]) => ({ agentId, peer }))
  }

  private announceSoon (): void {
    clearTimeout(this.debounce)
    this.debounce = setTimeout(() => { void this.announce() }, 100)
    this.debounce.unref()
  }

  private handleAnnouncement (msg: Message): void {
    if (msg.topic !== AGENTS_TOPIC) return
    const a = decodeAnnouncement(msg.data)
    if (a == null) {
      this.log.debug('ignoring a malformed agent announcement')
      return
    }
    // Only the node itself may announce what it hosts (messages are signed by their author).
    if (msg.type !== 'signed' || msg.from.toString() !== a.peer || a.peer === this.self) return
    const prev = this.byPeer.get(a.peer)
    if (prev != null && prev.seq >= a.seq) return
    if (prev != null) {
      for (const id of prev.agents) if (this.table.get(id) === a.peer) this.table.delete(id)
    }
    for (const id of a.agents) this.table.set(id, a.peer)
    this.byPeer.set(a.peer, { seq: a.seq, agents: a.agents })
  }

  private async provide (agentId: AgentId): Promise<void> {
    try {
      await this.options.libp2p.contentRouting.provide(await agentKey(agentId), { signal: AbortSignal.timeout(30_000) })
    } catch (err) {
      this.log.debug({ agentId, err: (err as Error).message }, 'DHT provide failed (gossip still announces the agent)')
    }
  }

  private async findProvider (agentId: AgentId, exclude?: string): Promise<string | undefined> {
    const signal = AbortSignal.timeout(this.options.dhtLookupTimeoutMs)
    try {
      for await (const provider of this.options.libp2p.contentRouting.findProviders(await agentKey(agentId), { signal })) {
        const peer = (provider.id as PeerId).toString()
        if (peer === this.self || peer === exclude) continue
        this.learn(agentId, peer)
        return peer
      }
    } catch (err) {
      this.log.debug({ agentId, err: (err as Error).message }, 'DHT provider lookup ended without a result')
    }
    return undefined
  }
}
