/**
 * The composition root (STYLE.md point 2): builds a node from its config, wires storage,
 * libp2p, the agent runtime, the router, agent resolution and the REST API, and owns
 * their start/stop order.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import type { AgentId } from '../../protocols/fipa/types.js'
import { createApiServer, type ApiServer } from '../api/index.js'
import type {
  DeployRequest, MessageRecord, NodeFacade, NodeInfo, PeerSummary, Readiness, SendOutcome, SendRequest
} from '../api/facade.js'
import type { CaxtonConfig } from '../config/index.js'
import { componentLogger, silentLogger } from '../observability/logger.js'
import { createMetricsRegistry, Gauge, type Registry } from '../observability/metrics.js'
import { isAgentId } from '../../protocols/fipa/index.js'
import { FipaLink, MessageRouter, SYSTEM_AGENT } from '../router/index.js'
import { GossipLocator } from '../routing/index.js'
import { AgentNotFoundError, createAgentRuntime, InvalidAgentIdError } from '../runtime/index.js'
import type { AgentInfo, AgentRuntime } from '../runtime/types.js'
import { AgentStore, loadOrCreateIdentity, openStorage, type NodeStorage } from '../storage/index.js'
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
}

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
    readonly locator: GossipLocator,
    private readonly agents: AgentStore,
    readonly metricsRegistry: Registry,
    private readonly log: Logger,
    private api?: ApiServer
  ) {}

  /**
   * Opens storage, starts libp2p, the runtime and the API, joins the cluster and brings
   * back the agents deployed before a restart.
   * @throws StorageOpenError, ConfigError, or libp2p's error when a listen address is taken.
   */
  static async start (config: CaxtonConfig, options: StartNodeOptions = {}): Promise<CaxtonNode> {
    const root = options.logger ?? silentLogger()
    const log = componentLogger(root, 'node')
    const metrics = createMetricsRegistry({ processMetrics: options.processMetrics ?? true })
    const storage = await openStorage(config.dataDir)
    const cleanup: Array<() => Promise<void>> = [async () => { await storage.close() }]
    try {
      const { privateKey, created } = await loadOrCreateIdentity(storage)
      const libp2p = await createTransport({ privateKey, listen: config.listen, agentVersion: `caxton/${VERSION}` })
      log.info({ peerId: libp2p.peerId.toString(), created }, created ? 'created node identity' : 'loaded node identity')

      // The router and runtime refer to each other (agents send through the router; the
      // router delivers into agents): the runtime's host callbacks close over `node`.
      let node: CaxtonNode | undefined
      const runtime = createAgentRuntime({
        host: {
          onAgentSend: (agentId, outbound) => { node?.router.sendFromAgent(agentId, outbound) },
          onAgentLog: (agentId, level, text) => { componentLogger(root, 'agent')[level]({ agentId }, text) },
          onAgentFailed: (agentId, reason) => { log.warn({ agentId, reason }, 'agent stopped by a fault') },
          onAgentRestarted: (agentId, reason) => { log.warn({ agentId, reason }, 'agent restarted from its module (in-memory state lost)') }
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
      const locator = new GossipLocator({
        libp2p,
        localAgents: () => runtime.list().map(a => a.id),
        announceIntervalMs: config.routing.announceIntervalMs,
        dhtLookupTimeoutMs: config.routing.dhtLookupTimeoutMs,
        logger: componentLogger(root, 'routing')
      })
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
        localPeer: libp2p.peerId.toString(),
        runtime,
        locator,
        link,
        limits,
        recentLimit: config.messages.recentLimit,
        dedupeWindow: config.messages.dedupeWindow,
        logger: componentLogger(root, 'router'),
        metrics
      })
      node = new CaxtonNode(config, storage, libp2p, runtime, router, link, locator, new AgentStore(storage), metrics, log)
      new Gauge({
        name: 'caxton_node_agents', help: 'Agents hosted by this node', registers: [metrics],
        collect () { this.set(runtime.list().length) }
      })

      await runtime.start()
      cleanup.unshift(async () => { await runtime.stop() })
      await link.start()
      await libp2p.start()
      cleanup.unshift(async () => { await libp2p.stop() })
      locator.start()
      await node.join()
      await node.restoreAgents()
      if (options.api ?? true) {
        node.api = createApiServer({
          facade: node,
          logger: componentLogger(root, 'api'),
          host: config.api.host,
          port: config.api.port,
          bodyLimitBytes: config.api.bodyLimitBytes,
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

  /** Stops cleanly: API first (no new work), then agents drain, then libp2p, then the database. Idempotent. */
  async stop (): Promise<void> {
    this.stopping ??= (async () => {
      this.ready = false
      clearInterval(this.expiryTimer)
      await this.api?.stop().catch(err => { this.log.warn({ err }, 'API stop failed') })
      await this.runtime.stop().catch(err => { this.log.warn({ err }, 'runtime stop failed') })
      this.locator.stop()
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
      runtime: { ok: this.ready, detail: `${this.runtime.list().length} agents` }
    }
    return { ready: this.ready && Object.values(checks).every(c => c.ok), checks }
  }

  async deployAgent (req: DeployRequest): Promise<AgentInfo> {
    this.assertReady('deploying agents')
    checkAgentId(req.id)
    const elsewhere = this.locator.lookup(req.id)
    if (elsewhere != null && elsewhere !== this.libp2p.peerId.toString() && !this.runtime.has(req.id)) {
      throw new AgentIdTakenError(req.id, elsewhere)
    }
    const info = await this.runtime.deploy(req.id, req.wasm, req.limits)
    try {
      await this.agents.put({ id: req.id, limits: req.limits ?? {}, deployedAt: info.deployedAt }, req.wasm)
    } catch (err) {
      await this.runtime.remove(req.id).catch(() => {})
      throw err
    }
    await this.locator.added(req.id)
    this.log.info({ agentId: req.id, moduleHash: info.moduleHash }, 'agent deployed')
    return info
  }

  listAgents (): AgentInfo[] {
    return this.runtime.list()
  }

  getAgent (id: AgentId): AgentInfo {
    const info = this.runtime.get(id)
    if (info == null) throw new AgentNotFoundError(id, ON_THIS_NODE)
    return info
  }

  async removeAgent (id: AgentId): Promise<void> {
    this.assertReady('removing agents')
    if (!this.runtime.has(id)) throw new AgentNotFoundError(id, ON_THIS_NODE)
    await this.runtime.remove(id)
    await this.agents.delete(id)
    await this.locator.removed(id)
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

  // --- internals ---------------------------------------------------------------------

  /** Dials every `--join` address; a member that cannot be reached is logged, not fatal. */
  private async join (): Promise<void> {
    await Promise.all(this.config.join.map(async addr => {
      try {
        await this.libp2p.dial(multiaddr(addr), { signal: AbortSignal.timeout(10_000) })
        this.log.info({ addr }, 'joined the cluster through a member')
      } catch (err) {
        this.log.warn({ addr, err: (err as Error).message }, 'could not reach a join address; will keep serving alone until a member dials in')
      }
    }))
  }

  /** Redeploys the agents persisted before a restart; one that no longer loads is logged and skipped. */
  private async restoreAgents (): Promise<void> {
    for (const stored of await this.agents.list()) {
      try {
        const wasm = await this.agents.module(stored.moduleHash)
        await this.runtime.deploy(stored.id, wasm, stored.limits)
        await this.locator.added(stored.id)
        this.log.info({ agentId: stored.id }, 'agent restored')
      } catch (err) {
        this.log.error({ agentId: stored.id, err: (err as Error).message }, 'could not restore agent')
      }
    }
  }

  private assertReady (what: string): void {
    if (!this.ready) throw new NotReadyError(`cannot take ${what} while starting or stopping`)
  }
}

const ON_THIS_NODE = 'on this node'

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
