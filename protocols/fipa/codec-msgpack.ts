/**
 * The binary form of a message (SPEC.md §3): one msgpack array with the fields at fixed
 * positions, absent optional fields as nil, trailing nils left off. Used on the wire
 * (`/caxton/fipa/1.0.0`) and wherever a node stores messages.
 */
import { Packr, Unpackr } from 'msgpackr'
import { AclDecodeError, AclValidationError } from './errors.js'
import { performativeCode } from './performatives.js'
import { PERFORMATIVES, type AclMessage } from './types.js'
import { isValidMessage, messageIssues, resolveAclLimits, type AclLimits } from './validate.js'

/**
 * Position of each field in the msgpack array. 0-4 are required; the optional ones follow,
 * most often present first so that trailing nils can be left off. Append only.
 */
export const MSGPACK_POSITIONS = [
  'messageId', 'createdAt', 'performative', 'sender', 'receivers',
  'content', 'traceparent', 'conversationId', 'replyWith', 'inReplyTo', 'protocol',
  'language', 'ontology', 'encoding', 'replyTo', 'replyBy', 'tracestate'
] as const satisfies ReadonlyArray<keyof AclMessage>

const REQUIRED = 5

/**
 * Plain msgpack only: no msgpackr records or extensions on the way out (another
 * implementation must be able to read it), nil for a stray `undefined`. Internal to the
 * module (shared with `wire.ts`).
 */
export const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: true })

/**
 * uint64/int64 become numbers (validation then rejects those above 2^53 - 1), never
 * BigInt; bin is a view (content is copied out on its own, see `messageFromArray`).
 * Internal to the module.
 */
export const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' })

/**
 * The message as the msgpack array of SPEC.md §3 (not yet packed): what a frame embeds.
 * @throws UnknownPerformativeError when `performative` is not canonical
 */
export function messageToArray (msg: AclMessage): unknown[] {
  // Written out field by field: a loop over key names is a megamorphic keyed access per
  // field, which doubled the cost of encoding.
  const a: unknown[] = [msg.messageId, msg.createdAt, performativeCode(msg.performative), msg.sender, msg.receivers,
    msg.content ?? null, msg.traceparent ?? null, msg.conversationId ?? null, msg.replyWith ?? null,
    msg.inReplyTo ?? null, msg.protocol ?? null, msg.language ?? null, msg.ontology ?? null,
    msg.encoding ?? null, msg.replyTo ?? null, msg.replyBy ?? null, msg.tracestate ?? null]
  let n = a.length
  while (n > REQUIRED && a[n - 1] === null) n--
  a.length = n
  return a
}

/**
 * Encodes a message (SPEC.md §3). The message is not re-validated: pass one that
 * `validateMessage` accepted (the receiver validates again anyway).
 * @returns the msgpack bytes: a region of its own (later calls never overwrite it) inside an
 *   ArrayBuffer that msgpackr shares between encodings, so never transfer `.buffer`
 * @throws UnknownPerformativeError when `performative` is not canonical
 */
export function encodeMessage (msg: AclMessage): Uint8Array {
  return packr.pack(messageToArray(msg))
}

/**
 * Turns a decoded msgpack value into a valid message, or explains why it is not one.
 * The result owns its content bytes (copied out of `value`'s source).
 * @throws AclDecodeError, never anything else
 */
