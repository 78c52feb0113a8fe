/**
 * Frames of `/caxton/fipa/1.0.0` (SPEC.md §4): node-to-node delivery of messages with
 * acknowledgements. One frame is one msgpack value; the transport (`src/`) adds the
 * unsigned-varint length prefix and writes many frames per stream write.
 */
import { AclDecodeError, FrameDecodeError, FrameEncodeError } from './errors.js'
import { describe, messageFromArray, messageToArray, packr, unpackValue } from './codec-msgpack.js'
import { isAgentId } from './rules.js'
import type { AclMessage, AgentId } from './types.js'
import { resolveAclLimits, type AclLimits } from './validate.js'

/**
 * The libp2p protocol id. 2.0.0 carries durable delivery (per-receiver entries with a
 * deadline and per-pair order, acks only once persisted); 1.0.0 is not spoken (SPEC.md §4.5).
 */
export const FIPA_PROTOCOL_ID = '/caxton/fipa/2.0.0'

/**
 * What the receiving node did with a delivered message. Index = wire code; append only.
 * - `ok`: persisted in the receiver's durable inbox (or handed to an API client waiting on
 *   this node), or a duplicate of one accepted before
 * - `no-such-agent`: the receiver is not hosted on this node
 * - `mailbox-full`: the receiver's inbox is full; retry later
 * - `rejected`: the frame or message is invalid, or it was overtaken (SPEC.md §4.4); do not retry
 * - `not-running`: the receiver exists but is not running (loaded, draining, stopped, failed); retry later
 * - `out-of-order`: an earlier message of the same sender to this receiver has not arrived; resend in order
 * - `expired`: its deadline passed before the receiving node could accept it; do not retry
 */
export const ACK_STATUSES = ['ok', 'no-such-agent', 'mailbox-full', 'rejected', 'not-running', 'out-of-order', 'expired'] as const

export type AckStatus = typeof ACK_STATUSES[number]

/** Where, until when and in which order one message goes to one receiver (SPEC.md §4.2). */
export interface DeliverHeader {
  /** The one receiver this frame delivers to (one of `message.receivers`). */
  receiver: AgentId
  /** The sender gives up at this time; past it the receiver answers `expired`. ms since the epoch. */
  deadline: number
  /** The sending node's order of this entry, > 0 (protocols/delivery/SPEC.md §1). */
  order: number
  /** Order of the nearest earlier entry of the same (sender, receiver) still pending at the sender, or 0. */
  after: number
  /** Bits: 1 = replayed from a dead-letter queue. */
  flags: number
}

/** Carries one message for one receiver; `seq` numbers the deliver frames of one stream (SPEC.md §4.3). */
export interface DeliverFrame extends DeliverHeader {
  type: 'deliver'
  /** 0 ≤ seq ≤ 2^53 - 1, increasing by 1 per deliver frame on a stream. */
  seq: number
  message: AclMessage
}

/** Answers the deliver frame with the same `seq` on the opposite stream. */
export interface AckFrame {
  type: 'ack'
  seq: number
  status: AckStatus
  /** Why, when status is not `ok`: at most {@link MAX_ACK_REASON_CHARS} characters. */
  reason?: string
}

export type FipaFrame = DeliverFrame | AckFrame

/** Longest ack `reason`, UTF-16 code units; `encodeFrame` truncates longer ones. */
export const MAX_ACK_REASON_CHARS = 1024

const TYPE_DELIVER = 0
const TYPE_ACK = 1
const STATUS_CODES: ReadonlyMap<string, number> = new Map(ACK_STATUSES.map((s, i) => [s, i]))

function isSeq (x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0
}

/**
 * Encodes a frame (SPEC.md §4.2): `[0, seq, receiver, deadline, order, after, flags, <message array>]`
 * or `[1, seq, status(, reason)]`.
 * The message is packed in place inside the frame (one msgpack pass, no nested bytes).
 * The message is not re-validated; an over-long ack `reason` is truncated. The result
 * shares its ArrayBuffer with other encodings (see `encodeMessage`).
 * @throws FrameEncodeError for a bad `seq`, `type` or `status`; UnknownPerformativeError
 */
