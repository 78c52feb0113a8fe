/**
 * What the REST API needs from a node: the narrow, injected collaborator of `api/`.
 * `node/` implements it; tests of the API implement it with a fake.
 */
import type { AclMessage, AgentId } from '../../protocols/fipa/types.js'
import type { AgentStatus, Capability, HlcTimestamp } from '../../protocols/registry/types.js'
import type { AgentInfo, AgentLimits } from '../runtime/types.js'
import type { AgentVersion } from '../storage/index.js'
import type { DeadLetterCause, DeadLetterRecord } from '../../protocols/delivery/index.js'
import type { HandledEntry, MessageStatus } from '../delivery/types.js'
import type { Conversation } from '../../protocols/fipa/conversations.js'

export interface NodeInfo {
  peerId: string
  name: string
  /** Listen addresses, each ending in `/p2p/<peerId>`. */
  multiaddrs: string[]
  /** `http://host:port` of the REST API. */
  api: string
  version: string
  /** ms since the epoch. */
  startedAt: number
}

export interface Readiness {
  ready: boolean
  /** One entry per subsystem, e.g. `storage`, `libp2p`, `runtime`. */
  checks: Record<string, { ok: boolean, detail?: string }>
}

export interface DeployRequest {
  id: AgentId
  /** The module, bytes. */
  wasm: Uint8Array
  limits?: Partial<AgentLimits>
  /**
   * What the agent offers, published in the cluster registry (unvalidated: the node
   * checks it, `CAPABILITY_INVALID` 400).
   */
  capabilities?: unknown[]
}

/** `PUT /agents/:id`: a new version of an agent; what is not given is the current version's. */
export interface UpgradeRequest {
  id: AgentId
  /** The new module, bytes. */
  wasm: Uint8Array
  limits?: Partial<AgentLimits>
  /** Unvalidated, as in {@link DeployRequest}. */
  capabilities?: unknown[]
}

/** One kept version of an agent (`GET /agents/:id/versions`), as the node stores it. */
export type AgentVersionJson = AgentVersion

/** `GET /agents/:id/versions`: oldest first, the current one last. */
export interface AgentVersionsJson {
  id: AgentId
  /** The version running. */
  version: number
  versions: AgentVersionJson[]
}

/** A capability: `name` (what discovery matches), optional `description`, `version`, and `schema` (JSON Schema of accepted content). */
export type CapabilityJson = Capability

/** An agent as the cluster registry knows it (`GET /registry/agents/:id`). */
export interface RegisteredAgentJson {
  id: AgentId
  /** PeerId of the hosting node. */
  node: string
  /** Lifecycle state as the hosting node published it. */
  state: string
  /** `state`, or `unreachable` while membership holds the hosting node dead. */
  status: AgentStatus
  reachable: boolean
  /** Whether this node hosts it. */
  local: boolean
  capabilities: CapabilityJson[]
  /** ms since the epoch (the writer's clock). */
  updatedAt: number
  /** The winning write: its writer, write sequence number and hybrid logical timestamp. */
  version: { by: string, seq: number, hlc: HlcTimestamp }
  /** Concurrent writes not yet superseded, beyond the winner (0 normally). */
  conflicts: number
  /** The agent's version on its node (1, 2, 3...: deploy, then each upgrade or rollback), when the node publishes one. */
  agentVersion?: number
}

/** Query of `GET /registry/agents`. */
export interface RegistryListQuery {
  /** Exact capability name. */
  capability?: string
  /** Hosting node (PeerId). */
  node?: string
  /** Only agents whose node is reachable (`true`) or unreachable (`false`). */
  reachable?: boolean
  /** Most agents returned (sorted by id). */
  limit?: number
}

/** The replica's state (`GET /registry`). */
export interface RegistrySummaryJson {
  nodeId: string
  agents: number
  entries: number
  tombstones: number
  /** Hex root of the anti-entropy digest: equal on two nodes ⇔ same registry. */
  digest: string
  capabilities: string[]
  unreachableNodes: string[]
  healthy: boolean
  stats: Record<string, number>
}

/** The cluster registry as the REST API reads it. */
export interface RegistryFacade {
  /** Live agents matching the query, sorted by id; `total` counts them before `limit`. */
  list: (query: RegistryListQuery) => { agents: RegisteredAgentJson[], total: number }
  /** @throws RegistryAgentNotFoundError (404 REGISTRY_AGENT_NOT_FOUND) */
  get: (id: AgentId) => RegisteredAgentJson
  summary: () => RegistrySummaryJson
}

