/**
 * The composition root: builds every component of a node from its config and wires the
 * narrow interfaces between them; nothing is started here (`node.ts` starts them, in
 * order, from one list). Three groups, each below: the peer (identity, libp2p, faults),
 * the cluster (membership, registry, DHT records, agent resolution) and messaging (the
 * runtime, delivery, conversations, the router, the agents).
 */
import { randomUUID } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import type { Logger } from 'pino'
import { DEFAULT_ACL_LIMITS, type AclLimits } from '../../protocols/fipa/index.js'
import { clientTag } from '../../protocols/delivery/index.js'
import { AgentStateService } from '../agent-state/index.js'
import { ClientSessions } from '../api/clients.js'
import { AuditLog, RefusedFrames } from '../audit/index.js'
import { TokenStore } from '../auth/index.js'
import { CAXTON_VERSION as VERSION } from '../api/version.js'
import type { CaxtonConfig } from '../config/index.js'
import { swimSettings } from '../config/schema.js'
import { ConversationService } from '../conversations/index.js'
import { DeliveryService, FipaLink } from '../delivery/index.js'
import { FaultInjector } from '../faults/index.js'
import { createMembership, type SwimMembership } from '../membership/index.js'
import { componentLogger } from '../observability/logger.js'
import { createMetricsRegistry, type MetricsRegistry } from '../observability/metrics.js'
import { ClusterRegistry, ed25519Signing, GossipsubRegistryGossip, LevelRegistryStore, Libp2pSyncNetwork } from '../registry/index.js'
import { MessageRouter, RandomPool } from '../router/index.js'
import { ProviderRecords, RegistryLocator } from '../routing/index.js'
import { createAgentRuntime, pickLimits } from '../runtime/index.js'
import type { AgentRuntime, RuntimeHost } from '../runtime/types.js'
import { AgentStore, MeteredModuleRows, loadOrCreateIdentity, type NodeStorage } from '../storage/index.js'
import { TimerService } from '../timers/index.js'
import { clusterAdmission, composeGaters, createTransport, type CaxtonLibp2p } from '../transport/index.js'
import { AgentManager } from './agents.js'
import type { StartNodeOptions } from './node.js'

/** The parts a node is made of. */
export interface Components {
  config: CaxtonConfig
  storage: NodeStorage
  libp2p: CaxtonLibp2p
  runtime: AgentRuntime
  router: MessageRouter
  delivery: DeliveryService
  conversations: ConversationService
  /** Agents' key-value stores and timers (sublevels `agent-kv`, `timers`). */
  agentState: AgentStateService
  sessions: ClientSessions
  locator: RegistryLocator
  registry: ClusterRegistry
  membership: SwimMembership
  providers: ProviderRecords
  agents: AgentManager
  metrics: MetricsRegistry
  log: Logger
  faultInjector?: FaultInjector
  /** The REST API's tokens (sublevel `tokens`). */
  tokens: TokenStore
  /** The node's hash-chained audit log (sublevel `audit`). */
  audit: AuditLog
  /** Frames refused from peers, counted into the audit log. */
  refusedFrames: RefusedFrames
}

/** What every group needs. */
interface Shared {
  config: CaxtonConfig
  storage: NodeStorage
  root: Logger
  log: Logger
  metrics: MetricsRegistry
  refusedFrames: RefusedFrames
}

export async function compose (config: CaxtonConfig, storage: NodeStorage, root: Logger, options: StartNodeOptions): Promise<Components> {
  const tokens = await TokenStore.open(storage.sublevel('tokens'))
  const audit = await AuditLog.open(storage.sublevel('audit'))
  const refusedFrames = new RefusedFrames(audit, { logger: componentLogger(root, 'audit') })
  const shared: Shared = { config, storage, root, log: componentLogger(root, 'node'), metrics: createMetricsRegistry({ processMetrics: options.processMetrics ?? true }), refusedFrames }
  const { libp2p, privateKey, faultInjector } = await peer(shared, options)
  const cluster = clusterOf(shared, libp2p, privateKey, options)
  const messaging = messagingOf(shared, libp2p, cluster)
  return { ...shared, ...cluster, ...messaging, libp2p, tokens, audit, ...(faultInjector !== undefined ? { faultInjector } : {}) }
}

/**
 * The node's identity (its key in LevelDB, so its PeerId is stable) and its libp2p peer,
 * behind the cluster key and the allow-list when configured.
 */
