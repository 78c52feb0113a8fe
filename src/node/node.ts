/**
 * The composition root (STYLE.md point 2): builds a node from its config, wires storage,
 * libp2p, the agent runtime, the router, cluster membership (SWIM), the cluster registry,
 * agent resolution and the REST API, and owns their start/stop order.
 */
import type { Logger } from 'pino'
import type { AgentId } from '../../protocols/fipa/types.js'
import { createApiServer, type ApiServer } from '../api/index.js'
import type {
  DeployRequest, FaultFacade, MembershipFacade, MessageRecord, NodeFacade, NodeInfo, PeerSummary, Readiness, RegisteredAgentJson, RegistryFacade,
  SendOutcome, SendRequest
} from '../api/facade.js'
import type { CaxtonConfig } from '../config/index.js'
import { swimSettings } from '../config/schema.js'
import { createMembership, type SwimMembership } from '../membership/index.js'
import { FAULT_ERROR_STATUS, FaultInjectionRefusedError, FaultInjector, isLoopbackHost } from '../faults/index.js'
import { componentLogger, silentLogger } from '../observability/logger.js'
import { createMetricsRegistry, Gauge, type Registry } from '../observability/metrics.js'
import { isAgentId } from '../../protocols/fipa/index.js'
import { RegistryAgentNotFoundError, type AgentState, type Capability, type RegisteredAgent } from '../../protocols/registry/index.js'
import {
  ClusterRegistry, GossipsubRegistryGossip, LevelRegistryStore, Libp2pSyncNetwork, parseCapabilities,
  REGISTRY_ERROR_STATUS, REGISTRY_TIMING, type RegistryTiming
} from '../registry/index.js'
import { FipaLink, MessageRouter, SYSTEM_AGENT } from '../router/index.js'
import { ProviderRecords, RegistryLocator } from '../routing/index.js'
import { AgentNotFoundError, createAgentRuntime, InvalidAgentIdError } from '../runtime/index.js'
import type { AgentInfo, AgentRuntime } from '../runtime/types.js'
import { AgentStore, loadOrCreateIdentity, openStorage, type NodeStorage, type StoredAgent } from '../storage/index.js'
import { createTransport, type CaxtonLibp2p } from '../transport/index.js'
import { AgentIdTakenError, NotReadyError } from './errors.js'
import { CAXTON_VERSION as VERSION } from '../api/index.js'

export interface StartNodeOptions {
  /** Root logger; components get children named `caxton:<component>`. @default silent */
  logger?: Logger
  /** Whether to serve the REST API. @default true */
  api?: boolean
  /** Whether to collect Node process metrics (off under test, where several nodes share a process). @default true */
  processMetrics?: boolean
  /**
   * Fault injection (`--enable-faults`): the node can cut itself off from peers and heal
   * (`/faults` routes, {@link CaxtonNode.faults}). For tests and chaos scripts only; refused
   * (FaultInjectionRefusedError) when the REST API is bound to a non-loopback address.
   * @default false
   */
  faults?: boolean
  /** Registry timing over the config's `registry` section, e.g. for tests. */
  registryTiming?: Partial<RegistryTiming>
}

/** An agent as the node returns it: the runtime's view plus what it offers. */
export type HostedAgent = AgentInfo & { capabilities: Capability[] }

/** A running Caxton node. Create with {@link startNode}. */
export class CaxtonNode implements NodeFacade {
  private stopping?: Promise<void>
  private readonly startedAt = Date.now()
  private ready = false
  private apiUrl = ''
  private expiryTimer?: NodeJS.Timeout

  private constructor (
    readonly config: CaxtonConfig,
    readonly storage: NodeStorage,
    readonly libp2p: CaxtonLibp2p,
    readonly runtime: AgentRuntime,
    readonly router: MessageRouter,
    private readonly link: FipaLink,
    readonly locator: RegistryLocator,
    /** The cluster registry replica (issue 4). */
    readonly clusterRegistry: ClusterRegistry,
    /** Cluster membership (SWIM over libp2p): who is alive, suspect, dead or gone. */
    readonly clusterMembership: SwimMembership,
    private readonly providers: ProviderRecords,
    private readonly agents: AgentStore,
    readonly metricsRegistry: Registry,
    private readonly log: Logger,
    private readonly faultInjector?: FaultInjector,
    private api?: ApiServer
  ) {}

