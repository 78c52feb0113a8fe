/**
 * The node's cluster registry (issue 4): a replica of the registry CRDT
 * (`protocols/registry/`) kept in the node's LevelDB, changed by this node's lifecycle
 * events, and synchronised with the other members by gossip (deltas as they happen, on
 * `caxton/registry/1`) and anti-entropy (`/caxton/registry-sync/1.0.0`: periodically with
 * a random live member, and at once on a (re)connection, so a healed partition converges
 * without waiting). Tombstones are acknowledged and collected periodically; a member
 * declared dead has its agents shown `unreachable` until it returns.
 *
 * Ordering rules (SPEC §9): every batch is persisted before anything it produced leaves
 * the node (a gossip delta, an ack, the next sync frame); batches are written in the
 * order the replica produced them.
 */
import type { Logger } from 'pino'
import {
  isEmptyBatch, Registry, type AgentChange, type AgentId, type Capability, type MergeUpdate, type NodeId,
  type RegisteredAgent, type RegistryBatch, type RegistryOp
} from '../../protocols/registry/index.js'
import { silentLogger } from '../observability/logger.js'
import { Counter, Gauge, type Registry as MetricsRegistry } from '../observability/metrics.js'
import type { StorageOp } from '../storage/agent-store.js'
import { RegistryNotRunningError, RegistryPersistError, RegistrySyncError } from './errors.js'
import type { AtomicRegistryStore } from './level-store.js'
import type { MembershipView } from './membership.js'
import { RegistryReplica, zeroStats, type ReplicaOutcome, type ReplicaStats } from './replica.js'
import type { SyncTally } from './session.js'
import { REGISTRY_TIMING, type RegistryTiming } from './timing.js'
import type { RegistryGossip, SyncChannel, SyncNetwork } from './transport.js'

export interface ClusterRegistryOptions {
  /** This node's id (its PeerId string): the writer of local changes. */
  nodeId: NodeId
  store: AtomicRegistryStore
  gossip: RegistryGossip
  sync: SyncNetwork
  membership: MembershipView
  /** @default REGISTRY_TIMING.lan */
  timing?: Partial<RegistryTiming>
  /** CRDT options (protocols/registry `RegistryOptions`); the defaults are the spec's. */
  crdt?: { tombstoneTtlMs?: number, bucketCount?: number, maxClockDriftMs?: number }
  /** ms since the epoch. @default Date.now */
  clock?: () => number
  /** [0, 1). @default Math.random */
  random?: () => number
  logger?: Logger
  metrics?: MetricsRegistry
}

/** What one anti-entropy exchange did. */
export interface SyncOutcome extends SyncTally {
  peer: NodeId
  /** Versions this node took from the peer. */
  accepted: number
  /** Versions of this node dropped because the peer had seen them superseded. */
  pruned: number
}

/** Query of {@link ClusterRegistry.list}. */
export interface RegistryQuery {
  /** Only agents offering a capability of exactly this name. */
  capability?: string
  /** Only agents hosted by this node id. */
  node?: NodeId
  /** Only agents whose node is reachable. */
  reachableOnly?: boolean
}

/** A summary of the replica, for `GET /registry` and tests. */
export interface RegistrySummary {
  nodeId: NodeId
  /** Live agents. */
  agents: number
  /** Entries held, tombstones included. */
  entries: number
  tombstones: number
  /** Hex of the anti-entropy digest's root: equal on two nodes ⇔ same entries and causal context. */
  digest: string
  /** Capability names offered by at least one live agent, sorted. */
  capabilities: string[]
  /** Nodes hosting agents that are marked unreachable here. */
  unreachableNodes: NodeId[]
  /** False once a write failed: the replica stopped syncing until the node restarts. */
  healthy: boolean
  stats: ReplicaStats
}

/**
 * Where the registry says an agent is: live on `node` (`version` names the winning write,
 * `by/seq`), or removed (`removedBy`: the writer of the tombstone, its last host).
 */
export type AgentLocation = { node: NodeId, reachable: boolean, version: string } | { removedBy: NodeId }

type ChangeListener = (evt: CustomEvent<AgentChange>) => void

