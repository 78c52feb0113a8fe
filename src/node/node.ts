/**
 * A running node: {@link CaxtonNode.start} opens storage, has `compose.ts` (the
 * composition root) build the components, and starts them in order from one list
 * ({@link Lifecycle}); the node is also the facade the REST API talks to. Agents'
 * deploy/remove/restore live in `agents.ts`.
 */
import type { Logger } from 'pino'
import type { Conversation } from '../../protocols/fipa/index.js'
import type { AgentId } from '../../protocols/fipa/types.js'
import { RegistryAgentNotFoundError, type RegisteredAgent } from '../../protocols/registry/index.js'
import type { ClientSessions } from '../api/clients.js'
import type {
  DeadLetterFacade, DeployRequest, UpgradeRequest, FaultFacade, MembershipFacade, MessageRecord, NodeFacade, NodeInfo, PeerSummary, Readiness,
  RegisteredAgentJson, RegistryFacade, SendOutcome, SendRequest
} from '../api/facade.js'
import { createApiServer, CAXTON_VERSION as VERSION, type ApiServer } from '../api/index.js'
import { apiSettings } from '../api/settings.js'
import type { AuditLog, RefusedFrames } from '../audit/index.js'
import { ensureAdminToken, writeApiFile, type TokenStore } from '../auth/index.js'
import { AgentQuota } from '../quota/index.js'
import type { CaxtonConfig } from '../config/index.js'
import { ConversationNotFoundError, type ConversationService } from '../conversations/index.js'
import { MessageNotFoundError, type DeliveryService, type HandledEntry, type MessageStatus } from '../delivery/index.js'
import { FAULT_ERROR_STATUS, FaultInjectionRefusedError, isLoopbackHost, type FaultInjector } from '../faults/index.js'
import type { SwimMembership } from '../membership/index.js'
import { componentLogger, silentLogger } from '../observability/logger.js'
import type { MetricsRegistry } from '../observability/metrics.js'
import { REGISTRY_ERROR_STATUS, type ClusterRegistry, type RegistryTiming } from '../registry/index.js'
import type { MessageRouter } from '../router/index.js'
import type { ProviderRecords, RegistryLocator } from '../routing/index.js'
import { pickLimits, policyWarmUpModule } from '../runtime/index.js'
import type { AgentRuntime } from '../runtime/types.js'
import { AgentStore, openStorage, type NodeStorage } from '../storage/index.js'
import type { AgentStateService } from '../agent-state/index.js'
import type { CaxtonLibp2p } from '../transport/index.js'
import type { AgentManager, AgentVersions, HostedAgent } from './agents.js'
import { compose, type Components } from './compose.js'
import { NotReadyError } from './errors.js'
import { Lifecycle } from './lifecycle.js'

export type { HostedAgent } from './agents.js'

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

/** A running Caxton node. Create with {@link startNode}. */
export class CaxtonNode implements NodeFacade {
  private stopping?: Promise<void>
  private readonly startedAt = Date.now()
  private ready = false
  private apiUrl = ''
  private api?: ApiServer
  private lifecycle?: Lifecycle
  readonly config: CaxtonConfig
  readonly storage: NodeStorage
  readonly libp2p: CaxtonLibp2p
  readonly runtime: AgentRuntime
  readonly router: MessageRouter
  /** Durable delivery: outbox, inboxes, retries, breakers, dead letters. */
  readonly delivery: DeliveryService
  /** Conversations seen by this node, persisted; reply-by enforced. */
  readonly conversations: ConversationService
  /** Agents' key-value stores and timers. */
  readonly agentState: AgentStateService
  readonly locator: RegistryLocator
  /** The cluster registry replica. */
  readonly clusterRegistry: ClusterRegistry
  /** Cluster membership (SWIM over libp2p): who is alive, suspect, dead or gone. */
  readonly clusterMembership: SwimMembership
  readonly metricsRegistry: MetricsRegistry
  private readonly sessions: ClientSessions
  private readonly providers: ProviderRecords
  private readonly agents: AgentManager
  private readonly log: Logger
  private readonly faultInjector?: FaultInjector
  /** The REST API's tokens. */
  readonly tokens: TokenStore
  /** The hash-chained audit log; other modules record through `audit.append`. */
  readonly audit: AuditLog
  /** Frames refused from peers, counted and written to the audit log every 10 s (and on stop). */
  readonly refusedFrames: RefusedFrames
  private readonly quota: AgentQuota