  /**
   * Opens storage, starts libp2p, the runtime and the API, joins the cluster and brings
   * back the agents deployed before a restart.
   * @throws StorageOpenError, ConfigError, FaultInjectionRefusedError, or libp2p's error when a
   *   listen address is taken.
   */
  static async start (config: CaxtonConfig, options: StartNodeOptions = {}): Promise<CaxtonNode> {
    const root = options.logger ?? silentLogger()
    const log = componentLogger(root, 'node')
    if (options.faults === true && !isLoopbackHost(config.api.host)) {
      throw new FaultInjectionRefusedError(`the REST API is bound to ${config.api.host}; --enable-faults needs a loopback API (127.0.0.1, ::1)`)
    }
    const metrics = createMetricsRegistry({ processMetrics: options.processMetrics ?? true })
    const storage = await openStorage(config.dataDir)
    const cleanup: Array<() => Promise<void>> = [async () => { await storage.close() }]
    try {
      const { privateKey, created } = await loadOrCreateIdentity(storage)
      const faultInjector = options.faults === true ? new FaultInjector({ logger: componentLogger(root, 'faults') }) : undefined
      const libp2p = await createTransport({
        privateKey,
        listen: config.listen,
        agentVersion: `caxton/${VERSION}`,
        ...(faultInjector !== undefined ? { connectionGater: faultInjector.gater } : {})
      })
      const self = libp2p.peerId.toString()
      log.info({ peerId: self, created }, created ? 'created node identity' : 'loaded node identity')
      if (faultInjector !== undefined) {
        faultInjector.attach(libp2p)
        log.warn('fault injection is enabled (/faults): for tests and chaos scripts only')
      }

      // The router and runtime refer to each other (agents send through the router; the
      // router delivers into agents): the runtime's host callbacks close over `node`.
      let node: CaxtonNode | undefined
      const runtime = createAgentRuntime({
        host: {
          onAgentSend: (agentId, outbound) => { node?.router.sendFromAgent(agentId, outbound) },
          onAgentLog: (agentId, level, text) => { componentLogger(root, 'agent')[level]({ agentId }, text) },
          onAgentFailed: (agentId, reason) => {
            log.warn({ agentId, reason }, 'agent stopped by a fault')
            node?.agentStateChanged(agentId, 'failed')
          },
          onAgentRestarted: (agentId, reason) => {
            log.warn({ agentId, reason }, 'agent restarted from its module (in-memory state lost)')
            node?.agentStateChanged(agentId, 'running')
          }
        },
        logger: componentLogger(root, 'runtime'),
        metrics,
        defaults: {
          maxMemoryPages: config.agents.maxMemoryPages,
          mailboxCapacity: config.agents.mailboxCapacity,
          fuelPerMessage: config.agents.fuelPerMessage,
          handlerTimeoutMs: config.agents.handlerTimeoutMs
        },
        workers: config.agents.workers,
        drainTimeoutMs: config.agents.drainTimeoutMs
      })
      const membership = createMembership({
        libp2p,
        storage,
        seeds: config.join,
        preset: config.preset,
        config: swimSettings(config.membership),
        joinRetryMs: config.membership.joinRetryMs,
        leaveTimeoutMs: config.membership.leaveTimeoutMs,
        logger: root,
        metrics
      })
      const registry = new ClusterRegistry({
        nodeId: self,
        store: LevelRegistryStore.fromStorage(storage),
        gossip: new GossipsubRegistryGossip(libp2p.services.pubsub, { logger: componentLogger(root, 'registry:gossip') }),
        sync: new Libp2pSyncNetwork(libp2p),
        membership,
        timing: { ...config.registry, ...options.registryTiming },
        logger: componentLogger(root, 'registry'),
        metrics
      })
      const providers = new ProviderRecords({
        contentRouting: libp2p.contentRouting,
        dht: libp2p.services.dht,
        self,
        localAgents: () => runtime.list().map(a => a.id),
        // The agents' re-announcement now is the re-providing of their DHT records: the
        // registry carries them by gossip and anti-entropy.
        reprovideIntervalMs: config.routing.announceIntervalMs,
        lookupTimeoutMs: config.routing.dhtLookupTimeoutMs,
        logger: componentLogger(root, 'routing'),
        metrics
      })
      const locator = new RegistryLocator({ self, registry, providers, logger: componentLogger(root, 'routing') })
      const limits = { maxContentBytes: config.messages.maxContentBytes }
      let router: MessageRouter | undefined
      const link = new FipaLink({
        libp2p,
        onMessage: (from, message) => router?.receiveFromPeer(from, message) ?? { status: 'not-running', reason: 'the node is starting' },
        ackTimeoutMs: config.messages.ackTimeoutMs,
        maxBatch: config.messages.maxBatch,
        limits,
        logger: componentLogger(root, 'router:link'),
        metrics
      })
      router = new MessageRouter({
        localPeer: self,
        runtime,
        locator,
        link,
        limits,
        recentLimit: config.messages.recentLimit,
        dedupeWindow: config.messages.dedupeWindow,
        peerDown: (peer) => membership.downReason(peer),
        logger: componentLogger(root, 'router'),
        metrics
      })
      node = new CaxtonNode(config, storage, libp2p, runtime, router, link, locator, registry, membership, providers,
        new AgentStore(storage), metrics, log, faultInjector)
      new Gauge({
        name: 'caxton_node_agents', help: 'Agents hosted by this node', registers: [metrics],
        collect () { this.set(runtime.list().length) }
      })

      await runtime.start()
      cleanup.unshift(async () => { await runtime.stop() })
      await link.start()
      await libp2p.start()
      cleanup.unshift(async () => { await libp2p.stop() })
      // Before joining: the registry syncs with every member membership reports alive.
      await registry.start()
      cleanup.unshift(async () => { await registry.stop() })
      providers.start()
      cleanup.unshift(async () => { providers.stop() })
      // A dead member fails fast: new messages at once, those waiting for its ack now.
      const down = (evt: CustomEvent<string>): void => { node?.router.peerWentDown(evt.detail) }
      membership.addEventListener('member:dead', down)
      membership.addEventListener('member:leave', down)
      await node.restoreAgents()
      // Joins through `--join` and the members remembered from the last run, once the
      // agents are back: from here on others may route to this node.
      await membership.start()
      cleanup.unshift(async () => { await membership.stop() })
      if (options.api ?? true) {
        node.api = createApiServer({
          facade: node,
          logger: componentLogger(root, 'api'),
          host: config.api.host,
          port: config.api.port,
          bodyLimitBytes: config.api.bodyLimitBytes,
          errorStatus: { ...REGISTRY_ERROR_STATUS, ...FAULT_ERROR_STATUS },
          metrics
        })
        node.apiUrl = (await node.api.start()).url
      }
      node.expiryTimer = setInterval(() => { node?.router.expireClients() }, 60_000)
      node.expiryTimer.unref()
      node.ready = true
      log.info({ multiaddrs: node.info().multiaddrs, api: node.apiUrl }, 'node ready')
      return node
    } catch (err) {
      for (const fn of cleanup) await fn().catch(() => {})
      throw err
    }
  }