export function messageFromArray (value: unknown, limits: AclLimits): AclMessage {
  if (!Array.isArray(value)) throw new AclDecodeError(`expected a msgpack array of ${REQUIRED}..${MSGPACK_POSITIONS.length} fields, got ${describe(value)}`)
  const n = value.length
  if (n < REQUIRED || n > MSGPACK_POSITIONS.length) {
    throw new AclDecodeError(`expected a msgpack array of ${REQUIRED}..${MSGPACK_POSITIONS.length} fields, got ${n}`)
  }
  const code = value[2]
  const performative = typeof code === 'number' ? PERFORMATIVES[code] : undefined
  if (performative === undefined) {
    const issues = [{ field: 'performative', reason: `must be a performative code 0..${PERFORMATIVES.length - 1}, got ${describe(code)}` }]
    throw new AclDecodeError(`performative: ${issues[0].reason}`, { issues })
  }
  const msg: Record<string, unknown> = {
    messageId: value[0],
    createdAt: value[1],
    performative,
    sender: value[3],
    receivers: value[4]
  }
  // Field by field, for the same reason as in messageToArray.
  let v: unknown
  if (n > 5 && (v = value[5]) != null) msg.content = v
  if (n > 6 && (v = value[6]) != null) msg.traceparent = v
  if (n > 7 && (v = value[7]) != null) msg.conversationId = v
  if (n > 8 && (v = value[8]) != null) msg.replyWith = v
  if (n > 9 && (v = value[9]) != null) msg.inReplyTo = v
  if (n > 10 && (v = value[10]) != null) msg.protocol = v
  if (n > 11 && (v = value[11]) != null) msg.language = v
  if (n > 12 && (v = value[12]) != null) msg.ontology = v
  if (n > 13 && (v = value[13]) != null) msg.encoding = v
  if (n > 14 && (v = value[14]) != null) msg.replyTo = v
  if (n > 15 && (v = value[15]) != null) msg.replyBy = v
  if (n > 16 && (v = value[16]) != null) msg.tracestate = v
  const content = msg.content
  if (content instanceof Uint8Array) {
    // A copy, as a plain Uint8Array: a view would pin the whole received chunk in memory
    // (and a structured clone of it would copy that whole chunk).
    msg.content = Uint8Array.prototype.slice.call(
      content.constructor === Uint8Array ? content : new Uint8Array(content.buffer, content.byteOffset, content.byteLength))
  }
  if (isValidMessage(msg, limits)) return msg
  const issues = messageIssues(msg, limits)
  const error = new AclValidationError(issues)
  throw new AclDecodeError(`invalid message: ${error.message.replace(/^invalid ACL message: /, '')}`, { cause: error, issues })
}

/**
 * Decodes and validates one message encoded by {@link encodeMessage} (SPEC.md §3).
 * Whatever the bytes (truncated, random, hostile), the only failure is an AclDecodeError.
 * @param limits validation limits; missing ones take `DEFAULT_ACL_LIMITS`
 * @throws AclDecodeError `{ reason, issues? }`: not msgpack, not the message layout, or
 *   an invalid message (`issues` then names the fields)
 */
export function decodeMessage (bytes: Uint8Array, limits?: Partial<AclLimits>): AclMessage {
  const l = resolveAclLimits(limits)
  return messageFromArray(unpackValue(bytes, AclDecodeError), l)
}

/**
 * Unpacks exactly one msgpack value, mapping every failure of msgpackr (including a stack
 * overflow on deeply nested input) to `ErrorClass`.
 */
export function unpackValue<E extends Error> (bytes: Uint8Array, ErrorClass: new (reason: string, options?: { cause?: unknown }) => E): unknown {
  if (!(bytes instanceof Uint8Array)) throw new ErrorClass(`expected bytes (Uint8Array), got ${describe(bytes)}`)
  if (bytes.length === 0) throw new ErrorClass('no bytes')
  try {
    return unpackr.unpack(bytes)
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err)
    throw new ErrorClass(`not msgpack: ${text.slice(0, 200)}`, { cause: err })
  }
}

/** A short description of a decoded value, for error reasons. */
export function describe (v: unknown): string {
  if (v === null) return 'nil'
  if (Array.isArray(v)) return `an array of ${v.length}`
  if (v instanceof Uint8Array) return `${v.length} bytes`
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v)
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (typeof v === 'bigint') return `${v}n`
  return typeof v === 'object' ? `an object (${Object.prototype.toString.call(v).slice(8, -1)})` : typeof v
}