/** What is cut now by fault injection. */
export interface FaultStateJson {
  isolated: boolean
  blocked: string[]
}

/** Fault injection (only on a node started with `--enable-faults`). */
export interface FaultFacade {
  state: () => FaultStateJson
  /** `peers` absent: isolate from everyone. @throws InvalidFaultRequestError (400) */
  partition: (req: { peers?: string[] }) => Promise<FaultStateJson>
  /** `peers` absent: heal everything. @throws InvalidFaultRequestError (400) */
  heal: (req: { peers?: string[] }) => Promise<FaultStateJson>
}

/** A member's state in the membership protocol (SWIM): `alive`, `suspect`, `dead`, or `left` (gracefully). */
export type MemberStateJson = 'alive' | 'suspect' | 'dead' | 'left'

/** One member of the cluster as this node's membership sees it (`GET /cluster/members`). */
export interface MemberJson {
  /** PeerId. */
  id: string
  state: MemberStateJson
  /** The member's incarnation number: raised by the member itself to refute a suspicion. */
  incarnation: number
  /** Its multiaddrs, each ending in `/p2p/<id>`. */
  addrs: string[]
  /** Whether this is the node answering. */
  self: boolean
  /** When this node saw the state last change, ms since the epoch. */
  changedAt: number
}

/** `GET /cluster/members`. */
export interface MemberListJson {
  /** This node's PeerId. */
  self: string
  /** This node's incarnation. */
  incarnation: number
  /** Local health score (Lifeguard): 0 healthy; probe timeouts are stretched by score + 1. */
  healthScore: number
  /** Members by state, this node included. */
  counts: Record<MemberStateJson, number>
  /** This node first, then by id; dead and left members until they are forgotten. */
  members: MemberJson[]
}

/** Cluster membership as the REST API reads it. */
export interface MembershipFacade {
  /** Every member known, optionally only those in `state`. */
  list: (query: { state?: MemberStateJson }) => MemberListJson
}

export interface SendRequest {
  /** The receiving agent (`:id` in the URL); added to the draft's receivers. */
  to: AgentId
  /**
   * The message as the client wrote it (JSON form, unvalidated): the router validates
   * it and fills in `sender` (a client id), `messageId`, `createdAt`, `conversationId`
   * and `replyWith` when missing.
   */
  draft: Record<string, unknown>
  /** Wait up to this many ms for the first reply in the conversation. */
  waitMs?: number
}

export interface SendOutcome {
  messageId: string
  conversationId: string
  /** The sender id the message went out under (replies are addressed to it). */
  sender: AgentId
  /** The first reply (when `waitMs` was given and one arrived in time). */
  reply?: AclMessage
}

/** One line of the recent-message log (`GET /messages`); defined by src/delivery. */
export type { MessageRecord } from '../delivery/types.js'
import type { MessageRecord } from '../delivery/types.js'

export interface PeerSummary {
  peerId: string
  multiaddrs: string[]
  /** Whether a libp2p connection is open now. */
  connected: boolean
  /** Durable delivery to this peer. */
  delivery?: PeerDeliveryJson
}

/** Durable delivery to one peer (`GET /cluster/peers`). */
export interface PeerDeliveryJson {
  /** Its circuit breaker: `open` while nothing is sent to it, `half-open` while one probe is. */
  breaker: 'closed' | 'open' | 'half-open'
  /** Deliveries in a row that got no answer. */
  consecutiveFailures: number
  /** Times the breaker opened. */
  trips: number
  /** Messages sent and awaiting its ack. */
  inFlight: number
  /** Messages in the outbox for it (routed to it when accepted). */
  queued: number
}

/** A dead letter (`GET /dead-letters/:id`): a message that could not be delivered to one receiver. */
export type DeadLetterJson = Omit<DeadLetterRecord, 'message'> & { message: AclMessageJsonLike }

/** The message of a dead letter, in the JSON form of protocols/fipa/SPEC.md §2. */
export type AclMessageJsonLike = Record<string, unknown>

/** Query of `GET /dead-letters`. */
export interface DeadLetterListQuery {
  /** The receiver or the sender is this agent. */
  agent?: string
  cause?: DeadLetterCause
  /** Dead-lettered at or after, ms since the epoch. */
  since?: number
  /** Most entries, newest first. */
  limit?: number
}

