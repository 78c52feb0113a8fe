/**
 * FIPA-ACL for Caxton: the message model (FIPA SC00061G), the 22 performatives
 * (SC00037J), validation, the msgpack and JSON forms, reply builders, W3C trace context,
 * and the frames of `/caxton/fipa/1.0.0`. Pure: no I/O, no clock, no randomness of its
 * own. The formats are specified in `SPEC.md` beside this file.
 *
 * @example
 * ```ts
 * import { randomBytes } from 'node:crypto'
 * import {
 *   validateMessage, encodeMessage, decodeMessage, messageFromJson, messageToJson,
 *   createReply, newTraceparent, encodeFrame, decodeFrame, FrameDecodeError
 * } from '../protocols/fipa/index.js'
 *
 * // REST: JSON in, a valid message out (AclValidationError names every bad field).
 * const request = messageFromJson({
 *   messageId: 'm1', createdAt: Date.now(), performative: 'request',
 *   sender: 'buyer', receivers: ['seller'], content: 'price?', conversationId: 'c1',
 *   traceparent: newTraceparent(n => randomBytes(n))
 * })
 *
 * // Wire: one frame per message, acked by seq.
 * const bytes = encodeFrame({ type: 'deliver', seq: 0, message: request })
 * try {
 *   const frame = decodeFrame(bytes)            // on the receiving node
 *   if (frame.type === 'deliver') accept(frame.message)
 * } catch (err) {
 *   if (err instanceof FrameDecodeError && err.seq !== undefined) {
 *     send(encodeFrame({ type: 'ack', seq: err.seq, status: 'rejected', reason: err.reason }))
 *   }
 * }
 *
 * // Replies: threading fields are set from the original.
 * const agree = createReply(request, 'AGREE', { messageId: 'm2', createdAt: Date.now() })
 * // agree.receivers = ['buyer'], agree.inReplyTo = 'm1', agree.conversationId = 'c1'
 * const stored = decodeMessage(encodeMessage(agree))
 * console.log(messageToJson(stored))
 * ```
 */
export { PERFORMATIVES, type AclContent, type AclMessage, type AgentId, type Performative } from './types.js'
export {
  AclDecodeError, AclValidationError, FrameDecodeError, FrameEncodeError, InvalidAclLimitsError,
  TraceparentError, UnknownPerformativeError, type AclIssue
} from './errors.js'
export { isPerformative, parsePerformative, performativeCode, performativeFromCode } from './performatives.js'
export { AGENT_ID_PATTERN, isAgentId, utf8ByteLength } from './rules.js'
export {
  ACL_FIELDS, DEFAULT_ACL_LIMITS, MAX_REPORTED_ISSUES, aclMessageSchema, hasValidFields, isValidMessage, messageIssues,
  resolveAclLimits, validateMessage, type AclLimits
} from './validate.js'
export { MSGPACK_POSITIONS, decodeMessage, encodeMessage } from './codec-msgpack.js'
export { draftFieldsFromJson, draftFromJson, messageFromJson, messageToJson, type AclContentJson, type AclMessageJson } from './codec-json.js'
export { DraftFields, stampDraft, stampFields } from './stamp.js'
export { ConversationTable, mergeConversations, type AwaitedReply, type Conversation, type DueWork, type Observed } from './conversations.js'
export { ownCopy, StringPool } from './kept-strings.js'
export { MAX_REASON_CHARS, SYSTEM_AGENT, createReply, failure, notUnderstood, type MessageStamp, type ReplyFields } from './replies.js'
export {
  NEW_TRACE_RANDOM_BYTES, TRACE_FLAG_RANDOM, TRACE_FLAG_SAMPLED, childTraceparent, formatTraceparent, newTraceparent,
  newTraceparentFrom, parseTraceparent,
  tryParseTraceparent, type RandomBytes, type TraceContext
} from './trace.js'
export {
  ACK_STATUSES, FIPA_PROTOCOL_ID, MAX_ACK_REASON_CHARS, decodeFrame, deliverMessageOffset, encodeDeliverFrame, encodeFrame,
  type AckFrame, type AckStatus, type DeliverFrame, type DeliverHeader, type FipaFrame
} from './wire.js'
