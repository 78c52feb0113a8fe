/**
 * The node's cluster registry: a replica of the registry CRDT
 * (`protocols/registry/`) kept in the node's LevelDB, changed by this node's lifecycle
 * events, and synchronised with the other members by gossip (deltas as they happen, on
 * `caxton/registry/2`) and anti-entropy (`/caxton/registry-sync/2.0.0`). When to sync and
 * with whom (periodically with a random live member, at once on a (re)connection, the cap
 * on exchanges, retries) and when to collect tombstones is the sync policy of
 * `protocols/registry/sync-policy.ts`, which the simulator runs too: this class is its
 * host (one timer re-armed to the policy's `wakeAt`, membership events in, exchanges and
 * maintenance rounds out). A member declared dead has its agents shown `unreachable`
 * until it returns.
 *
 * Ordering rules (SPEC §9): every batch is persisted before anything it produced leaves
 * the node (a gossip delta, an ack, the next sync frame); batches are written in the
 * order the replica produced them.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import { TypedEventEmitter } from '@libp2p/interface'
import type { Logger } from 'pino'
import {
  isEmptyBatch, Registry, REGISTRY_GOSSIP_TOPIC, REGISTRY_SYNC_PROTOCOL, SyncPolicy, validateRegistryTiming, type AgentChange, type AgentId, type Capability, type MergeUpdate,
  type NodeId, type RegisteredAgent, type RegistryBatch, type RegistryDelta, type RegistryOp, type RegistrySigning, type SyncAction,
  type SyncPolicyOutput, type SyncRole
} from '../../protocols/registry/index.js'
import type { RefusedFrameSink } from '../audit/index.js'
import type { Timers } from '../membership/index.js'
import { silentLogger } from '../observability/logger.js'
import type { MetricsRegistry } from '../observability/metrics.js'
import type { StorageOp } from '../storage/agent-store.js'
import { RegistryNotRunningError, RegistryPersistError, RegistrySyncError } from './errors.js'
import type { AtomicRegistryStore } from './level-store.js'
import type { MembershipView } from './membership.js'
import { registerRegistryMetrics } from './metrics.js'
import { RegistryReplica, zeroStats, type GossipVerdict, type ReplicaOutcome, type ReplicaStats } from './replica.js'
import type { SyncInitiator, SyncResponder, SyncTally } from './session.js'
import { REGISTRY_TIMING, type RegistryTiming } from '../../protocols/registry/timing.js'
import type { RegistryGossip, SyncChannel, SyncNetwork } from './transport.js'

export interface ClusterRegistryOptions {
  /** This node's id (its PeerId string): the writer of local changes. */
  nodeId: NodeId
  /** Signs this node's writes with its key and checks everyone's (`ed25519Signing(privateKey)`). */
  signing: RegistrySigning
  store: AtomicRegistryStore
  gossip: RegistryGossip
  sync: SyncNetwork
  membership: MembershipView
  /** Over `REGISTRY_TIMING.lan`. @default REGISTRY_TIMING.lan */
  timing?: Partial<RegistryTiming>
  /** CRDT options (protocols/registry `RegistryOptions`); the defaults are the spec's. */
  crdt?: { tombstoneTtlMs?: number, bucketCount?: number, maxClockDriftMs?: number }
  /** Wall clock for the CRDT (write times, tombstone TTL), ms since the epoch. @default Date.now */
  clock?: () => number
  /** Monotonic clock of the sync policy's timers, ms. @default performance.now */
  monotonicClock?: () => number
  /** setTimeout / clearTimeout, replaceable by a fake clock in tests. @default Node's, unref'd */
  timers?: Timers
  /** [0, 1): the sync policy's partner choice and jitter. @default Math.random */
  random?: () => number
  logger?: Logger
  metrics?: MetricsRegistry
  /** Told of each gossip message rejected and each anti-entropy frame with forged versions (the audit log's `peer.frame` tally). */
  onRefusedFrame?: RefusedFrameSink
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

/** The registry's events: `change`, an agent added, updated (state, capabilities, reachability) or removed. */
export interface ClusterRegistryEvents {
  change: CustomEvent<AgentChange>
}

/**
 * Signatures checked per turn of the event loop when an anti-entropy frame is checked
 * ahead of its merge: 64 × ~70 µs ≈ 5 ms, so a full reply of 10,000 entries (~0.7 s of
 * checks) does not hold up membership's pings.
 */
const VERIFY_SLICE = 64

const NODE_TIMERS: Timers = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (handle) => { clearTimeout(handle as NodeJS.Timeout) }
}