  /** Stops cleanly: API first (no new work), then agents drain, then a graceful leave of the cluster, the registry, libp2p, the database. Idempotent. */
  async stop (): Promise<void> {
    this.stopping ??= (async () => {
      this.ready = false
      clearInterval(this.expiryTimer)
      await this.api?.stop().catch(err => { this.log.warn({ err }, 'API stop failed') })
      await this.runtime.stop().catch(err => { this.log.warn({ err }, 'runtime stop failed') })
      this.providers.stop()
      // Leave gracefully while libp2p still carries the news: others mark this node left, not dead.
      await this.clusterMembership.stop().catch(err => { this.log.warn({ err }, 'membership stop failed') })
      await this.clusterRegistry.stop().catch(err => { this.log.warn({ err }, 'registry stop failed') })
      await this.link.stop().catch(err => { this.log.warn({ err }, 'link stop failed') })
      await Promise.resolve(this.libp2p.stop()).catch(err => { this.log.warn({ err }, 'libp2p stop failed') })
      await this.storage.close()
      this.log.info('node stopped')
    })()
    await this.stopping
  }

  // --- NodeFacade -------------------------------------------------------------------

  info (): NodeInfo {
    return {
      peerId: this.libp2p.peerId.toString(),
      name: this.config.name,
      multiaddrs: this.libp2p.getMultiaddrs().map(String),
      api: this.apiUrl,
      version: VERSION,
      startedAt: this.startedAt
    }
  }

  readiness (): Readiness {
    const checks: Readiness['checks'] = {
      storage: { ok: this.storage.db.status === 'open', detail: this.storage.db.status },
      libp2p: { ok: this.libp2p.status === 'started', detail: this.libp2p.status },
      runtime: { ok: this.ready, detail: `${this.runtime.list().length} agents` },
      membership: {
        ok: this.clusterMembership.running,
        detail: membershipDetail(this.clusterMembership)
      },
      registry: {
        ok: this.clusterRegistry.isHealthy,
        detail: this.clusterRegistry.isHealthy ? `${this.clusterRegistry.summary().agents} agents in the cluster` : 'not persisting (see the log)'
      }
    }
    return { ready: this.ready && Object.values(checks).every(c => c.ok), checks }
  }

