/**
 * Reply builders (FIPA SC00061G §2.2 `reply-to`, §2.5 `conversation-id`, `reply-with`,
 * `in-reply-to`). Pure: the new message's id and time come in as a `stamp`, so the caller
 * owns clock and ids.
 */
import { DEFAULT_ACL_LIMITS } from './validate.js'
import { firstDuplicate, isAgentId, isBoundedString, isTraceparent00, isWellFormed, TRACESTATE_PATTERN } from './rules.js'
import type { AclMessage, AgentId, Performative } from './types.js'

/** Identity of a new message: what the router would stamp. */
export interface MessageStamp {
  messageId: string
  /** ms since the epoch. */
  createdAt: number
}

/** Fields of a reply the caller may set. Conversation and threading fields are not among them. */
export type ReplyFields = Partial<Pick<AclMessage,
'sender' | 'receivers' | 'replyTo' | 'content' | 'language' | 'encoding' | 'ontology' | 'protocol' |
'replyWith' | 'replyBy' | 'traceparent' | 'tracestate'>>

/**
 * The sender of the messages a node itself writes (FAILURE, NOT-UNDERSTOOD): the FIPA Agent
 * Management System (FIPA SC00023K §4.2). No agent may be deployed under this id, and no
 * node answers a message from it with FAILURE or NOT-UNDERSTOOD (no report loops).
 */
export const SYSTEM_AGENT = 'ams'

/** Longest reason carried by `notUnderstood` / `failure`, UTF-16 code units; longer ones are cut. */
export const MAX_REASON_CHARS = 4096

/**
 * A reply to `original` (FIPA SC00061G §2.2, §2.5):
 * - `receivers`: `original.replyTo`, else `[original.sender]`
 * - `sender`: `fields.sender`, else `original.receivers[0]`
 * - `conversationId`: copied; `inReplyTo`: `original.replyWith ?? original.messageId`
 * - `protocol`, `ontology`, `language`, `traceparent`, `tracestate`: copied unless `fields` sets them
 * - `content`, `encoding`, `replyTo`, `replyWith`, `replyBy`: only from `fields`
 *
 * The result is not validated (the router validates what it sends).
 * @example
 * const agree = createReply(request, 'AGREE', { messageId: 'm2', createdAt: now })
 */
export function createReply (original: AclMessage, performative: Performative, stamp: MessageStamp, fields: ReplyFields = {}): AclMessage {
  const reply: AclMessage = {
    messageId: stamp.messageId,
    createdAt: stamp.createdAt,
    performative,
    sender: fields.sender ?? original.receivers[0],
    receivers: (fields.receivers ?? original.replyTo ?? [original.sender]).slice()
  }
  const set = <K extends keyof AclMessage>(key: K, value: AclMessage[K] | undefined): void => {
    if (value !== undefined) reply[key] = value
  }
  set('replyTo', fields.replyTo?.slice())
  set('content', fields.content)
  set('language', fields.language ?? original.language)
  set('encoding', fields.encoding)
  set('ontology', fields.ontology ?? original.ontology)
  set('protocol', fields.protocol ?? original.protocol)
  set('conversationId', original.conversationId)
  set('replyWith', fields.replyWith)
  set('inReplyTo', original.replyWith ?? original.messageId)
  set('replyBy', fields.replyBy)
  set('traceparent', fields.traceparent ?? original.traceparent)
  set('tracestate', fields.tracestate ?? original.tracestate)
  return reply
}

/**
 * NOT-UNDERSTOOD (FIPA SC00037J §3.11) to a message that could not be accepted, e.g.
 * because it failed validation. Works on whatever could be read of `original`: it needs a
 * usable `sender` (a valid agent id) to answer, and copies each threading field
 * (`replyTo` as receivers, `conversationId`, `replyWith`/`messageId` as `inReplyTo`,
 * `protocol`, `traceparent`, `tracestate`) only when that field is itself valid.
 *
 * Content: SC00037J's content is the act not understood plus a reason; Caxton carries only
 * the reason, as plain text (cut to {@link MAX_REASON_CHARS}), since the act could not be read.
 * @param sender who answers (the intended receiver, or the node's router id)
 * @returns the reply, or `undefined` when `original` has no usable sender to reply to
 */
export function notUnderstood (original: unknown, reason: string, sender: AgentId, stamp: MessageStamp): AclMessage | undefined {
  if (typeof original !== 'object' || original === null) return undefined
  const o = original as Record<string, unknown>
  if (!isAgentId(o.sender)) return undefined
  const l = DEFAULT_ACL_LIMITS
  const replyTo = isAgentList(o.replyTo, l.maxReceivers) ? o.replyTo.slice() : [o.sender]
  const reply: AclMessage = {
    messageId: stamp.messageId,
    createdAt: stamp.createdAt,
    performative: 'NOT-UNDERSTOOD',
    sender,
    receivers: replyTo,
    content: reasonText(reason)
  }
  if (isBoundedString(o.protocol, l.maxFieldChars)) reply.protocol = o.protocol
  if (isBoundedString(o.conversationId, l.maxIdChars)) reply.conversationId = o.conversationId
  const inReplyTo = isBoundedString(o.replyWith, l.maxIdChars) ? o.replyWith : isBoundedString(o.messageId, l.maxIdChars) ? o.messageId : undefined
  if (inReplyTo !== undefined) reply.inReplyTo = inReplyTo
  if (isTraceparent00(o.traceparent)) reply.traceparent = o.traceparent
  if (typeof o.tracestate === 'string' && o.tracestate.length <= l.maxFieldChars && TRACESTATE_PATTERN.test(o.tracestate)) {
    reply.tracestate = o.tracestate
  }
  return reply
}

/**
 * FAILURE (FIPA SC00037J §3.7): the action `original` asked for, or its delivery, failed.
 * A reply as {@link createReply} builds it, with the reason as plain-text content (cut to
 * {@link MAX_REASON_CHARS}); `language`, `ontology` and `encoding` are not copied since
 * they described the original's content, not this one.
 * @param sender who reports the failure (the receiver, or the node's router id)
 */
export function failure (original: AclMessage, reason: string, sender: AgentId, stamp: MessageStamp): AclMessage {
  const reply = createReply(original, 'FAILURE', stamp, { sender, content: reasonText(reason) })
  delete reply.language
  delete reply.ontology
  return reply
}

function isAgentList (x: unknown, max: number): x is string[] {
  return Array.isArray(x) && x.length > 0 && x.length <= max && x.every(isAgentId) && firstDuplicate(x) < 0
}

const toWellFormed = String.prototype as unknown as { toWellFormed: (this: string) => string }

/** A reason as content: a string, well-formed (lone surrogates → U+FFFD), at most MAX_REASON_CHARS. */
function reasonText (reason: unknown): string {
  let s = typeof reason === 'string' ? reason : String(reason)
  if (s.length > MAX_REASON_CHARS) s = s.slice(0, MAX_REASON_CHARS)
  return isWellFormed(s) ? s : toWellFormed.toWellFormed.call(s)
}