export function encodeFrame (frame: FipaFrame): Uint8Array {
  if (!isSeq(frame.seq)) throw new FrameEncodeError(`seq must be an integer 0..2^53-1, got ${describe(frame.seq)}`)
  if (frame.type === 'deliver') {
    checkHeader(frame, FrameEncodeError)
    return packr.pack([TYPE_DELIVER, frame.seq, frame.receiver, frame.deadline, frame.order, frame.after, frame.flags, messageToArray(frame.message)])
  }
  if (frame.type === 'ack') {
    const status = STATUS_CODES.get(frame.status)
    if (status === undefined) throw new FrameEncodeError(`unknown ack status ${describe(frame.status)}`)
    const reason = frame.reason
    if (reason === undefined || reason === '') return packr.pack([TYPE_ACK, frame.seq, status])
    return packr.pack([TYPE_ACK, frame.seq, status, truncate(String(reason), MAX_ACK_REASON_CHARS)])
  }
  throw new FrameEncodeError(`unknown frame type ${describe((frame as { type?: unknown }).type)}`)
}

/**
 * Encodes a deliver frame around a message already encoded by `encodeMessage` (e.g. read
 * back from the outbox), copying its bytes once instead of decoding and re-encoding it.
 * The bytes are trusted to be one encoded message. The result is a Buffer from Node's
 * pool: it shares its ArrayBuffer with other buffers (read it through its own offset and length).
 * @throws FrameEncodeError for a bad `seq` or header field
 */
export function encodeDeliverFrame (seq: number, header: DeliverHeader, encodedMessage: Uint8Array): Uint8Array {
  if (!isSeq(seq)) throw new FrameEncodeError(`seq must be an integer 0..2^53-1, got ${describe(seq)}`)
  checkHeader(header, FrameEncodeError)
  // The seven header elements packed as an array of 7 (fixarray 0x97); the message follows
  // as the eighth element, so the first byte becomes fixarray 8 (0x98). The frame comes
  // from Node's buffer pool: `new Uint8Array(n)` of a few hundred bytes gets an
  // ArrayBuffer of its own (0.45 against 0.2 µs of CPU a frame, and less for the GC to track).
  const head = packr.pack([TYPE_DELIVER, seq, header.receiver, header.deadline, header.order, header.after, header.flags])
  const out = Buffer.allocUnsafe(head.length + encodedMessage.length)
  out.set(head, 0)
  out[0] = 0x98
  out.set(encodedMessage, head.length)
  return out
}

function checkHeader<E extends Error> (h: DeliverHeader, ErrorClass: new (reason: string, options?: { seq?: number }) => E, seq?: number): void {
  const fail = (what: string, v: unknown): never => { throw new ErrorClass(`${what}, got ${describe(v)}`, { seq }) }
  if (!isAgentId(h.receiver)) fail('receiver must be an agent id', h.receiver)
  if (!isSeq(h.deadline)) fail('deadline must be an integer 0..2^53-1 (ms since the epoch)', h.deadline)
  if (!isSeq(h.order) || h.order === 0) fail('order must be an integer 1..2^53-1', h.order)
  if (!isSeq(h.after) || h.after >= h.order) fail('after must be an integer 0..order-1', h.after)
  if (!isSeq(h.flags) || h.flags > 0xff) fail('flags must be an integer 0..255', h.flags)
}

/**
 * Where the message starts inside a deliver frame (SPEC.md §4.2: the message is the frame's
 * last element), so that a receiver can keep the message's own bytes instead of encoding
 * it again. Call it on a frame `decodeFrame` accepted as a deliver frame (its header holds
 * only integers and one string).
 * @returns the offset of the message's first byte, or -1 when the header is not as expected
 */