export class ClusterRegistry extends TypedEventEmitter<ClusterRegistryEvents> {
  readonly nodeId: NodeId
  private readonly options: ClusterRegistryOptions
  private readonly timing: RegistryTiming
  private readonly log: Logger
  private readonly clock: () => number
  private readonly monotonic: () => number
  private readonly timers: Timers
  private readonly random: () => number
  private replicaOrUndefined?: RegistryReplica
  private policy?: SyncPolicy
  private running = false
  private healthy = true
  private stopping = new AbortController()
  private timer?: unknown
  private armedAt = NaN
  private readonly inflight = new Map<NodeId, Promise<SyncOutcome>>()
  private readonly background = new Set<Promise<unknown>>()
  /**
   * The location of each live view, built once: the registry replaces a view on every
   * change (never edits one), and `lookup` runs several times per message on the delivery
   * path, where a new object and version string each time were about 0.5 KB a message on the
   * sending node (sampling heap profiler, one-way durable messages: 13.25 → 12.72 KB).
   */
  private readonly locations = new WeakMap<RegisteredAgent, AgentLocation>()

  private readonly onAlive = (evt: CustomEvent<string>): void => { this.memberChanged(evt.detail, true) }
  private readonly onGone = (evt: CustomEvent<string>): void => { this.memberChanged(evt.detail, false) }

  /** @throws InvalidRegistryTimingError for a timing out of range */
  constructor (options: ClusterRegistryOptions) {
    super()
    this.options = options
    this.nodeId = options.nodeId
    this.timing = { ...REGISTRY_TIMING.lan, ...options.timing }
    validateRegistryTiming(this.timing)
    this.log = options.logger ?? silentLogger()
    this.clock = options.clock ?? Date.now
    this.monotonic = options.monotonicClock ?? (() => performance.now())
    this.timers = options.timers ?? NODE_TIMERS
    this.random = options.random ?? Math.random
    if (options.metrics !== undefined) {
      registerRegistryMetrics(options.metrics, {
        stats: () => this.replicaOrUndefined?.stats,
        policy: () => this.policy?.stats,
        size: () => {
          const r = this.replicaOrUndefined?.registry
          return { agents: r?.size ?? 0, entries: r?.entryCount ?? 0, tombstones: r?.tombstoneCount ?? 0 }
        },
        activeSyncs: () => this.policy?.active ?? 0
      })
    }
  }

  /**
   * Loads the replica from the store, subscribes to the gossip topic, answers
   * anti-entropy and starts the sync policy (the members alive now are partners, without
   * an exchange: the node starts the registry before membership, whose events follow).
   * @throws StorageCorruptError, InvalidStoredRegistryError (what is on disk is unusable)
   */
  async start (): Promise<void> {
    if (this.running) return
    const { tombstoneTtlMs, bucketCount, maxClockDriftMs } = this.options.crdt ?? {}
    const registry = Registry.restore({ nodeId: this.nodeId, signing: this.options.signing, tombstoneTtlMs, bucketCount, maxClockDriftMs }, await this.options.store.load())
    this.replicaOrUndefined = new RegistryReplica(registry)
    const policy = new SyncPolicy({ self: this.nodeId, timing: this.timing, random: this.random })
    this.policy = policy
    this.stopping = new AbortController()
    this.running = true
    this.healthy = true
    this.options.gossip.start((from, data) => this.onGossip(from, data))
    await this.options.sync.start((peer, channel) => { this.onIncoming(peer, channel) })
    const m = this.options.membership
    m.addEventListener('member:alive', this.onAlive)
    m.addEventListener('member:dead', this.onGone)
    m.addEventListener('member:leave', this.onGone)
    this.drive(policy.start(this.monotonic(), m.alive()))
    this.log.info({ agents: registry.size, entries: registry.entryCount }, 'registry loaded')
  }

  /** Stops the policy's timer and the exchanges, and waits for pending writes. Idempotent. */
  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    this.stopping.abort(new RegistryNotRunningError('finish an exchange while stopping'))
    this.policy?.stop()
    this.arm()
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