  /**
   * Deploys an agent: the runtime validates and starts it, then its record, module and
   * registry entry are written in one LevelDB batch, then the registry delta is published
   * and the DHT provider record put.
   * @throws InvalidAgentIdError, InvalidCapabilityError, AgentIdTakenError, InvalidModuleError,
   *   RegistryPersistError
   */
  async deployAgent (req: DeployRequest): Promise<HostedAgent> {
    this.assertReady('deploying agents')
    checkAgentId(req.id)
    const capabilities = parseCapabilities(req.capabilities ?? [], 'capabilities')
    const self = this.libp2p.peerId.toString()
    const elsewhere = this.clusterRegistry.get(req.id)?.node ?? this.locator.lookup(req.id)
    if (elsewhere != null && elsewhere !== self && !this.runtime.has(req.id)) {
      throw new AgentIdTakenError(req.id, elsewhere)
    }
    const info = await this.runtime.deploy(req.id, req.wasm, req.limits)
    try {
      const { ops } = this.agents.putOps({ id: req.id, limits: req.limits ?? {}, deployedAt: info.deployedAt, capabilities }, req.wasm)
      await this.clusterRegistry.commit({ type: 'put', agentId: req.id, node: self, state: info.state, capabilities }, { with: ops })
    } catch (err) {
      await this.runtime.remove(req.id).catch(() => {})
      throw err
    }
    this.providers.provide(req.id)
    this.log.info({ agentId: req.id, moduleHash: info.moduleHash, capabilities: capabilities.length }, 'agent deployed')
    return { ...info, capabilities }
  }

  listAgents (): HostedAgent[] {
    return this.runtime.list().map(info => this.hosted(info))
  }

  getAgent (id: AgentId): HostedAgent {
    const info = this.runtime.get(id)
    if (info == null) throw new AgentNotFoundError(id, ON_THIS_NODE)
    return this.hosted(info)
  }

  /**
   * Drains and stops an agent, then deletes its record (and module, if unshared) and
   * writes its registry tombstone in one LevelDB batch, publishes it and withdraws the
   * DHT record. @throws AgentNotFoundError, RegistryPersistError
   */
  async removeAgent (id: AgentId): Promise<void> {
    this.assertReady('removing agents')
    if (!this.runtime.has(id)) throw new AgentNotFoundError(id, ON_THIS_NODE)
    await this.runtime.remove(id)
    const ops = await this.agents.deleteOps(id)
    await this.clusterRegistry.commit({ type: 'remove', agentId: id }, { with: ops })
    await this.providers.withdraw(id)
    this.log.info({ agentId: id }, 'agent removed')
  }

  async sendMessage (req: SendRequest): Promise<SendOutcome> {
    this.assertReady('sending messages')
    return await this.router.sendFromClient(req)
  }

  recentMessages (query: { limit?: number, agent?: AgentId, conversationId?: string }): MessageRecord[] {
    return this.router.recent(query)
  }

  peers (): PeerSummary[] {
    const connected = new Map<string, string[]>()
    for (const c of this.libp2p.getConnections()) {
      const id = c.remotePeer.toString()
      connected.set(id, [...(connected.get(id) ?? []), c.remoteAddr.toString()])
    }
    return [...connected].map(([peerId, multiaddrs]) => ({ peerId, multiaddrs, connected: true }))
      .sort((a, b) => a.peerId.localeCompare(b.peerId))
  }

  async metrics (): Promise<{ contentType: string, body: string }> {
    return { contentType: this.metricsRegistry.contentType, body: await this.metricsRegistry.metrics() }
  }

  /** The cluster registry as the REST API reads it (`/registry`). */
  readonly registry: RegistryFacade = {
    list: (query) => {
      let agents = this.clusterRegistry.list({ capability: query.capability, node: query.node })
      if (query.reachable !== undefined) agents = agents.filter(a => a.reachable === query.reachable)
      const total = agents.length
      if (query.limit !== undefined) agents = agents.slice(0, query.limit)
      return { agents: agents.map(a => this.registeredJson(a)), total }
    },
    get: (id) => {
      const a = this.clusterRegistry.get(id)
      if (a === undefined) throw new RegistryAgentNotFoundError(id)
      return this.registeredJson(a)
    },
    summary: () => {
      const { stats, ...rest } = this.clusterRegistry.summary()
      return { ...rest, stats: { ...stats } }
    }
  }

  /** Cluster membership as the REST API reads it (`/cluster/members`). */
  readonly membership: MembershipFacade = {
    list: (query) => {
      const members = this.clusterMembership.members()
      return {
        ...this.clusterMembership.summary(),
        members: query.state === undefined ? members : members.filter(m => m.state === query.state)
      }
    }
  }

