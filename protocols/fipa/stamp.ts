/**
 * A draft with the router's stamps, as a new object whose fields come in one fixed order
 * (SPEC.md §1). Why not `{ ...draft, ...stamps }`: on V8 11 (Node 20) a spread copy of a
 * draft gives each message a hidden class of its own, and every later reader of it
 * (validation, codecs, delivery) then runs megamorphic; building a message took
 * 3.5-4.4 µs that way against ~0.2 µs for an object literal (measured on the project's
 * machine). Drafts with a field SPEC.md does not define are left to the spread, so that
 * validation names the field exactly as before.
 */
import { ACL_FIELDS } from './validate.js'

const KNOWN: ReadonlySet<string> = new Set(ACL_FIELDS)

/**
 * `{ ...draft, ...stamps }` with SPEC.md §1's field order and no undefined fields.
 * Not validated: pass the result to `validateMessage`.
 */
export function stampDraft (draft: Readonly<Record<string, unknown>>, stamps: Readonly<Record<string, unknown>>): Record<string, unknown> {
  for (const key in draft) {
    if (!KNOWN.has(key) || !Object.hasOwn(draft, key)) return { ...draft, ...stamps }
  }
  const m: Record<string, unknown> = {
    messageId: pick(draft, stamps, 'messageId'),
    createdAt: pick(draft, stamps, 'createdAt'),
    performative: pick(draft, stamps, 'performative'),
    sender: pick(draft, stamps, 'sender'),
    receivers: pick(draft, stamps, 'receivers')
  }
  for (let i = 5; i < ACL_FIELDS.length; i++) {
    const key = ACL_FIELDS[i]
    const v = pick(draft, stamps, key)
    if (v !== undefined) m[key] = v
  }
  return m
}

// A module function, not a closure made per call: ~290 ns for stampDraft against ~350 ns
// compiled by tsc, and ~300 against ~800 under tsx, whose esbuild wraps each new closure in
// `__name` (measured for a three-field draft, Node 20).
function pick (draft: Readonly<Record<string, unknown>>, stamps: Readonly<Record<string, unknown>>, key: string): unknown {
  return Object.hasOwn(stamps, key) ? stamps[key] : draft[key]
}

/**
 * A draft held as named fields, every field of SPEC.md §1 present (undefined when absent).
 * Why: all drafts then share one hidden class, where a record filled key by key (what
 * `draftFromJson` returns) has one per set of keys, and {@link stampFields} reads it
 * without the key loop and own-property checks that {@link stampDraft} needs.
 * Values are unchecked, as in any draft.
 */
export class DraftFields {
  messageId: unknown = undefined
  createdAt: unknown = undefined
  performative: unknown = undefined
  sender: unknown = undefined
  receivers: unknown = undefined
  replyTo: unknown = undefined
  content: unknown = undefined
  language: unknown = undefined
  encoding: unknown = undefined
  ontology: unknown = undefined
  protocol: unknown = undefined
  conversationId: unknown = undefined
  replyWith: unknown = undefined
  inReplyTo: unknown = undefined
  replyBy: unknown = undefined
  traceparent: unknown = undefined
  tracestate: unknown = undefined
}

/**
 * {@link stampDraft} for a draft held as {@link DraftFields}: the same object (SPEC.md §1's
 * field order; the five required fields always set, optional ones only when defined), built
 * from named fields. A stamp wins when it is defined (`stampDraft`: when it is an own key;
 * the same for stamps that are all defined). Not validated: pass the result to `validateMessage`.
 */
export function stampFields (d: DraftFields, s: Readonly<Partial<DraftFields>>): Record<string, unknown> {
  // One line per field: named loads and stores, ~20 ns against stampDraft's ~290 (its
  // for-in, own-key checks and keyed stores), compiled, for a three-field draft.
  const m: Record<string, unknown> = {
    messageId: or(s.messageId, d.messageId),
    createdAt: or(s.createdAt, d.createdAt),
    performative: or(s.performative, d.performative),
    sender: or(s.sender, d.sender),
    receivers: or(s.receivers, d.receivers)
  }
  let v: unknown
  if ((v = or(s.replyTo, d.replyTo)) !== undefined) m.replyTo = v
  if ((v = or(s.content, d.content)) !== undefined) m.content = v
  if ((v = or(s.language, d.language)) !== undefined) m.language = v
  if ((v = or(s.encoding, d.encoding)) !== undefined) m.encoding = v
  if ((v = or(s.ontology, d.ontology)) !== undefined) m.ontology = v
  if ((v = or(s.protocol, d.protocol)) !== undefined) m.protocol = v
  if ((v = or(s.conversationId, d.conversationId)) !== undefined) m.conversationId = v
  if ((v = or(s.replyWith, d.replyWith)) !== undefined) m.replyWith = v
  if ((v = or(s.inReplyTo, d.inReplyTo)) !== undefined) m.inReplyTo = v
  if ((v = or(s.replyBy, d.replyBy)) !== undefined) m.replyBy = v
  if ((v = or(s.traceparent, d.traceparent)) !== undefined) m.traceparent = v
  if ((v = or(s.tracestate, d.tracestate)) !== undefined) m.tracestate = v
  return m
}

function or (stamp: unknown, field: unknown): unknown {
  return stamp !== undefined ? stamp : field
}