async function peer ({ config, storage, root, log, refusedFrames }: Shared, options: StartNodeOptions): Promise<{ libp2p: CaxtonLibp2p, privateKey: PrivateKey, faultInjector?: FaultInjector }> {
  const { privateKey, created } = await loadOrCreateIdentity(storage)
  const faultInjector = options.faults === true ? new FaultInjector({ logger: componentLogger(root, 'faults') }) : undefined
  const admission = await clusterAdmission({ ...config.cluster, listen: config.listen, logger: componentLogger(root, 'transport') })
  const libp2p = await createTransport({
    privateKey,
    listen: config.listen,
    agentVersion: `caxton/${VERSION}`,
    clusterKey: admission.clusterKey,
    connectionGater: composeGaters([admission.gater, faultInjector?.gater]),
    // Counted into the audit log as refused frames are; the source is the remote host.
    onRefusedConnection: (host, reason) => { refusedFrames.note(host, 'tcp', 'handshakes-pending', reason) }
  })
  log.info({ peerId: libp2p.peerId.toString(), created }, created ? 'created node identity' : 'loaded node identity')
  if (faultInjector !== undefined) {
    faultInjector.attach(libp2p)
    log.warn('fault injection is enabled (/faults): for tests and chaos scripts only')
  }
  return { libp2p, privateKey, ...(faultInjector !== undefined ? { faultInjector } : {}) }
}

type Cluster = Pick<Components, 'membership' | 'registry' | 'providers' | 'locator'> & { localAgents: { ids: () => string[] } }

/** Membership (SWIM), the cluster registry (its writes signed with the node's key), DHT provider records, and agent resolution over them. */
function clusterOf ({ config, storage, root, metrics, refusedFrames }: Shared, libp2p: CaxtonLibp2p, privateKey: PrivateKey, options: StartNodeOptions): Cluster {
  const self = libp2p.peerId.toString()
  const localAgents = { ids: (): string[] => [] }
  const membership = createMembership({
    libp2p,
    storage,
    seeds: config.join,
    preset: config.preset,
    config: swimSettings(config.membership),
    joinRetryMs: config.membership.joinRetryMs,
    leaveTimeoutMs: config.membership.leaveTimeoutMs,
    logger: root,
    metrics,
    onRefusedFrame: refusedFrames.note
  })
  const registry = new ClusterRegistry({
    nodeId: self,
    signing: ed25519Signing(privateKey),
    store: LevelRegistryStore.fromStorage(storage),
    gossip: new GossipsubRegistryGossip(libp2p.services.pubsub, { logger: componentLogger(root, 'registry:gossip') }),
    sync: new Libp2pSyncNetwork(libp2p),
    membership,
    timing: { ...config.registry, ...options.registryTiming },
    logger: componentLogger(root, 'registry'),
    metrics,
    onRefusedFrame: refusedFrames.note
  })
  const providers = new ProviderRecords({
    contentRouting: libp2p.contentRouting,
    dht: libp2p.services.dht,
    self,
    localAgents: () => localAgents.ids(),
    // The agents' re-announcement now is the re-providing of their DHT records: the
    // registry carries them by gossip and anti-entropy.
    reprovideIntervalMs: config.routing.announceIntervalMs,
    lookupTimeoutMs: config.routing.dhtLookupTimeoutMs,
    logger: componentLogger(root, 'routing'),
    metrics
  })
  const locator = new RegistryLocator({ self, registry, providers, logger: componentLogger(root, 'routing') })
  return { membership, registry, providers, locator, localAgents }
}

type Messaging = Pick<Components, 'runtime' | 'router' | 'delivery' | 'conversations' | 'sessions' | 'agents' | 'agentState'>

/**
 * The agent runtime, durable delivery, conversations, the router and the agents. The
 * runtime and the router need each other (agents send through the router; delivery feeds
 * the runtime): the runtime's host reaches the others through `wired`, filled in below.
 */