  /**
   * Where an agent is, or was (for resolution); undefined when never heard of or forgotten.
   * The answer for a live agent is shared between calls until the agent changes: read it, never change it.
   */
  lookup (agentId: AgentId): Readonly<AgentLocation> | undefined {
    const registry = this.replicaOrUndefined?.registry
    if (registry === undefined) return undefined
    const view = registry.get(agentId)
    if (view !== undefined) {
      let location = this.locations.get(view)
      if (location === undefined) {
        location = { node: view.node, reachable: view.reachable, version: `${view.version.by}/${view.version.seq}` }
        this.locations.set(view, location)
      }
      return location
    }
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

  // ---- anti-entropy ----

  /**
   * One anti-entropy exchange with `peer`, started by this node (joins one already
   * running with that peer).
   * @throws RegistrySyncError (the peer is unreachable, broke off or timed out, or
   *   `maxConcurrentSyncs` exchanges are running), RegistryNotRunningError, RegistryPersistError
   */
  async syncWith (peer: NodeId): Promise<SyncOutcome> {
    const running = this.inflight.get(peer)
    if (running !== undefined) return await running
    this.writable('start an anti-entropy exchange')
    const decision = (this.policy as SyncPolicy).initiate(peer, this.monotonic())
    if (decision !== 'start') throw new RegistrySyncError(peer, 'too many exchanges running')
    return await this.exchange(peer)
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
    const out = replica.maintain(this.clock(), (this.policy as SyncPolicy).members())
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

  /** Runs an exchange the policy reserved a slot for; joined by `syncWith` while it runs. */
  private async exchange (peer: NodeId): Promise<SyncOutcome> {
    const p = this.initiate(peer)
    this.inflight.set(peer, p)
    try {
      return await p
    } finally {
      if (this.inflight.get(peer) === p) this.inflight.delete(peer)
    }
  }

  private async initiate (peer: NodeId): Promise<SyncOutcome> {
    let session: SyncInitiator | undefined
    let channel: SyncChannel | undefined
    let merge: MergeUpdate | undefined
    let failed = true
    try {
      const replica = this.writable('start an anti-entropy exchange')
      const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.timing.syncTimeoutMs)])
      session = replica.initiate(peer)
      channel = await this.options.sync.open(peer, signal)
      await channel.send(session.open())
      const reply = await channel.receive(signal)
      if (reply === undefined) throw new RegistrySyncError(peer, 'the peer closed the stream before replying')
      const frame = session.read(reply)
      await this.verifyAhead(frame.delta, signal)
      const step = session.apply(frame, this.clock())
      merge = step.merge
      this.noteRejected(peer, merge)
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
      await this.endExchange(peer, 'initiator', session, merge, failed)
    }
    return { peer, ...session.tally, accepted: merge?.accepted ?? 0, pruned: merge?.pruned ?? 0 }
  }

  /**
   * After an exchange either way, done, broken off or never begun: the policy frees its
   * slot; then tally, emit what merged, publish acks.
   */
  private async endExchange (peer: NodeId, role: SyncRole, session: SyncInitiator | SyncResponder | undefined, merge: MergeUpdate | undefined, failed: boolean): Promise<void> {
    if (this.running) this.drive((this.policy as SyncPolicy).ended(peer, role, !failed, this.monotonic()))
    const replica = this.replicaOrUndefined
    if (session === undefined || replica === undefined) return
    const acks = replica.settle(session.tally, merge, failed)
    // a merge that happened changed what readers see, even if the exchange broke off later
    this.emit(merge?.changes ?? [])
    if (!failed) await this.publish(acks)
  }

  /** Answers members only (the policy refuses others): a stranger gets no registry and sends nothing into it. */
  private onIncoming (peer: NodeId, channel: SyncChannel): void {
    if (!this.running || !this.healthy || !(this.policy as SyncPolicy).answer(peer, this.monotonic())) {
      channel.abort(new Error('not answered: not a member, too busy, or stopping'))
      return
    }
    this.track(this.answer(peer, channel))
  }

  private async answer (peer: NodeId, channel: SyncChannel): Promise<void> {
    const replica = this.replicaOrUndefined as RegistryReplica
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
      const frame = session.read(entries)
      if (frame.type === 'entries') await this.verifyAhead(frame.delta, signal)
      merge = session.apply(frame, this.clock()).merge
      this.noteRejected(peer, merge)
      await this.persist(merge?.batch)
      await channel.close()
      failed = false
    } catch (err) {
      channel.abort(err as Error)
      this.log.debug({ peer, err: (err as Error).message }, 'answering anti-entropy failed')
    } finally {
      await this.endExchange(peer, 'responder', session, merge, failed)
    }
  }

  // ---- gossip and membership ----

  /**
   * A gossip message (from the topic's validator: the verdict decides whether gossipsub
   * forwards it, and penalises its sender for a `reject`). Members only: a message
   * published by a node this one does not see alive is ignored (anti-entropy brings its
   * writes once it is a member). Never throws.
   */
  private onGossip (from: NodeId, data: Uint8Array): GossipVerdict {
    if (!this.running || !this.healthy) return 'ignore'
    const replica = this.replicaOrUndefined as RegistryReplica
    if (!(this.policy as SyncPolicy).isMember(from)) {
      replica.stats.gossipIgnored++
      this.log.debug({ from }, 'ignoring registry gossip published by a non-member')
      return 'ignore'
    }
    let out
    try {
      out = replica.receiveGossip(from, data, this.clock())
    } catch (err) {
      this.log.warn({ from, err }, 'could not merge a registry gossip message')
      this.options.onRefusedFrame?.(from, REGISTRY_GOSSIP_TOPIC, 'unmergeable', err instanceof Error ? err.message : String(err))
      return 'ignore'
    }
    if (out.verdict === 'reject') {
      this.log.warn({ from, reason: out.reason }, 'rejected a registry gossip message')
      this.options.onRefusedFrame?.(from, REGISTRY_GOSSIP_TOPIC, 'rejected', out.reason ?? 'rejected')
    } else if (out.verdict === 'ignore') this.log.debug({ from, reason: out.reason }, 'ignored a registry gossip message')
    this.track(this.settleOutcome(out))
    return out.verdict
  }

  /** Checks a received frame's signatures a slice at a time, yielding to the event loop between slices. */
  private async verifyAhead (delta: RegistryDelta, signal: AbortSignal): Promise<void> {
    let n = 0
    for (const _ of (this.replicaOrUndefined as RegistryReplica).registry.verifyAhead(delta)) {
      if (++n % VERIFY_SLICE !== 0) continue
      await nextTurn()
      signal.throwIfAborted()
    }
  }

  private noteRejected (peer: NodeId, merge: MergeUpdate | undefined): void {
    const forged = merge?.rejected.filter(r => r.reason === 'signature') ?? []
    if (forged.length === 0) return
    this.log.warn({ peer, forged: forged.length, first: forged[0] }, 'an anti-entropy peer sent versions whose signatures do not verify')
    const first = forged[0] as typeof forged[number]
    this.options.onRefusedFrame?.(peer, REGISTRY_SYNC_PROTOCOL, 'forged-signature', `${forged.length} version(s) whose signatures do not verify, first ${first.agentId} by ${first.by}`)
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
    const policy = this.policy as SyncPolicy
    this.drive(alive ? policy.memberUp(peer, this.monotonic()) : policy.memberDown(peer, this.monotonic()))
  }

  // ---- driving the sync policy ----

  /** Runs the policy's actions, then re-arms the one timer to its `wakeAt`. */
  private drive (out: SyncPolicyOutput): void {
    for (const action of out.actions) this.run(action)
    // an action may have called back into the policy (an exchange that failed at once): read wakeAt afresh
    this.arm()
  }

  private run (action: SyncAction): void {
    if (action.type === 'maintain') {
      this.track(this.runMaintenance())
      return
    }
    const { peer, reason, attempt } = action
    this.track(this.exchange(peer).catch(err => {
      this.log.debug({ peer, reason, attempt, err: (err as Error).message }, 'anti-entropy exchange failed')
    }))
  }

  /** Keeps exactly one timer, set for the policy's `wakeAt` (none once stopped). */
  private arm (): void {
    const wakeAt = this.running ? (this.policy as SyncPolicy).wakeAt : Infinity
    if (wakeAt === this.armedAt) return
    if (this.timer !== undefined) this.timers.clear(this.timer)
    this.timer = undefined
    this.armedAt = wakeAt
    if (!Number.isFinite(wakeAt)) return
    this.timer = this.timers.set(() => {
      this.timer = undefined
      this.armedAt = NaN
      if (this.running) this.drive((this.policy as SyncPolicy).tick(this.monotonic()))
    }, Math.max(0, Math.ceil(wakeAt - this.monotonic())))
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
    for (const c of changes) {
      this.safeDispatchEvent('change', { detail: c })
      if (c.kind !== 'removed' && c.after.conflicts > (c.kind === 'updated' ? c.before.conflicts : 0)) this.noteConflict(c.agentId)
    }
  }

  /**
   * Another node now also registers an agent id: worth an operator's eye when this node
   * hosts it (SPEC §11: a member can claim an id with an earlier registration time).
   */
  private noteConflict (agentId: AgentId): void {
    const versions = this.replicaOrUndefined?.registry.entry(agentId)?.versions ?? []
    if (!versions.some(v => v.by === this.nodeId && v.record !== null)) return
    const others = versions.filter(v => v.by !== this.nodeId && v.record !== null).map(v => ({ node: v.by, registeredAt: v.record?.registeredAt }))
    this.log.warn({ agentId, others, shown: versions[0].by }, 'another node also registers an agent hosted here')
  }

  private track (p: Promise<unknown>): void {
    const q = p.catch(err => { this.log.debug({ err: (err as Error).message }, 'registry background task failed') })
    this.background.add(q)
    void q.finally(() => this.background.delete(q))
  }
}

const ZERO_STATS: ReplicaStats = Object.freeze(zeroStats())
