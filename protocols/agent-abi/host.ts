/**
 * The host functions of the agent ABI beyond messages (SPEC.md §6-§8): their results,
 * fuel costs and limits, and the message a timer delivers. Pure: no I/O, no clock.
 */
import type { AclMessage, AgentId } from '../fipa/types.js'
import { ABI_VERSION, FIELD_HEADER_BYTES, TAG } from './tags.js'

/** What the host functions of §6-§8 return when they fail (SPEC.md §6). Success is ≥ 0. */
export const HOST_RESULT = {
  ok: 0,
  /** No such key, no further key, no such pending timer. */
  notFound: -1,
  /** A `ptr`/`len` pair falls outside linear memory. */
  bounds: -2,
  /** A key is empty or longer than {@link MAX_KEY_BYTES}; a prefix or `after` longer. */
  badKey: -3,
  /** The store's byte quota, or the pending-timer limit, would be passed. */
  quota: -4,
  /** A write from the start function. */
  readOnly: -5,
  /** More than {@link MAX_RANDOM_BYTES} random bytes, or a payload over {@link MAX_TIMER_PAYLOAD_BYTES}. */
  tooLarge: -6,
  /** A timer delay that is not a number, negative, or over {@link MAX_TIMER_DELAY_MS}. */
  badDelay: -7,
  /** Not a valid capability (SPEC.md §9). */
  invalid: -8
} as const

/** Longest key of an agent's store, bytes. */
export const MAX_KEY_BYTES = 1024
/** What one entry of an agent's store costs against its quota beyond its key and value, bytes. */
export const KV_ENTRY_OVERHEAD_BYTES = 32
/** Most bytes one `random` call fills. */
export const MAX_RANDOM_BYTES = 65536
/** Longest timer payload, bytes. */
export const MAX_TIMER_PAYLOAD_BYTES = 65536
/** Longest timer delay, ms (365 days). */
export const MAX_TIMER_DELAY_MS = 365 * 86_400_000
/** Longest capability `capability_declare` reads (its JSON), bytes. */
export const MAX_CAPABILITY_BYTES = 65536

/** Fuel each host function costs: `base` plus `perByte` for every byte it reads or writes (SPEC.md §6). */
export const HOST_FUEL = {
  now: 50,
  random: 50,
  kvGet: 100,
  kvPut: 200,
  kvDelete: 100,
  kvNext: 100,
  schedule: 200,
  cancel: 100,
  /** Checking a capability (its JSON, its schema against the draft-07 meta-schema) costs more than a store write. */
  capabilityDeclare: 10_000,
  capabilityWithdraw: 100,
  perByte: 1
} as const

/** Ontology of the message a timer delivers. */
export const TIMER_ONTOLOGY = 'caxton-timer'
/** In-reply-to of a timer's message: this prefix, then the timer id in decimal. */
export const TIMER_REPLY_PREFIX = 'timer:'

/**
 * The message timer `id` of `agentId` delivers when it fires (SPEC.md §8): an INFORM from
 * the agent to itself. Not validated: pass it through `validateMessage`.
 */
export function timerMessage (agentId: AgentId, id: number, payload: Uint8Array, stamps: { messageId: string, createdAt: number }): AclMessage {
  const m: AclMessage = {
    messageId: stamps.messageId,
    createdAt: stamps.createdAt,
    performative: 'INFORM',
    sender: agentId,
    receivers: [agentId],
    ontology: TIMER_ONTOLOGY,
    inReplyTo: TIMER_REPLY_PREFIX + String(id)
  }
  if (payload.length > 0) m.content = payload
  return m
}

const ONTOLOGY_BYTES = new TextEncoder().encode(TIMER_ONTOLOGY)
const PREFIX_BYTES = new TextEncoder().encode(TIMER_REPLY_PREFIX)

/**
 * The timer id when `bytes` (a message encoded for the agent, SPEC.md §3) is a timer of
 * `agentId` firing: sender `agentId` (ASCII, as agent ids are), ontology
 * {@link TIMER_ONTOLOGY}, in-reply-to `timer:<id>`. 0 otherwise, also for anything
 * malformed. Reads only the fields' headers and the three values: it runs before every
 * message an agent handles.
 */
export function timerIdIn (bytes: Uint8Array, agentId: AgentId): number {
  if (bytes.length < 1 || bytes[0] !== ABI_VERSION) return 0
  let sender = -1
  let ontology = -1
  let inReplyTo = -1
  let inReplyToLen = 0
  let off = 1
  while (off + FIELD_HEADER_BYTES <= bytes.length) {
    const tag = bytes[off]
    const len = (bytes[off + 1] | bytes[off + 2] << 8 | bytes[off + 3] << 16 | bytes[off + 4] << 24) >>> 0
    const value = off + FIELD_HEADER_BYTES
    if (value + len > bytes.length) return 0
    if (tag === TAG.sender) {
      if (len !== agentId.length) return 0
      sender = value
    } else if (tag === TAG.ontology) {
      if (len !== ONTOLOGY_BYTES.length) return 0
      ontology = value
    } else if (tag === TAG.inReplyTo) {
      inReplyTo = value
      inReplyToLen = len
    }
    off = value + len
  }
  // Trailing bytes shorter than a field header: not a message.
  if (off !== bytes.length) return 0
  if (sender < 0 || ontology < 0 || inReplyTo < 0) return 0
  for (let i = 0; i < agentId.length; i++) if (bytes[sender + i] !== agentId.charCodeAt(i)) return 0
  for (let i = 0; i < ONTOLOGY_BYTES.length; i++) if (bytes[ontology + i] !== ONTOLOGY_BYTES[i]) return 0
  const digits = inReplyToLen - PREFIX_BYTES.length
  // Ten digits hold every i32 id; a leading zero is not how the host writes one.
  if (digits < 1 || digits > 10) return 0
  for (let i = 0; i < PREFIX_BYTES.length; i++) if (bytes[inReplyTo + i] !== PREFIX_BYTES[i]) return 0
  let id = 0
  for (let i = inReplyTo + PREFIX_BYTES.length; i < inReplyTo + inReplyToLen; i++) {
    const d = bytes[i] - 48
    if (d < 0 || d > 9 || (d === 0 && id === 0)) return 0
    id = id * 10 + d
  }
  return id <= 0x7fffffff ? id : 0
}