export class ClusterRegistry {
  readonly nodeId: NodeId
  private readonly options: ClusterRegistryOptions
  private readonly timing: RegistryTiming
  private readonly log: Logger
  private readonly clock: () => number
  private readonly random: () => number
  private readonly events = new EventTarget()
  private replicaOrUndefined?: RegistryReplica
  private running = false
  private healthy = true
  private stopping = new AbortController()
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly connectTimers = new Map<NodeId, NodeJS.Timeout>()
  private readonly inflight = new Map<NodeId, Promise<SyncOutcome>>()
  /** Completed exchanges per peer (either side started them). */
  private readonly exchanges = new Map<NodeId, number>()
  private readonly background = new Set<Promise<unknown>>()
  private activeSyncs = 0

  private readonly onAlive = (evt: CustomEvent<string>): void => { this.memberChanged(evt.detail, true) }
  private readonly onGone = (evt: CustomEvent<string>): void => { this.memberChanged(evt.detail, false) }

  constructor (options: ClusterRegistryOptions) {
    this.options = options
    this.nodeId = options.nodeId
    this.timing = { ...REGISTRY_TIMING.lan, ...options.timing }
    this.log = options.logger ?? silentLogger()
    this.clock = options.clock ?? Date.now
    this.random = options.random ?? Math.random
    if (options.metrics !== undefined) this.registerMetrics(options.metrics)
  }

  /**
   * Loads the replica from the store, subscribes to the gossip topic, answers
   * anti-entropy and starts the timers.
   * @throws StorageCorruptError, InvalidStoredRegistryError (what is on disk is unusable)
   */
  async start (): Promise<void> {
    if (this.running) return
    const { tombstoneTtlMs, bucketCount, maxClockDriftMs } = this.options.crdt ?? {}
    const registry = Registry.restore({ nodeId: this.nodeId, tombstoneTtlMs, bucketCount, maxClockDriftMs }, await this.options.store.load())
    this.replicaOrUndefined = new RegistryReplica(registry)
    this.stopping = new AbortController()
    this.running = true
    this.healthy = true
    this.options.gossip.start((from, data) => { this.onGossip(from, data) })
    await this.options.sync.start((peer, channel) => { this.onIncoming(peer, channel) })
    const m = this.options.membership
    m.addEventListener('member:alive', this.onAlive)
    m.addEventListener('member:dead', this.onGone)
    m.addEventListener('member:leave', this.onGone)
    this.every(this.timing.antiEntropyIntervalMs, async () => { await this.runAntiEntropy() })
    this.every(this.timing.maintenanceIntervalMs, async () => { await this.runMaintenance() })
    this.log.info({ agents: registry.size, entries: registry.entryCount }, 'registry loaded')
  }

