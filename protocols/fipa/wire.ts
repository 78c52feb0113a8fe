/**
 * Frames of `/caxton/fipa/1.0.0` (SPEC.md §4): node-to-node delivery of messages with
 * acknowledgements. One frame is one msgpack value; the transport (`src/`) adds the
 * unsigned-varint length prefix and writes many frames per stream write.
 */
import { AclDecodeError, FrameDecodeError, FrameEncodeError } from './errors.js'
import { describe, messageFromArray, messageToArray, packr, unpackValue } from './codec-msgpack.js'
import type { AclMessage } from './types.js'
import { resolveAclLimits, type AclLimits } from './validate.js'

/** The libp2p protocol id. A change a 1.0.0 peer cannot read gets a new id (SPEC.md §4.5). */
export const FIPA_PROTOCOL_ID = '/caxton/fipa/1.0.0'

/**
 * What the receiving node did with a delivered message. Index = wire code; append only.
 * - `ok`: accepted (persisted or queued in the agent's mailbox), or a duplicate of one accepted
 * - `no-such-agent`: no receiver is hosted on this node
 * - `mailbox-full`: the receiver's mailbox is full; retry later
 * - `rejected`: the frame or message is invalid; do not retry
 * - `not-running`: the receiver exists but is not running (loaded, draining, stopped, failed)
 */
export const ACK_STATUSES = ['ok', 'no-such-agent', 'mailbox-full', 'rejected', 'not-running'] as const

export type AckStatus = typeof ACK_STATUSES[number]

/** Carries one message; `seq` numbers the deliver frames of one stream (SPEC.md §4.3). */
export interface DeliverFrame {
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
 * Encodes a frame (SPEC.md §4.2): `[0, seq, <message array>]` or `[1, seq, status(, reason)]`.
 * The message is packed in place inside the frame (one msgpack pass, no nested bytes).
 * The message is not re-validated; an over-long ack `reason` is truncated. The result
 * shares its ArrayBuffer with other encodings (see `encodeMessage`).
 * @throws FrameEncodeError for a bad `seq`, `type` or `status`; UnknownPerformativeError
 */
export function encodeFrame (frame: FipaFrame): Uint8Array {
  if (!isSeq(frame.seq)) throw new FrameEncodeError(`seq must be an integer 0..2^53-1, got ${describe(frame.seq)}`)
  if (frame.type === 'deliver') return packr.pack([TYPE_DELIVER, frame.seq, messageToArray(frame.message)])
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
 * The bytes are trusted to be one encoded message.
 * @throws FrameEncodeError for a bad `seq`
 */
export function encodeDeliverFrame (seq: number, encodedMessage: Uint8Array): Uint8Array {
  if (!isSeq(seq)) throw new FrameEncodeError(`seq must be an integer 0..2^53-1, got ${describe(seq)}`)
  const header = seq < 0x80 ? 3 : seq < 0x100 ? 4 : seq < 0x10000 ? 5 : seq < 0x100000000 ? 7 : 11
  const out = new Uint8Array(header + encodedMessage.length)
  out[0] = 0x93 // fixarray of 3
  out[1] = TYPE_DELIVER
  writeUint(out, 2, seq)
  out.set(encodedMessage, header)
  return out
}

/** msgpack uint in its shortest form, at `pos` (the sizes match `encodeDeliverFrame`'s header). */
function writeUint (out: Uint8Array, pos: number, n: number): void {
  if (n < 0x80) {
    out[pos] = n
  } else if (n < 0x100) {
    out[pos] = 0xcc; out[pos + 1] = n
  } else if (n < 0x10000) {
    out[pos] = 0xcd; out[pos + 1] = n >>> 8; out[pos + 2] = n & 0xff
  } else if (n < 0x100000000) {
    out[pos] = 0xce
    new DataView(out.buffer, out.byteOffset).setUint32(pos + 1, n)
  } else {
    out[pos] = 0xcf
    const view = new DataView(out.buffer, out.byteOffset)
    view.setUint32(pos + 1, Math.floor(n / 0x100000000))
    view.setUint32(pos + 5, n >>> 0)
  }
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
    if (value.length !== 3) throw new FrameDecodeError(`a deliver frame has 3 elements, got ${value.length}`, { seq })
    try {
      return { type: 'deliver', seq, message: messageFromArray(value[2], l) }
    } catch (err) {
      const reason = err instanceof AclDecodeError ? err.reason : String(err)
      const inner = value[2] as unknown
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