  private constructor (c: Components) {
    this.config = c.config
    this.storage = c.storage
    this.libp2p = c.libp2p
    this.runtime = c.runtime
    this.router = c.router
    this.delivery = c.delivery
    this.conversations = c.conversations
    this.agentState = c.agentState
    this.sessions = c.sessions
    this.locator = c.locator
    this.clusterRegistry = c.registry
    this.clusterMembership = c.membership
    this.agents = c.agents
    this.providers = c.providers
    this.metricsRegistry = c.metrics
    this.log = c.log
    this.faultInjector = c.faultInjector
    this.tokens = c.tokens
    this.audit = c.audit
    this.refusedFrames = c.refusedFrames
    this.quota = new AgentQuota(c.config.quota, pickLimits(c.config.agents))
  }

  /**
   * Opens storage, wires and starts every component, joins the cluster and brings back
   * the agents (and their durable inboxes) deployed before a restart.
   * @throws StorageOpenError, ConfigError, FaultInjectionRefusedError, or libp2p's error when a
   *   listen address is taken.
   */
  static async start (config: CaxtonConfig, options: StartNodeOptions = {}): Promise<CaxtonNode> {
    const root = options.logger ?? silentLogger()
    const log = componentLogger(root, 'node')
    if (options.faults === true && !isLoopbackHost(config.api.host)) {
      throw new FaultInjectionRefusedError(`the REST API is bound to ${config.api.host}; --enable-faults needs a loopback API (127.0.0.1, ::1)`)
    }
    const storage = await openStorage(config.dataDir)
    let node: CaxtonNode
    try {
      node = new CaxtonNode(await compose(config, storage, root, options))
    } catch (err) {
      await storage.close().catch(() => {})
      throw err
    }
    await node.run(options)
    return node
  }

  /** Starts the components in order (see {@link compose} for who needs whom), then the API. */
  private async run (options: StartNodeOptions): Promise<void> {
    const { libp2p, runtime, delivery, conversations, clusterRegistry: registry, clusterMembership: membership, agents, storage, providers, refusedFrames, agentState } = this
    let expiry: NodeJS.Timeout | undefined
    let policyWarmUp: Promise<void> | undefined
    this.lifecycle = new Lifecycle([
      { name: 'storage', start: () => {}, stop: async () => { await storage.close() } },
      // Last to stop before the database closes: writes staged while stopping reach the disk.
      { name: 'delivery writes', start: () => {}, stop: async () => { await delivery.flushed() } },
      // Counts of frames refused from peers go to the audit log every 10 s, and once more on stop.
      { name: 'refused frames', start: () => { refusedFrames.start() }, stop: async () => { await refusedFrames.stop() } },
      {
        name: 'delivery state',
        start: async () => {
          await delivery.open()
          await conversations.load()
          // Stores and timers of agents removed while the node was down are deleted.
          await agentState.load(new Set((await new AgentStore(storage).list()).map(a => a.id)))
        }
      },
      {
        name: 'runtime',
        start: async () => {
          await runtime.start()
          // Loads binaryen in the policy worker and warms it up while the rest starts
          // (awaited before the API listens), so that the first deploy neither waits ~0.5 s
          // for the load nor pays for a cold binaryen. The worker stops again after a
          // minute unused.
          policyWarmUp = runtime.inspect(policyWarmUpModule()).then(() => {}, (err: unknown) => { this.log.warn({ err }, 'policy worker warm-up failed') })
        },
        stop: async () => { await runtime.stop() }
      },
      { name: 'libp2p', start: async () => { await libp2p.start() }, stop: async () => { await libp2p.stop() } },
      // Before joining: the registry syncs with every member membership reports alive.
      { name: 'registry', start: async () => { await registry.start() }, stop: async () => { await registry.stop() } },
      { name: 'providers', start: () => { providers.start() }, stop: () => { providers.stop() } },
      { name: 'agents', start: async () => { await agents.restore(); await delivery.restoreInbox() } },
      { name: 'delivery', start: async () => { await delivery.start() }, stop: async () => { await delivery.stop() } },
      // Timers due while the node was down fire now, through delivery.
      { name: 'timers', start: () => { agentState.timers.start() }, stop: () => { agentState.timers.stop() } },
      { name: 'conversations', start: () => { conversations.start() }, stop: async () => { await conversations.stop() } },
      // Joins through `--join` and the members remembered from the last run, once the
      // agents are back: from here on others may route to this node. Stopping leaves
      // gracefully while libp2p still carries the news.
      { name: 'membership', start: async () => { await membership.start() }, stop: async () => { await membership.stop() } },
      {
        name: 'api',
        start: async () => {
          if (options.api === false) { await policyWarmUp; return }
          await ensureAdminToken(this.tokens, this.config.dataDir, this.log)
          this.api = createApiServer({
            facade: this,
            logger: componentLogger(this.log, 'api'),
            host: this.config.api.host,
            port: this.config.api.port,
            ...await apiSettings(this.config.api),
            auth: { tokens: this.tokens, audit: this.audit },
            errorStatus: { ...REGISTRY_ERROR_STATUS, ...FAULT_ERROR_STATUS },
            metrics: this.metricsRegistry
          })
          // Built (routes, schemas) while the policy worker warms up: listens once it is warm.
          await this.api.app.ready()
          await policyWarmUp
          this.apiUrl = (await this.api.start()).url
          // For the CLI on this machine: which node's admin.token goes with which address.
          await writeApiFile(this.config.dataDir, this.apiUrl)
        },
        stop: async () => { await this.api?.stop() }
      },
      {
        name: 'client expiry',
        start: () => {
          expiry = setInterval(() => { this.sessions.expire() }, 60_000)
          expiry.unref()
        },
        stop: () => { clearInterval(expiry) }
      }
    ], this.log)
    await this.lifecycle.start()
    this.ready = true
    this.log.info({ multiaddrs: this.info().multiaddrs, api: this.apiUrl }, 'node ready')
  }