  /** Fault injection (`/faults`), when the node was started with `faults: true`. */
  get faults (): FaultFacade | undefined {
    const f = this.faultInjector
    if (f === undefined) return undefined
    return {
      state: () => f.state(),
      partition: async (req) => await f.partition(req),
      heal: async (req) => await f.heal(req)
    }
  }

  // --- internals ---------------------------------------------------------------------

  /**
   * Redeploys the agents persisted before a restart (one that no longer loads is logged
   * and published as `failed`), and brings the registry in line with them: entries of
   * this node's agents are (re)written where they differ, and an entry naming this node
   * for an agent it no longer stores is removed.
   */
  private async restoreAgents (): Promise<void> {
    const stored = await this.agents.list()
    for (const s of stored) {
      let state: AgentState = 'failed'
      try {
        const wasm = await this.agents.module(s.moduleHash)
        state = (await this.runtime.deploy(s.id, wasm, s.limits)).state
        this.providers.provide(s.id)
        this.log.info({ agentId: s.id }, 'agent restored')
      } catch (err) {
        this.log.error({ agentId: s.id, err: (err as Error).message }, 'could not restore agent')
      }
      await this.publishHosted(s, state).catch(err => { this.log.error({ agentId: s.id, err: (err as Error).message }, 'could not register a restored agent') })
    }
    const self = this.libp2p.peerId.toString()
    const kept = new Set(stored.map(s => s.id))
    for (const a of this.clusterRegistry.list({ node: self })) {
      if (kept.has(a.agentId)) continue
      await this.clusterRegistry.commit({ type: 'remove', agentId: a.agentId })
        .catch(err => { this.log.error({ agentId: a.agentId, err: (err as Error).message }, 'could not remove a stale registry entry') })
    }
  }

  /** Writes this node's entry for a hosted agent unless the registry already says exactly that. */
  private async publishHosted (s: StoredAgent, state: AgentState): Promise<void> {
    const self = this.libp2p.peerId.toString()
    const current = this.clusterRegistry.get(s.id)
    if (current !== undefined && current.node !== self) {
      this.log.warn({ agentId: s.id, node: current.node }, 'the registry names another node for a restored agent; leaving its entry alone')
      return
    }
    if (current?.state === state && JSON.stringify(current.capabilities) === JSON.stringify(s.capabilities)) return
    await this.clusterRegistry.commit({ type: 'put', agentId: s.id, node: self, state, capabilities: s.capabilities })
  }

  /** The runtime changed an agent's state on its own (fault, restart): publish it. */
  private agentStateChanged (agentId: AgentId, state: AgentState): void {
    if (this.clusterRegistry.get(agentId)?.node !== this.libp2p.peerId.toString()) return
    this.clusterRegistry.commit({ type: 'update', agentId, state })
      .catch(err => { this.log.debug({ agentId, state, err: (err as Error).message }, 'agent state not published') })
  }

  private hosted (info: AgentInfo): HostedAgent {
    const entry = this.clusterRegistry.get(info.id)
    const capabilities = entry !== undefined && entry.node === this.libp2p.peerId.toString() ? [...entry.capabilities] : []
    return { ...info, capabilities }
  }

  private registeredJson (a: RegisteredAgent): RegisteredAgentJson {
    return {
      id: a.agentId,
      node: a.node,
      state: a.state,
      status: a.status,
      reachable: a.reachable,
      local: a.node === this.libp2p.peerId.toString(),
      capabilities: [...a.capabilities],
      updatedAt: a.updatedAt,
      version: { by: a.version.by, seq: a.version.seq, hlc: { ...a.version.hlc } },
      conflicts: a.conflicts
    }
  }

  private assertReady (what: string): void {
    if (!this.ready) throw new NotReadyError(`cannot take ${what} while starting or stopping`)
  }
}

const ON_THIS_NODE = 'on this node'

function membershipDetail (membership: SwimMembership): string {
  if (!membership.running) return 'not running'
  const { counts } = membership.summary()
  return `${counts.alive} alive, ${counts.suspect} suspect, ${counts.dead} dead, ${counts.left} left`
}

function checkAgentId (id: string): void {
  if (!isAgentId(id)) throw new InvalidAgentIdError(String(id))
  if (id === SYSTEM_AGENT || id.startsWith('client-')) {
    throw new InvalidAgentIdError(id, `"${SYSTEM_AGENT}" and ids starting with "client-" are reserved`)
  }
}

/** Starts a node. See {@link CaxtonNode.start}. */
export async function startNode (config: CaxtonConfig, options?: StartNodeOptions): Promise<CaxtonNode> {
  return await CaxtonNode.start(config, options)
}
