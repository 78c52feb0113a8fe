/**
 * The narrow interfaces durable delivery works through, and its settings. The node wires
 * them (src/node); tests implement them with fakes.
 */
import type { AclMessage, AgentId } from '../../protocols/fipa/types.js'
import type { DeadLetterCause } from '../../protocols/delivery/index.js'

/**
 * API clients (REST, CLI) connected to this node: ids that are not agents but receive
 * replies, in memory (src/api's sessions implement it).
 */
export interface LocalClients {
  has: (id: AgentId) => boolean
  /** Hands a message to a client (a waiting request, or nobody: dropped). */
  deliver: (id: AgentId, message: AclMessage) => void
}

/** Membership's word on a peer. */
export interface PeerHealth {
  /** Why `peer` cannot be reached now (`node X is dead`), or undefined while it may be. */
  downReason: (peer: string) => string | undefined
}

/** Where agents are (src/routing's locator). */
export interface AgentRoutes {
  /** The hosting peer from what this node knows (no I/O), or undefined. */
  lookup: (agentId: AgentId) => string | undefined
  /** Like `lookup`, then asks the cluster, bounded in time. */
  resolve: (agentId: AgentId, options?: { exclude?: string }) => Promise<string | undefined>
  /** `peer` answered that it does not host `agentId`. */
  forget: (agentId: AgentId, peer: string) => void
  /** Inbound traffic showed that `agentId` (a sender) is reachable through `peer`. */
  learn: (agentId: AgentId, peer: string) => void
  /** The node the cluster registry names for `agentId` (registered agents only). */
  registeredOn: (agentId: AgentId) => string | undefined
  /** The node `agentId` was learned from (unregistered ids: API clients), if any. */
  learnedFrom: (agentId: AgentId) => string | undefined
}

/** Settings of durable delivery (config section `delivery`). */
export interface DeliveryConfig {
  /** Deadline of a message without `replyBy`: accepted at + ttlMs. */
  ttlMs: number
  /** No deadline lies further out than this from acceptance, `replyBy` included. */
  maxTtlMs: number
  retryBaseMs: number
  retryFactor: number
  retryCapMs: number
  breakerThreshold: number
  breakerCoolDownMs: number
  /** Entries awaiting acks per peer. */
  maxInFlightPerPeer: number
  outboxMaxMessages: number
  outboxMaxBytes: number
  outboxMaxMessagesPerPeer: number
  outboxMaxBytesPerPeer: number
  deadLetterMax: number
  /** fsync each group commit. */
  sync: boolean
  /** Persist delivery state (false: kept in memory, lost in a crash; for benchmarks). */
  durable: boolean
  /** Keep a log of every handled message (for chaos accounting). */
  handledLog: boolean
  /** How long a sender waits for a peer's ack before giving the stream up, ms. */
  ackTimeoutMs: number
}

/** Where one receiver's copy of a message stands, as this node knows it. */
export type DeliveryState =
  /** In this node's outbox, not sent yet (or waiting for a retry). */
  | 'queued'
  /** Sent to the receiving node, ack not yet back. */
  | 'sent'
  /** The receiving node persisted it (its ack came back), or it was put in a local agent's inbox. */
  | 'delivered'
  /** The receiving agent's handler returned (known on the receiving node). */
  | 'handled'
  /** Given up: in a dead-letter queue, its sender told with FAILURE. */
  | 'dead-lettered'

/** `GET /messages/:id`: one entry per receiver this node knows about. */
export interface ReceiverStatus {
  receiver: AgentId
  state: DeliveryState
  /** When it reached this state, ms since the epoch. */
  at: number
  /** The node it was sent to (sending side) or came from (receiving side). */
  peer?: string
  attempts?: number
  /** Why the last attempt failed, or why it was dead-lettered. */
  reason?: string
  cause?: DeadLetterCause
  /** The dead-letter entry's id, when dead-lettered here. */
  deadLetterId?: string
}

export interface MessageStatus {
  messageId: string
  sender?: AgentId
  receivers: ReceiverStatus[]
}

/** A line of the handled log (`delivery.handledLog`): one per message an agent here handled. */
export interface HandledEntry {
  /** Position in the log (sortable). */
  key: string
  receiver: AgentId
  messageId: string
  sender: AgentId
  performative: string
  inReplyTo?: string
  conversationId?: string
  /** ms since the epoch. */
  at: number
  /** Ids of the messages the handler sent (committed with it). */
  sent: string[]
}

/** One line of the recent-message log (`GET /messages`). */
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