  /**
   * Stops cleanly: the API first (no new work), then agents drain (what they send still
   * goes out), then the rest in reverse start order: a graceful leave of the cluster,
   * delivery (what is undelivered stays in the outbox), the registry, libp2p, the
   * database. Idempotent.
   */
  async stop (): Promise<void> {
    this.stopping ??= (async () => {
      this.ready = false
      await this.api?.stop().catch(err => { this.log.warn({ err }, 'API stop failed') })
      await this.runtime.stop().catch(err => { this.log.warn({ err }, 'runtime stop failed') })
      await this.lifecycle?.stop()
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
    const { outbox, inbox, deadLetters } = this.delivery.summary()
    const checks: Readiness['checks'] = {
      storage: { ok: this.storage.db.status === 'open', detail: this.storage.db.status },
      libp2p: { ok: this.libp2p.status === 'started', detail: this.libp2p.status },
      runtime: { ok: this.ready, detail: `${this.runtime.list().length} agents` },
      delivery: { ok: this.ready, detail: `${outbox.messages} in the outbox, ${inbox} in inboxes, ${deadLetters} dead letters` },
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
   * See {@link AgentManager.deploy}; first checked against the node's quota (config `quota`).
   * @throws LimitTooHighError, AgentQuotaExceededError, and the deploy's own errors
   */
  async deployAgent (req: DeployRequest): Promise<HostedAgent> {
    this.assertReady('deploying agents')
    const release = this.quota.reserve(req.limits, this.agents.list())
    try {
      return await this.agents.deploy(req)
    } finally {
      release()
    }
  }

  listAgents (): HostedAgent[] {
    return this.agents.list()
  }

  /** @throws AgentNotFoundError */
  getAgent (id: AgentId): HostedAgent {
    return this.agents.get(id)
  }

  /** See {@link AgentManager.remove}. */
  async removeAgent (id: AgentId): Promise<void> {
    this.assertReady('removing agents')
    await this.agents.remove(id)
  }

  /** See {@link AgentManager.stop}. */
  async stopAgent (id: AgentId): Promise<HostedAgent> {
    this.assertReady('stopping agents')
    return await this.agents.stop(id)
  }

  /** See {@link AgentManager.start}. */
  async startAgent (id: AgentId): Promise<HostedAgent> {
    this.assertReady('starting agents')
    return await this.agents.start(id)
  }

  /** See {@link AgentManager.suspend}. */
  async suspendAgent (id: AgentId, reason?: string): Promise<HostedAgent> {
    this.assertReady('suspending agents')
    return this.agents.suspend(id, reason)
  }

  /** See {@link AgentManager.resume}. */
  async resumeAgent (id: AgentId): Promise<HostedAgent> {
    this.assertReady('resuming agents')
    return this.agents.resume(id)
  }

  /**
   * See {@link AgentManager.upgrade}; first checked against the node's quota, the agent's
   * current share not counted.
   * @throws LimitTooHighError, AgentQuotaExceededError, and the upgrade's own errors
   */
  async upgradeAgent (req: UpgradeRequest): Promise<HostedAgent> {
    this.assertReady('upgrading agents')
    const release = this.quota.reserve(req.limits, this.agents.list().filter(a => a.id !== req.id))
    try {
      return await this.agents.upgrade(req)
    } finally {
      release()
    }
  }

  /** See {@link AgentManager.versions}. */
  agentVersions (id: AgentId): AgentVersions {
    return this.agents.versions(id)
  }

  /** See {@link AgentManager.rollback}; the version's limits are checked against the quota as an upgrade's. */
  async rollbackAgent (id: AgentId, version?: number): Promise<HostedAgent> {
    this.assertReady('rolling agents back')
    const { limits } = this.agents.rollbackTarget(id, version)
    const release = this.quota.reserve(limits, this.agents.list().filter(a => a.id !== id))
    try {
      return await this.agents.rollback(id, version)
    } finally {
      release()
    }
  }

  /**
   * Sends a message from an API client: validated and stamped by the router, accepted
   * durably (the promise resolves only then), and, with `waitMs`, the first reply.
   * @throws AclValidationError, AgentNotFoundError, OutboxFullError, ReplyTimeoutError, NotReadyError
   */
  async sendMessage (req: SendRequest): Promise<SendOutcome> {
    this.assertReady('sending messages')
    const message = await this.router.prepareFromClient(req.to, req.draft)
    this.sessions.touch(message.sender)
    const pending = req.waitMs !== undefined ? this.sessions.expect(message) : undefined
    try {
      await this.router.submit(message)
    } catch (err) {
      pending?.cancel()
      throw err
    }
    if (pending === undefined) return { messageId: message.messageId, conversationId: message.conversationId as string, sender: message.sender }
    // Literals, not `{ ...outcome, reply }`: a spread followed by a property takes V8 11's
    // slow path, ~1.3 µs a call on this machine (`{ ...o }` alone ~25 ns).
    const reply = await pending.wait(req.waitMs as number)
    return { messageId: message.messageId, conversationId: message.conversationId as string, sender: message.sender, reply }
  }

  recentMessages (query: { limit?: number, agent?: AgentId, conversationId?: string }): MessageRecord[] {
    return this.delivery.recent(query)
  }

  /** @throws MessageNotFoundError */
  async messageStatus (messageId: string): Promise<MessageStatus> {
    const s = await this.delivery.status(messageId)
    if (s === undefined) throw new MessageNotFoundError(messageId)
    return s
  }

  /** @throws ConversationNotFoundError */
  async conversation (id: string): Promise<Conversation> {
    const c = await this.conversations.get(id)
    if (c === undefined) throw new ConversationNotFoundError(id)
    return c
  }

  /** The handled log (`delivery.handledLog`), oldest first after `after`. */
  async handledLog (query: { after?: string, limit?: number }): Promise<HandledEntry[]> {
    return await this.delivery.handledLog(query)
  }

  /** The dead-letter queue as the REST API reads and changes it (`/dead-letters`). */
  readonly deadLetters: DeadLetterFacade = {
    list: async (query) => await this.delivery.listDeadLetters(query),
    get: async (id) => await this.delivery.getDeadLetter(id),
    replay: async (id) => await this.delivery.replayDeadLetter(id),
    delete: async (id) => { await this.delivery.deleteDeadLetter(id) },
    purge: async (query) => await this.delivery.purgeDeadLetters(query)
  }

  peers (): PeerSummary[] {
    const connected = new Map<string, string[]>()
    for (const c of this.libp2p.getConnections()) {
      const id = c.remotePeer.toString()
      connected.set(id, [...(connected.get(id) ?? []), c.remoteAddr.toString()])
    }
    const delivery = new Map(this.delivery.peers().map(p => [p.peer, p]))
    const self = this.libp2p.peerId.toString()
    const ids = new Set([...connected.keys(), ...[...delivery.keys()].filter(p => p !== self)])
    return [...ids].map(peerId => {
      const d = delivery.get(peerId)
      const summary: PeerSummary = { peerId, multiaddrs: connected.get(peerId) ?? [], connected: connected.has(peerId) }
      summary.delivery = {
        breaker: d?.breaker ?? 'closed',
        consecutiveFailures: d?.consecutiveFailures ?? 0,
        trips: d?.trips ?? 0,
        inFlight: d?.inFlight ?? 0,
        queued: this.delivery.queuedFor(peerId)
      }
      return summary
    }).sort((a, b) => a.peerId.localeCompare(b.peerId))
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
      conflicts: a.conflicts,
      ...(a.agentVersion === undefined ? {} : { agentVersion: a.agentVersion })
    }
  }

  private assertReady (what: string): void {
    if (!this.ready) throw new NotReadyError(`cannot take ${what} while starting or stopping`)
  }
}

function membershipDetail (membership: SwimMembership): string {
  if (!membership.running) return 'not running'
  const { counts } = membership.summary()
  return `${counts.alive} alive, ${counts.suspect} suspect, ${counts.dead} dead, ${counts.left} left`
}

/** Starts a node. See {@link CaxtonNode.start}. */
export async function startNode (config: CaxtonConfig, options?: StartNodeOptions): Promise<CaxtonNode> {
  return await CaxtonNode.start(config, options)
}