function messagingOf ({ config, storage, root, log, metrics, refusedFrames }: Shared, libp2p: CaxtonLibp2p, cluster: Cluster): Messaging {
  const self = libp2p.peerId.toString()
  const { membership, registry, providers, locator } = cluster
  const wired: { router?: MessageRouter, delivery?: DeliveryService, agents?: AgentManager, conversations?: ConversationService, agentState?: AgentStateService } = {}
  const agentLog = componentLogger(root, 'agent')
  const host: RuntimeHost = {
    onHandled: (agentId, token, sends, state) => {
      wired.router?.handled(agentId, token, sends, state === undefined ? undefined : wired.agentState?.commit(agentId, state))
      if (state?.capabilities !== undefined) wired.agents?.publishCapabilities(agentId, state.capabilities)
    },
    agentState: (agentId) => {
      const s = wired.agentState?.snapshot(agentId)
      return s === undefined ? undefined : { capabilities: wired.agents?.deployedCapabilities(agentId), ...s }
    },
    onAgentSend: (agentId, outbound) => { wired.router?.sendFromAgent(agentId, outbound) },
    onAgentLog: (agentId, level, text) => { agentLog[level]({ agentId }, text) },
    onAgentFailed: (agentId, reason, tokens) => {
      log.warn({ agentId, reason, undelivered: tokens.length }, 'agent stopped by a fault')
      void wired.delivery?.disposeInbox(tokens, 'agent-failed', `agent ${agentId} failed: ${reason}`).catch(() => {})
    },
    onAgentRestarted: (agentId, reason) => {
      log.warn({ agentId, reason }, 'agent restarted from its module (in-memory state lost)')
    },
    onStateChanged: (agentId, state, reason) => { wired.agents?.stateChanged(agentId, state, reason) }
  }
  // The runtime's metered modules, deleted with their modules by the agent store.
  const meteredModules = new MeteredModuleRows(storage)
  const runtime = createAgentRuntime({
    host,
    logger: componentLogger(root, 'runtime'),
    metrics,
    defaults: pickLimits(config.agents),
    workers: config.agents.workers,
    workerResourceLimits: { maxOldGenerationSizeMb: config.agents.workerHeapMb },
    drainTimeoutMs: config.agents.drainTimeoutMs,
    overBudgetGraceMs: config.agents.overBudgetGraceMs,
    // A restart compiles the metered modules it kept instead of checking them again.
    meteredModules
  })
  cluster.localAgents.ids = () => runtime.list().map(a => a.id)
  const limits: AclLimits = { ...DEFAULT_ACL_LIMITS, maxContentBytes: config.messages.maxContentBytes }
  const sessions = new ClientSessions({ ownTag: clientTag(self) })
  const link = new FipaLink({ libp2p, ackTimeoutMs: config.messages.ackTimeoutMs, limits, logger: componentLogger(root, 'delivery:link'), metrics, onRefusedFrame: refusedFrames.note })
  const delivery = new DeliveryService({
    self,
    storage,
    runtime,
    clients: sessions,
    routes: locator,
    health: membership,
    link,
    config: { ...config.delivery, ackTimeoutMs: config.messages.ackTimeoutMs },
    limits,
    recentLimit: config.messages.recentLimit,
    newId: randomUUID,
    observer: { observe: (m, outgoing, ops) => { wired.conversations?.observe(m, outgoing, ops) } },
    onRefusedFrame: refusedFrames.note,
    logger: componentLogger(root, 'delivery'),
    metrics
  })
  const conversations = new ConversationService({
    // Written with delivery's rows (in memory too when delivery.durable is false).
    rows: delivery.sublevel('conversations'),
    idleMs: config.conversations.idleTimeoutMs,
    maxInMemory: config.conversations.maxInMemory,
    isLocal: (id) => runtime.has(id) || sessions.has(id),
    pending: (messageId) => delivery.pending(messageId),
    accept: async (messages) => { await delivery.accept(messages) },
    write: async (ops) => { await delivery.write(ops) },
    newId: randomUUID,
    limits,
    logger: componentLogger(root, 'conversations')
  })
  // Written with delivery's rows, in the commits of the messages that change them. The
  // capabilities an agent declared are published by `agents` (onHandled above).
  const agentState = new AgentStateService({
    kvRows: delivery.sublevel('agent-kv'),
    capabilityRows: delivery.sublevel('agent-capabilities'),
    timers: new TimerService({
      rows: delivery.sublevel('timers'),
      accept: async (messages, ops) => { await delivery.accept(messages, ops) },
      limits,
      newId: randomUUID,
      logger: componentLogger(root, 'timers'),
      metrics
    }),
    kvQuotaBytes: config.agents.kvQuotaBytes,
    maxTimers: config.agents.maxTimers,
    write: async (ops) => { await delivery.write(ops) },
    logger: componentLogger(root, 'agent-state'),
    metrics
  })
  // Message and conversation ids: random UUIDs from a pool, cheaper than randomUUID (see RandomPool.uuid).
  const ids = new RandomPool()
  const router = new MessageRouter({ localPeer: self, runtime, locator, sink: delivery, clients: sessions, limits, newId: () => ids.uuid(), newConversationId: () => conversations.minted(ids.uuid()), logger: componentLogger(root, 'router'), metrics })
  const agents = new AgentManager({ self, runtime, store: new AgentStore(storage, meteredModules), registry, providers, locator, delivery, state: agentState, keepVersions: config.agents.keepVersions, logger: log })
  Object.assign(wired, { router, delivery, agents, conversations, agentState })
  // A member back from the dead gets its waiting messages now; a newly registered agent
  // releases messages that waited for its route.
  membership.addEventListener('member:alive', (evt) => { delivery.peerBack(evt.detail) })
  registry.addEventListener('change', () => { delivery.routesChanged() })
  return { runtime, router, delivery, conversations, sessions, agents, agentState }
}
