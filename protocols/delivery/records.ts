/**
 * Stored records of durable delivery (SPEC.md §4): outbox entries, inbox entries, dead
 * letters and per-pair receiver state, each one msgpack array beginning with a record
 * version. The message inside is its msgpack form (protocols/fipa/SPEC.md §3), kept as
 * bytes so that it is encoded once, when accepted.
 */
import { Packr, Unpackr } from 'msgpackr'
import { RecordDecodeError } from './errors.js'

const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' })

/** Version written first in every record; a reader refuses a higher one. */
export const RECORD_VERSION = 1

/** An accepted message waiting in the sender's outbox for one receiver. Key: the entry's order (`orderKey`). */
export interface OutboxRecord {
  receiver: string
  sender: string
  messageId: string
  /** ms since the epoch. */
  deadline: number
  /** `DELIVER_FLAGS` bits. */
  flags: number
  /** The message, msgpack form. */
  message: Uint8Array
  /**
   * The peer the receiver was routed to when the entry was accepted, kept as a hint for a
   * receiver no registry knows (an API client on another node): after a restart the
   * entry can still find its way.
   */
  via?: string
}

/** A message accepted for a local agent, until its handler returns. Key: `<receiver>\0<orderKey>`. */
export interface InboxRecord {
  receiver: string
  sender: string
  messageId: string
  /** The node it came from (PeerId), or '' when sent on this node. */
  from: string
  /** ms since the epoch. */
  deadline: number
  message: Uint8Array
}

/** Why a message was dead-lettered. */
export const DEAD_LETTER_CAUSES = ['expired', 'not-found', 'rejected', 'agent-failed', 'agent-removed'] as const
export type DeadLetterCause = typeof DEAD_LETTER_CAUSES[number]

/** A message that could not be delivered to one receiver. Key: its id. */
export interface DeadLetterRecord {
  /** Sortable by time: `<13 hex ms><5 hex counter>`. */
  id: string
  /** When it was dead-lettered, ms since the epoch. */
  at: number
  receiver: string
  sender: string
  messageId: string
  cause: DeadLetterCause
  /** Human-readable detail (the last error). */
  reason: string
  /** Delivery attempts made. */
  attempts: number
  /** The node it was last sent to, if any. */
  peer?: string
  message: Uint8Array
}

/** Receiver-side state of one (sender, receiver) pair. Key: `<sender>\n<receiver>`. */
export interface PairRecord {
  /** Highest order accepted. */
  last: number
  /** Last accepted at, ms since the epoch (for collection). */
  touchedAt: number
}

export function encodeOutboxRecord (r: OutboxRecord): Uint8Array {
  const fields: unknown[] = [RECORD_VERSION, r.receiver, r.sender, r.messageId, r.deadline, r.flags, r.message]
  if (r.via !== undefined) fields.push(r.via)
  return packr.pack(fields)
}

/** @throws RecordDecodeError */
export function decodeOutboxRecord (bytes: Uint8Array): OutboxRecord {
  const v = unpackRecord(bytes, 'outbox', 7, 8)
  const r = { receiver: v[1], sender: v[2], messageId: v[3], deadline: v[4], flags: v[5], message: v[6] }
  if (typeof r.receiver !== 'string' || typeof r.sender !== 'string' || typeof r.messageId !== 'string' ||
      !isMillis(r.deadline) || !Number.isInteger(r.flags) || !(r.message instanceof Uint8Array) ||
      (v.length === 8 && typeof v[7] !== 'string')) {
    throw new RecordDecodeError('outbox', 'a field has the wrong type')
  }
  const out = r as OutboxRecord
  if (v.length === 8) out.via = v[7] as string
  return out
}

export function encodeInboxRecord (r: InboxRecord): Uint8Array {
  return packr.pack([RECORD_VERSION, r.receiver, r.sender, r.messageId, r.from, r.deadline, r.message])
}

/** @throws RecordDecodeError */
export function decodeInboxRecord (bytes: Uint8Array): InboxRecord {
  const v = unpackRecord(bytes, 'inbox', 7)
  const r = { receiver: v[1], sender: v[2], messageId: v[3], from: v[4], deadline: v[5], message: v[6] }
  if (typeof r.receiver !== 'string' || typeof r.sender !== 'string' || typeof r.messageId !== 'string' ||
      typeof r.from !== 'string' || !isMillis(r.deadline) || !(r.message instanceof Uint8Array)) {
    throw new RecordDecodeError('inbox', 'a field has the wrong type')
  }
  return r as InboxRecord
}

export function encodeDeadLetter (r: DeadLetterRecord): Uint8Array {
  return packr.pack([RECORD_VERSION, r.id, r.at, r.receiver, r.sender, r.messageId, r.cause, r.reason, r.attempts, r.peer ?? null, r.message])
}

/** @throws RecordDecodeError */
export function decodeDeadLetter (bytes: Uint8Array): DeadLetterRecord {
  const v = unpackRecord(bytes, 'dead letter', 11)
  const r: DeadLetterRecord = {
    id: v[1] as string, at: v[2] as number, receiver: v[3] as string, sender: v[4] as string, messageId: v[5] as string,
    cause: v[6] as DeadLetterCause, reason: v[7] as string, attempts: v[8] as number, message: v[10] as Uint8Array
  }
  if (typeof r.id !== 'string' || !isMillis(r.at) || typeof r.receiver !== 'string' || typeof r.sender !== 'string' ||
      typeof r.messageId !== 'string' || !(DEAD_LETTER_CAUSES as readonly unknown[]).includes(r.cause) ||
      typeof r.reason !== 'string' || !Number.isInteger(r.attempts) || !(r.message instanceof Uint8Array) ||
      (v[9] !== null && v[9] !== undefined && typeof v[9] !== 'string')) {
    throw new RecordDecodeError('dead letter', 'a field has the wrong type')
  }
  if (typeof v[9] === 'string') r.peer = v[9]
  return r
}

export function encodePairRecord (r: PairRecord): Uint8Array {
  return packr.pack([RECORD_VERSION, r.last, r.touchedAt])
}

/** @throws RecordDecodeError */
export function decodePairRecord (bytes: Uint8Array): PairRecord {
  const v = unpackRecord(bytes, 'pair', 3)
  if (!isMillis(v[1]) || !isMillis(v[2])) throw new RecordDecodeError('pair', 'a field has the wrong type')
  return { last: v[1] as number, touchedAt: v[2] as number }
}

function unpackRecord (bytes: Uint8Array, kind: string, length: number, maxLength = length): unknown[] {
  let v: unknown
  try {
    v = unpackr.unpack(bytes)
  } catch (err) {
    throw new RecordDecodeError(kind, `not msgpack: ${(err as Error).message}`, { cause: err })
  }
  if (!Array.isArray(v) || v.length < length || v.length > maxLength) {
    throw new RecordDecodeError(kind, `expected an array of ${length === maxLength ? length : `${length} to ${maxLength}`} elements`)
  }
  if (v[0] !== RECORD_VERSION) throw new RecordDecodeError(kind, `record version ${String(v[0])} (this node reads ${RECORD_VERSION})`)
  return v
}

function isMillis (x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0
}