  /** Stops timers and exchanges and waits for pending writes. Idempotent. */
  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    this.stopping.abort(new RegistryNotRunningError('finish an exchange while stopping'))
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    for (const t of this.connectTimers.values()) clearTimeout(t)
    this.connectTimers.clear()
    const m = this.options.membership
    m.removeEventListener('member:alive', this.onAlive)
    m.removeEventListener('member:dead', this.onGone)
    m.removeEventListener('member:leave', this.onGone)
    this.options.gossip.stop()
    await this.options.sync.stop()
    await Promise.allSettled([...this.background])
  }

  // ---- local changes ----

  /**
   * Applies a local lifecycle change and persists it, with `with` (other rows of the
   * node, e.g. the agent's record and module) in the same atomic batch; then publishes the
   * delta. Resolves once written.
   * @throws InvalidRegistryOpError, RegistryAgentNotFoundError (the op), RegistryNotRunningError,
   *   RegistryPersistError (the write failed: nothing of it is on disk)
   */
  async commit (op: RegistryOp, options: { with?: readonly StorageOp[] } = {}): Promise<readonly AgentChange[]> {
    const replica = this.writable('change the registry')
    const out = replica.local(op, this.clock())
    try {
      await this.options.store.writeWith(out.batch, options.with ?? [])
    } catch (err) {
      throw this.persistFailed(err)
    }
    this.emit(out.changes)
    await this.publish(out.publish)
    return out.changes
  }

  // ---- reads ----

  /** The agent as this node sees it, or undefined (unknown or removed). */
  get (agentId: AgentId): RegisteredAgent | undefined {
    return this.replicaOrUndefined?.registry.get(agentId)
  }

  /** Where an agent is, or was (for resolution); undefined when never heard of or forgotten. */
  locate (agentId: AgentId): AgentLocation | undefined {
    const registry = this.replicaOrUndefined?.registry
    if (registry === undefined) return undefined
    const view = registry.get(agentId)
    if (view !== undefined) return { node: view.node, reachable: view.reachable, version: `${view.version.by}/${view.version.seq}` }
    const entry = registry.entry(agentId)
    return entry === undefined ? undefined : { removedBy: entry.versions[0].by }
  }

  /** Live agents matching the query; by capability in O(matches). Sorted by agent id. */
  list (query: RegistryQuery = {}): RegisteredAgent[] {
    const registry = this.replicaOrUndefined?.registry
    if (registry === undefined) return []
    let out: RegisteredAgent[]
    if (query.capability !== undefined) out = registry.findByCapability(query.capability)
    else if (query.node !== undefined) out = registry.agentsOn(query.node)
    else out = [...registry.entries()]
    if (query.node !== undefined && query.capability !== undefined) out = out.filter(a => a.node === query.node)
    if (query.reachableOnly === true) out = out.filter(a => a.reachable)
    return out.sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0))
  }

  /** Capabilities of a live agent, or undefined. */
  capabilitiesOf (agentId: AgentId): readonly Capability[] | undefined {
    return this.get(agentId)?.capabilities
  }

  summary (): RegistrySummary {
    const replica = this.replicaOrUndefined
    const registry = replica?.registry
    const unreachable = new Set<NodeId>()
    if (registry !== undefined) for (const a of registry.entries()) if (!a.reachable) unreachable.add(a.node)
    return {
      nodeId: this.nodeId,
      agents: registry?.size ?? 0,
      entries: registry?.entryCount ?? 0,
      tombstones: registry?.tombstoneCount ?? 0,
      digest: registry === undefined ? '' : Buffer.from(registry.digest().root).toString('hex'),
      capabilities: registry?.capabilityNames() ?? [],
      unreachableNodes: [...unreachable].sort(),
      healthy: this.healthy,
      stats: { ...(replica?.stats ?? ZERO_STATS) }
    }
  }

  /** Whether the replica is running and persisting (for the node's readiness). */
  get isHealthy (): boolean {
    return this.running && this.healthy
  }

  /** The replica itself (tests, diagnostics). @throws RegistryNotRunningError before start */
  get registry (): Registry {
    if (this.replicaOrUndefined === undefined) throw new RegistryNotRunningError('read the replica before start')
    return this.replicaOrUndefined.registry
  }

  /** `change` events: an agent added, updated (state, capabilities, reachability) or removed. */
  addEventListener (type: 'change', listener: ChangeListener): void {
    this.events.addEventListener(type, listener as EventListener)
  }

  removeEventListener (type: 'change', listener: ChangeListener): void {
    this.events.removeEventListener(type, listener as EventListener)
  }

  // ---- anti-entropy ----

  /**
   * One anti-entropy exchange with `peer`, started by this node (joins one already
   * running with that peer).
   * @throws RegistrySyncError (the peer is unreachable, broke off or timed out),
   *   RegistryNotRunningError, RegistryPersistError
   */
  async syncWith (peer: NodeId): Promise<SyncOutcome> {
    const running = this.inflight.get(peer)
    if (running !== undefined) return await running
    const p = this.initiate(peer).finally(() => { this.inflight.delete(peer) })
    this.inflight.set(peer, p)
    return await p
  }

  /** One periodic round: an exchange with a random live member (none when alone). Never throws. */
  async runAntiEntropy (): Promise<SyncOutcome | undefined> {
    if (!this.running || !this.healthy) return undefined
    const members = this.options.membership.alive().filter(m => m !== this.nodeId)
    if (members.length === 0) return undefined
    const peer = members[Math.floor(this.random() * members.length)]
    try {
      return await this.syncWith(peer)
    } catch (err) {
      this.log.debug({ peer, err: (err as Error).message }, 'anti-entropy round failed')
      return undefined
    }
  }

  /**
   * One maintenance round: publishes the ack of every tombstone held, then collects the
   * tombstones every live member acknowledged (or older than the TTL; only the TTL while
   * no other member is alive). Never throws.
   * @returns the agent ids whose tombstones were collected
   */
  async runMaintenance (): Promise<readonly AgentId[]> {
    if (!this.running || !this.healthy) return []
    const replica = this.replicaOrUndefined as RegistryReplica
    const out = replica.maintain(this.clock(), this.options.membership.alive().filter(m => m !== this.nodeId))
    try {
      await this.persist(out.batch)
    } catch (err) {
      this.log.error({ err }, 'could not persist tombstone collection')
      return []
    }
    await this.publish(out.publish)
    if (out.collected.length > 0) this.log.debug({ collected: out.collected.length }, 'tombstones collected')
    return out.collected
  }

  private async initiate (peer: NodeId): Promise<SyncOutcome> {
    const replica = this.writable('start an anti-entropy exchange')
    if (this.activeSyncs >= this.timing.maxConcurrentSyncs) throw new RegistrySyncError(peer, 'too many exchanges running')
    this.activeSyncs++
    const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.timing.syncTimeoutMs)])
    const session = replica.initiate(peer)
    let channel: SyncChannel | undefined
    let merge: MergeUpdate | undefined
    let failed = true
    try {
      channel = await this.options.sync.open(peer, signal)
      await channel.send(session.open())
      const reply = await channel.receive(signal)
      if (reply === undefined) throw new RegistrySyncError(peer, 'the peer closed the stream before replying')
      const step = session.receive(reply, this.clock())
      merge = step.merge
      await this.persist(merge.batch)
      await channel.send(step.send)
      await channel.close()
      failed = false
    } catch (err) {
      channel?.abort(err as Error)
      throw err instanceof RegistrySyncError || err instanceof RegistryPersistError || err instanceof RegistryNotRunningError
        ? err
        : new RegistrySyncError(peer, (err as Error).message, { cause: err })
    } finally {
      await this.endExchange(replica, peer, session.tally, merge, failed)
    }
    return { peer, ...session.tally, accepted: merge?.accepted ?? 0, pruned: merge?.pruned ?? 0 }
  }

  /** After an exchange either way, done or broken off: tally, emit what merged, publish acks. */
  private async endExchange (replica: RegistryReplica, peer: NodeId, tally: SyncTally, merge: MergeUpdate | undefined, failed: boolean): Promise<void> {
    this.activeSyncs--
    const acks = replica.settle(tally, merge, failed)
    // a merge that happened changed what readers see, even if the exchange broke off later
    this.emit(merge?.changes ?? [])
    if (!failed) {
      this.exchanges.set(peer, (this.exchanges.get(peer) ?? 0) + 1)
      await this.publish(acks)
    }
  }

    private onIncoming (peer: NodeId, channel: SyncChannel): void {
    if (!this.running || !this.healthy || this.activeSyncs >= this.timing.maxConcurrentSyncs) {
      channel.abort(new Error('the registry is busy or stopping; try later'))
      return
    }
    this.track(this.answer(peer, channel))
  }

  private async answer (peer: NodeId, channel: SyncChannel): Promise<void> {
    const replica = this.replicaOrUndefined as RegistryReplica
    this.activeSyncs++
    const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.timing.syncTimeoutMs)])
    const session = replica.answer(peer)
    let merge: MergeUpdate | undefined
    let failed = true
    try {
      const digest = await channel.receive(signal)
      if (digest === undefined) throw new RegistrySyncError(peer, 'the stream ended before the digest')
      const reply = session.receive(digest, this.clock())
      await channel.send(reply.send as Uint8Array)
      const entries = await channel.receive(signal)
      if (entries === undefined) throw new RegistrySyncError(peer, 'the stream ended before the entries')
      merge = session.receive(entries, this.clock()).merge
      await this.persist(merge?.batch)
      await channel.close()
      failed = false
    } catch (err) {
      channel.abort(err as Error)
      this.log.debug({ peer, err: (err as Error).message }, 'answering anti-entropy failed')
    } finally {
      await this.endExchange(replica, peer, session.tally, merge, failed)
    }
  }

  // ---- gossip and membership ----

  private onGossip (from: NodeId, data: Uint8Array): void {
    if (!this.running || !this.healthy) return
    const out = (this.replicaOrUndefined as RegistryReplica).receiveGossip(from, data, this.clock())
    if (out === undefined) {
      this.log.debug({ from }, 'ignoring an undecodable registry gossip message')
      return
    }
    this.track(this.settleOutcome(out))
  }

  private async settleOutcome (out: ReplicaOutcome): Promise<void> {
    try {
      await this.persist(out.batch)
    } catch {
      return
    }
    this.emit(out.changes)
    await this.publish(out.publish)
  }

  private memberChanged (peer: NodeId, alive: boolean): void {
    if (!this.running || peer === this.nodeId) return
    const replica = this.replicaOrUndefined as RegistryReplica
    this.emit(replica.setReachable(peer, alive))
    clearTimeout(this.connectTimers.get(peer))
    this.connectTimers.delete(peer)
    if (!alive) return
    // Both sides see the connection: the lower id syncs now, the other only if no exchange
    // with that peer completed meanwhile.
    if (this.nodeId < peer) {
      this.connectSync(peer, 1)
      return
    }
    const seen = this.exchanges.get(peer) ?? 0
    this.connectLater(peer, this.timing.connectSyncFallbackMs, () => {
      if ((this.exchanges.get(peer) ?? 0) === seen) this.connectSync(peer, 1)
    })
  }

  /**
   * The exchange of a (re)connection. After a partition heals, every member reconnects to
   * many at once and responders at their limit refuse: a failed attempt is retried (up to
   * {@link CONNECT_SYNC_ATTEMPTS}, after a jittered, growing delay) while the peer is alive.
   */
  private connectSync (peer: NodeId, attempt: number): void {
    this.track(this.syncWith(peer).catch(err => {
      const alive = this.running && this.options.membership.alive().includes(peer)
      if (!alive || attempt >= CONNECT_SYNC_ATTEMPTS) {
        this.log.debug({ peer, attempt, err: (err as Error).message }, 'anti-entropy on connection failed')
        return
      }
      this.connectLater(peer, this.timing.connectSyncFallbackMs * attempt * (1 + this.random()), () => { this.connectSync(peer, attempt + 1) })
    }))
  }

  private connectLater (peer: NodeId, delayMs: number, run: () => void): void {
    clearTimeout(this.connectTimers.get(peer))
    const t = setTimeout(() => {
      this.connectTimers.delete(peer)
      if (this.running) run()
    }, delayMs)
    t.unref()
    this.connectTimers.set(peer, t)
  }

  // ---- plumbing ----

  private writable (what: string): RegistryReplica {
    if (!this.running || this.replicaOrUndefined === undefined) throw new RegistryNotRunningError(what)
    if (!this.healthy) throw new RegistryPersistError('an earlier write failed; restart the node')
    return this.replicaOrUndefined
  }

  private async persist (batch: RegistryBatch | undefined): Promise<void> {
    if (batch === undefined || isEmptyBatch(batch)) return
    try {
      await this.options.store.write(batch)
    } catch (err) {
      throw this.persistFailed(err)
    }
  }

  private persistFailed (err: unknown): RegistryPersistError {
    // The replica in memory is now ahead of the disk: let nothing of it leave the node.
    if (this.healthy) this.log.error({ err }, 'registry write failed; the registry stops syncing until the node restarts')
    this.healthy = false
    return err instanceof RegistryPersistError ? err : new RegistryPersistError((err as Error).message, { cause: err })
  }

  private async publish (messages: readonly Uint8Array[]): Promise<void> {
    for (const m of messages) await this.options.gossip.publish(m)
  }

  private emit (changes: readonly AgentChange[]): void {
    for (const c of changes) this.events.dispatchEvent(new CustomEvent('change', { detail: c }))
  }

  private track (p: Promise<unknown>): void {
    const q = p.catch(err => { this.log.debug({ err: (err as Error).message }, 'registry background task failed') })
    this.background.add(q)
    void q.finally(() => this.background.delete(q))
  }

  /** Runs `fn` every `intervalMs` ±20%, never two at once; 0 disables. */
  private every (intervalMs: number, fn: () => Promise<unknown>): void {
    if (intervalMs <= 0) return
    const arm = (): void => {
      const t = setTimeout(() => {
        this.timers.delete(t)
        if (!this.running) return
        const run = fn().catch(() => {}).finally(() => { if (this.running) arm() })
        this.track(run)
      }, intervalMs * (0.8 + 0.4 * this.random()))
      t.unref()
      this.timers.add(t)
    }
    arm()
  }

  private registerMetrics (metrics: MetricsRegistry): void {
    const self = this
    const stats = (): ReplicaStats => self.replicaOrUndefined?.stats ?? ZERO_STATS
    new Gauge({
      name: 'caxton_registry_agents',
      help: 'Live agents in this node\'s registry replica',
      registers: [metrics],
      collect () { this.set(self.replicaOrUndefined?.registry.size ?? 0) }
    })
    new Gauge({
      name: 'caxton_registry_entries',
      help: 'Registry entries held, tombstones included',
      registers: [metrics],
      collect () { this.set(self.replicaOrUndefined?.registry.entryCount ?? 0) }
    })
    new Gauge({
      name: 'caxton_registry_tombstones',
      help: 'Registry entries that are tombstones awaiting collection',
      registers: [metrics],
      collect () { this.set(self.replicaOrUndefined?.registry.tombstoneCount ?? 0) }
    })
    counterFromStats(metrics, 'caxton_registry_gossip_bytes_total', 'Registry gossip message bytes (payload), by direction', 'direction',
      { sent: () => stats().gossipBytesSent, received: () => stats().gossipBytesReceived })
    counterFromStats(metrics, 'caxton_registry_deltas_total', 'Registry deltas published and merged from gossip, by direction', 'direction',
      { sent: () => stats().deltasSent, received: () => stats().deltasReceived })
    counterFromStats(metrics, 'caxton_registry_acks_total', 'Tombstone acknowledgements published and received, by direction', 'direction',
      { sent: () => stats().acksSent, received: () => stats().acksReceived })
    counterFromStats(metrics, 'caxton_registry_sync_bytes_total', 'Anti-entropy frame bytes, by direction', 'direction',
      { sent: () => stats().syncBytesSent, received: () => stats().syncBytesReceived })
    counterFromStats(metrics, 'caxton_registry_sync_entries_total', 'Entries carried by anti-entropy frames, by direction', 'direction',
      { sent: () => stats().syncEntriesSent, received: () => stats().syncEntriesReceived })
    counterFromStats(metrics, 'caxton_registry_sync_rounds_total', 'Anti-entropy exchanges, by role (initiated, answered) and failures', 'outcome',
      { initiated: () => stats().syncInitiated, answered: () => stats().syncAnswered, failed: () => stats().syncFailed })
    counterFromStats(metrics, 'caxton_registry_versions_merged_total', 'Versions received, by outcome (accepted, stale, pruned)', 'outcome',
      { accepted: () => stats().versionsAccepted, stale: () => stats().versionsStale, pruned: () => stats().versionsPruned })
    counterFromStats(metrics, 'caxton_registry_tombstones_collected_total', 'Tombstones collected', 'kind',
      { collected: () => stats().tombstonesCollected })
    counterFromStats(metrics, 'caxton_registry_gossip_rejected_total', 'Registry gossip messages that did not decode', 'kind',
      { undecodable: () => stats().gossipRejected })
  }
}

/** Attempts of the exchange started on a (re)connection. */
export const CONNECT_SYNC_ATTEMPTS = 4

const ZERO_STATS: ReplicaStats = Object.freeze(zeroStats())

/** A prom-client counter that follows monotonic numbers read at scrape time. */
function counterFromStats (metrics: MetricsRegistry, name: string, help: string, label: string, read: Record<string, () => number>): void {
  const last = new Map<string, number>()
  new Counter({
    name,
    help,
    labelNames: [label],
    registers: [metrics],
    collect () {
      for (const [value, get] of Object.entries(read)) {
        const now = get()
        const before = last.get(value) ?? 0
        if (now > before) this.inc({ [label]: value }, now - before)
        last.set(value, Math.max(now, before))
      }
    }
  })
}
