/**
 * The FIPA-ACL message model (FIPA SC00061G, "ACL Message Structure Specification"), as
 * Caxton carries it. Shapes only: validation, codecs and reply helpers live beside it.
 */

/**
 * The 22 communicative acts of FIPA SC00037J ("Communicative Act Library
 * Specification"), spelled as Caxton's canonical form: upper case, words joined by `-`.
 * The index of each entry is its stable wire number (used by the agent ABI); never
 * reorder, only append.
 */
export const PERFORMATIVES = [
  'ACCEPT-PROPOSAL',
  'AGREE',
  'CANCEL',
  'CFP',
  'CONFIRM',
  'DISCONFIRM',
  'FAILURE',
  'INFORM',
  'INFORM-IF',
  'INFORM-REF',
  'NOT-UNDERSTOOD',
  'PROPAGATE',
  'PROPOSE',
  'PROXY',
  'QUERY-IF',
  'QUERY-REF',
  'REFUSE',
  'REJECT-PROPOSAL',
  'REQUEST',
  'REQUEST-WHEN',
  'REQUEST-WHENEVER',
  'SUBSCRIBE'
] as const

export type Performative = typeof PERFORMATIVES[number]

/**
 * An agent identifier: the agent's name, unique in the cluster
 * (`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`). Which node hosts it is the router's business,
 * not the sender's.
 */
export type AgentId = string

/** Message content: raw bytes, or a string (carried as UTF-8). */
export type AclContent = Uint8Array | string

/**
 * A validated FIPA-ACL message. Field names are the FIPA parameter names in camelCase
 * (`reply-with` → `replyWith`). Times are milliseconds since the Unix epoch. The rules
 * (lengths, limits, syntax) are in `SPEC.md` §1 and enforced by `validateMessage`.
 */
export interface AclMessage {
  /** Caxton extension: unique id stamped by the first router that sees the message. */
  messageId: string
  /** Caxton extension: when the message was created, ms since the epoch. */
  createdAt: number
  performative: Performative
  sender: AgentId
  /** FIPA `receiver`: one or more agents. */
  receivers: AgentId[]
  /** FIPA `reply-to`: where replies should go instead of `sender`. */
  replyTo?: AgentId[]
  content?: AclContent
  language?: string
  encoding?: string
  ontology?: string
  protocol?: string
  conversationId?: string
  replyWith?: string
  inReplyTo?: string
  /** FIPA `reply-by`: latest time a reply is useful, ms since the epoch. */
  replyBy?: number
  /** W3C Trace Context `traceparent` header value (version 00). */
  traceparent?: string
  /** W3C Trace Context `tracestate` header value. */
  tracestate?: string
}