export function deliverMessageOffset (bytes: Uint8Array): number {
  if (bytes[0] !== 0x98) return -1
  let off = 1
  for (let i = 0; i < 7; i++) {
    const b = bytes[off]
    if (b === undefined) return -1
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0) off += 1 // fixint (positive or negative), nil
    else if (b >= 0xa0 && b <= 0xbf) off += 1 + (b & 0x1f) // fixstr
    else if (b === 0xcc || b === 0xd0) off += 2
    else if (b === 0xcd || b === 0xd1) off += 3
    else if (b === 0xce || b === 0xd2 || b === 0xca) off += 5
    else if (b === 0xcf || b === 0xd3 || b === 0xcb) off += 9
    else if (b === 0xd9) off += 2 + (bytes[off + 1] ?? 0)
    else if (b === 0xda) off += 3 + (((bytes[off + 1] ?? 0) << 8) | (bytes[off + 2] ?? 0))
    else return -1
  }
  return off < bytes.length ? off : -1
}

/**
 * Decodes one frame (without its length prefix) and validates the message it carries.
 * Whatever the bytes, the only failure is a FrameDecodeError.
 * @param limits validation limits for a delivered message; missing ones take `DEFAULT_ACL_LIMITS`
 * @throws FrameDecodeError `{ reason, seq?, messageId? }`: `seq` is set when the frame
 *   header was readable, so that the receiver can ack it `'rejected'` with `reason`
 */
export function decodeFrame (bytes: Uint8Array, limits?: Partial<AclLimits>): FipaFrame {
  const l: AclLimits = resolveAclLimits(limits)
  const value = unpackValue(bytes, FrameDecodeError)
  if (!Array.isArray(value) || value.length < 3) throw new FrameDecodeError(`expected a msgpack array [type, seq, ...], got ${describe(value)}`)
  const type = value[0]
  const seq = value[1]
  if (!isSeq(seq)) throw new FrameDecodeError(`seq must be an integer 0..2^53-1, got ${describe(seq)}`)
  if (type === TYPE_DELIVER) {
    if (value.length !== 8) throw new FrameDecodeError(`a deliver frame has 8 elements, got ${value.length}`, { seq })
    const header = { receiver: value[2], deadline: value[3], order: value[4], after: value[5], flags: value[6] } as DeliverHeader
    checkHeader(header, FrameDecodeError, seq)
    try {
      return { type: 'deliver', seq, ...header, message: messageFromArray(value[7], l) }
    } catch (err) {
      const reason = err instanceof AclDecodeError ? err.reason : String(err)
      const inner = value[7] as unknown
      const messageId = Array.isArray(inner) && typeof inner[0] === 'string' && inner[0].length <= l.maxIdChars ? inner[0] : undefined
      throw new FrameDecodeError(reason, { seq, messageId, cause: err })
    }
  }
  if (type === TYPE_ACK) {
    if (value.length > 4) throw new FrameDecodeError(`an ack frame has 3 or 4 elements, got ${value.length}`, { seq })
    const code = value[2]
    const status = typeof code === 'number' ? ACK_STATUSES[code] : undefined
    if (status === undefined) throw new FrameDecodeError(`unknown ack status ${describe(code)}`, { seq })
    const reason = value[3]
    if (reason === undefined || reason === null) return { type: 'ack', seq, status }
    if (typeof reason !== 'string' || reason.length > MAX_ACK_REASON_CHARS) {
      throw new FrameDecodeError(`ack reason must be a string of at most ${MAX_ACK_REASON_CHARS} characters, got ${describe(reason)}`, { seq })
    }
    return { type: 'ack', seq, status, reason }
  }
  throw new FrameDecodeError(`unknown frame type ${describe(type)}`, { seq })
}

/** Cuts `s` to at most `max` UTF-16 units without splitting a surrogate pair. */
function truncate (s: string, max: number): string {
  if (s.length <= max) return s
  let end = max
  const c = s.charCodeAt(end - 1)
  if (c >= 0xd800 && c <= 0xdbff) end--
  return s.slice(0, end)
}