/** The dead-letter queue as the REST API reads and changes it. */
export interface DeadLetterFacade {
  list: (query: DeadLetterListQuery) => Promise<{ entries: DeadLetterRecord[], total: number }>
  /** @throws DeadLetterNotFoundError (404 DEAD_LETTER_NOT_FOUND) */
  get: (id: string) => Promise<DeadLetterRecord>
  /** Sends it again (it leaves the queue). @throws DeadLetterNotFoundError, OutboxFullError */
  replay: (id: string) => Promise<{ messageId: string, receiver: AgentId }>
  /** @throws DeadLetterNotFoundError */
  delete: (id: string) => Promise<void>
  /** Deletes every entry matching the query (all without one). @returns how many */
  purge: (query: Omit<DeadLetterListQuery, 'limit'>) => Promise<number>
}

export interface NodeFacade {
  info: () => NodeInfo
  readiness: () => Readiness
  /** @throws InvalidModuleError (400), AgentExistsError (409), InvalidAgentIdError (400) */
  deployAgent: (req: DeployRequest) => Promise<AgentInfo>
  /** Agents hosted by this node. */
  listAgents: () => AgentInfo[]
  /** @throws AgentNotFoundError (404) */
  getAgent: (id: AgentId) => AgentInfo
  /** @throws AgentNotFoundError (404) */
  removeAgent: (id: AgentId) => Promise<void>
  /**
   * Drains and stops an agent; what it did not handle waits for its start.
   * @throws AgentNotFoundError (404), AgentStateError (409)
   */
  stopAgent: (id: AgentId) => Promise<AgentInfo>
  /**
   * Starts a stopped or failed agent again from its module.
   * @throws AgentNotFoundError (404), AgentStateError (409), InvalidModuleError (400: its start function failed)
   */
  startAgent: (id: AgentId) => Promise<AgentInfo>
  /** Suspends a running agent (it keeps its state, handles nothing). @throws AgentNotFoundError (404), AgentStateError (409) */
  suspendAgent: (id: AgentId, reason?: string) => Promise<AgentInfo>
  /** Resumes a suspended agent. @throws AgentNotFoundError (404), AgentStateError (409) */
  resumeAgent: (id: AgentId) => Promise<AgentInfo>
  /**
   * Upgrades an agent in place to a new version (see docs/api.md "Upgrades").
   * @throws AgentNotFoundError (404), InvalidModuleError (400: the old version runs on),
   *   InvalidCapabilityError (400), AgentStateError (409), LimitTooHighError (400), AgentQuotaExceededError
   */
  upgradeAgent: (req: UpgradeRequest) => Promise<AgentInfo & { version: number }>
  /** The kept versions of an agent. @throws AgentNotFoundError (404) */
  agentVersions: (id: AgentId) => AgentVersionsJson
  /**
   * Rolls back to a kept version (default: the one before the current one), as a new version.
   * @throws AgentNotFoundError (404), AgentVersionNotFoundError (404), InvalidModuleError (400), AgentStateError (409)
   */
  rollbackAgent: (id: AgentId, version?: number) => Promise<AgentInfo & { version: number }>
  /**
   * Sends a message into the cluster.
   * Resolves once the message is accepted durably (in the outbox or the receiver's inbox).
   * @throws AclValidationError (400), AgentNotFoundError (404: no node hosts `to`),
   *   OutboxFullError (503, Retry-After), ReplyTimeoutError (504: `waitMs` passed without a reply)
   */
  sendMessage: (req: SendRequest) => Promise<SendOutcome>
  /** Recent messages, newest first. */
  recentMessages: (query: { limit?: number, agent?: AgentId, conversationId?: string }) => MessageRecord[]
  /** Where a message stands, per receiver. @throws MessageNotFoundError (404) */
  messageStatus?: (messageId: string) => Promise<MessageStatus>
  /** A conversation as this node knows it. @throws ConversationNotFoundError (404) */
  conversation?: (id: string) => Promise<Conversation>
  /** Lines of the handled log (`delivery.handledLog`), oldest first after `after`. */
  handledLog?: (query: { after?: string, limit?: number }) => Promise<HandledEntry[]>
  /** The dead-letter queue (`/dead-letters` routes exist only when present). */
  deadLetters?: DeadLetterFacade
  peers: () => PeerSummary[]
  /** Prometheus exposition text. */
  metrics: () => Promise<{ contentType: string, body: string }>
  /** The cluster registry (`/registry/*` routes exist only when present). */
  registry?: RegistryFacade
  /** Fault injection (`/faults/*` routes exist only when present: `--enable-faults`). */
  faults?: FaultFacade
  /** Cluster membership (`GET /cluster/members` exists only when present). */
  membership?: MembershipFacade
}
