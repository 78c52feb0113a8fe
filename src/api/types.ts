/**
 * The REST API's wire shapes: what goes over HTTP as JSON. Shared by the server
 * (`api/`) and its client (`cli/client.ts`) so both sides type-check against one
 * definition. Where the facade's types are already plain JSON (`AgentInfo`, `NodeInfo`,
 * `Readiness`, `PeerSummary`) they are reused as they are.
 */
import type { AclContentJson, AclMessageJson } from '../../protocols/fipa/index.js'
import type { AgentId } from '../../protocols/fipa/types.js'
import type { AgentInfo, AgentLimits } from '../runtime/types.js'
import type {
  AgentVersionJson, AgentVersionsJson, CapabilityJson, DeadLetterJson, DeadLetterListQuery, FaultStateJson, MessageRecord, NodeInfo, PeerDeliveryJson, PeerSummary, Readiness,
  RegisteredAgentJson, RegistryListQuery, RegistrySummaryJson
} from './facade.js'
import type { DeliveryState, HandledEntry, MessageStatus, ReceiverStatus } from '../delivery/types.js'
import type { DeadLetterCause } from '../../protocols/delivery/index.js'

export type { AgentInfo, AgentLimits, NodeInfo, PeerDeliveryJson, PeerSummary, Readiness }
export type { AgentVersionJson, AgentVersionsJson, CapabilityJson, FaultStateJson, RegisteredAgentJson, RegistryListQuery, RegistrySummaryJson }
/** Durable delivery's JSON shapes, as the node defines them (protocols/delivery/SPEC.md). */
export type { DeadLetterCause, DeadLetterJson, DeadLetterListQuery, DeliveryState, HandledEntry, ReceiverStatus }

/**
 * Message content in JSON (a string stays a string, bytes become `{ base64 }`) and a
 * message in JSON form: the FIPA codec's definitions (`protocols/fipa/SPEC.md` §2).
 */
export type { AclContentJson, AclMessageJson }

/**
 * The body of `POST /agents/:id/messages`: a FIPA-ACL message in JSON form without
 * `receivers` (the `:id` in the URL is the receiver). Everything but `performative` is
 * optional (`null` counts as absent); the node fills in `sender`, `messageId`,
 * `createdAt`, `conversationId` and `replyWith` when they are missing. The performative
 * may be spelled loosely (`"request"`, `"not_understood"`).
 */
export interface MessageDraftJson {
  performative: string
  sender?: AgentId
  replyTo?: AgentId[]
  content?: AclContentJson
  language?: string
  encoding?: string
  ontology?: string
  protocol?: string
  conversationId?: string
  replyWith?: string
  inReplyTo?: string
  /** ms since the epoch. */
  replyBy?: number
  messageId?: string
  /** ms since the epoch. */
  createdAt?: number
  traceparent?: string
  tracestate?: string
}

/** The JSON body of `POST /agents` (the other form is a raw `application/wasm` body). */
export interface DeployBodyJson {
  id: AgentId
  /** The module, base64 (RFC 4648 §4, padded). */
  wasm: string
  limits?: Partial<AgentLimits>
  /** What the agent offers, published in the cluster registry. */
  capabilities?: CapabilityJson[]
}

/** An agent as `GET /agents/:id` (and deploy, upgrade, rollback) answer it. */
export type AgentJson = AgentInfo & {
  /** 1 at deploy, one more at each upgrade or rollback. */
  version?: number
  capabilities?: CapabilityJson[]
}

/** `PUT /agents/:id` (JSON form): a new version; limits and capabilities not given are the current version's. */
export type UpgradeBodyJson = Omit<DeployBodyJson, 'id'>

/** `GET /registry/agents` → 200. */
export interface RegistryListResponse {
  agents: RegisteredAgentJson[]
  /** Matches before `limit`. */
  total: number
}

/** `GET /agents` → 200. */
export interface AgentListResponse {
  agents: AgentInfo[]
}

/** `POST /agents/:id/messages` → 202 (no `reply`) or 200 (with `reply`). */
export interface SendResponse {
  messageId: string
  conversationId: string
  /** The sender id the message went out under (replies are addressed to it). */
  sender: AgentId
  reply?: AclMessageJson
}

/** A {@link MessageRecord} with its message in JSON form. */
export type MessageRecordJson = Omit<MessageRecord, 'message'> & { message: AclMessageJson }

/** `GET /messages` → 200, newest first. */
export interface MessageListResponse {
  messages: MessageRecordJson[]
}

/** `GET /cluster/peers` → 200. */
export interface PeerListResponse {
  peers: PeerSummary[]
}

/** `GET /health` → 200. */
export interface HealthResponse {
  status: 'ok'
}

/** Query of `GET /messages`. */
export interface MessageQuery {
  /** 1..1000. @default 50 */
  limit?: number
  agent?: AgentId
  conversationId?: string
}

/** Every error response: `{ error: { code, message, details? } }`. */
export interface ErrorBody {
  error: {
    /** Stable machine-readable code, e.g. `AGENT_NOT_FOUND`, `REQUEST_INVALID`. */
    code: string
    message: string
    details?: unknown
  }
}

/** `GET /messages/:id` → 200: where each receiver's copy stands, as the node answering knows it. */
export type MessageStatusResponse = MessageStatus

/** Query of `GET /messages/handled`. */
export interface HandledLogQuery {
  /** The `key` of the last entry already read: the answer starts after it. */
  after?: string
  /** 1..10000. @default 1000 */
  limit?: number
}

/** `GET /messages/handled` → 200, oldest first (empty unless the node runs with `delivery.handledLog`). */
export interface HandledLogResponse {
  entries: HandledEntry[]
}

/** The filters of `GET /dead-letters` and `DELETE /dead-letters` (all of them: every entry). */
export type DeadLetterFilter = Omit<DeadLetterListQuery, 'limit'>

/** `GET /dead-letters` → 200, newest first. */
export interface DeadLetterListResponse {
  deadLetters: DeadLetterJson[]
  /** Entries matching the filters, before `limit`. */
  total: number
}

/** `POST /dead-letters/:id/replay` → 202: the message, under its own id, is queued again for `receiver`. */
export interface ReplayResponse {
  messageId: string
  receiver: AgentId
}

/** `DELETE /dead-letters` → 200. */
export interface PurgeResponse {
  /** How many entries were deleted. */
  deleted: number
}
