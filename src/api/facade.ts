/**
 * What the REST API needs from a node: the narrow, injected collaborator of `api/`.
 * `node/` implements it; tests of the API implement it with a fake.
 */
import type { AclMessage, AgentId } from '../../protocols/fipa/types.js'
import type { AgentInfo, AgentLimits } from '../runtime/types.js'

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

export interface MessageRecord {
  /** ms since the epoch. */
  at: number
  /** `in`: arrived from a peer; `out`: sent to a peer; `local`: delivered on this node. */
  direction: 'in' | 'out' | 'local'
  /** `delivered`, `failed`, `rejected` (malformed), `dead-letter`. */
  status: 'delivered' | 'failed' | 'rejected' | 'dead-letter'
  /** Peer id of the other node, for `in`/`out`. */
  peer?: string
  /** Why it failed or was rejected. */
  reason?: string
  message: AclMessage
}

export interface PeerSummary {
  peerId: string
  multiaddrs: string[]
  /** Whether a libp2p connection is open now. */
  connected: boolean
  /** Round-trip time of the last ping, ms, when known. */
  latencyMs?: number
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
   * Sends a message into the cluster.
   * @throws AclValidationError (400), AgentNotFoundError (404: no node hosts `to`),
   *   ReplyTimeoutError (504: `waitMs` passed without a reply)
   */
  sendMessage: (req: SendRequest) => Promise<SendOutcome>
  /** Recent messages, newest first. */
  recentMessages: (query: { limit?: number, agent?: AgentId, conversationId?: string }) => MessageRecord[]
  peers: () => PeerSummary[]
  /** Prometheus exposition text. */
  metrics: () => Promise<{ contentType: string, body: string }>
}
