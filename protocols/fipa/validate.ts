/**
 * Validation of the message model (SPEC.md §1). The rules are stated once as a zod 4
 * schema, which produces the precise errors; a hand-written structural check accepts the
 * common valid message about ten times faster. Both accept exactly the same inputs (the
 * property test `validate.test.ts` "fast check and zod agree" holds them to it): zod only
 * runs when the fast check says no, to explain why.
 */
import { z } from 'zod'
import { AclValidationError, InvalidAclLimitsError, type AclIssue } from './errors.js'
import { isPerformative } from './performatives.js'
import {
  AGENT_ID_PATTERN, TRACESTATE_PATTERN, firstDuplicate, isAgentId, isBoundedString, isMillis,
  isTraceparent00, isWellFormed, utf8ByteLength, utf8FitsIn
} from './rules.js'
import { explainTraceparent } from './trace.js'
import { PERFORMATIVES, type AclMessage } from './types.js'

/** Size limits of a message. Every field has a default (`DEFAULT_ACL_LIMITS`). */
export interface AclLimits {
  /**
   * Largest `content`, in bytes (a string counts its UTF-8 bytes). Keep it below what an
   * agent's linear memory can take (see `AgentLimits.maxMemoryPages`).
   * @default 1_048_576 (1 MiB)
   */
  maxContentBytes: number
  /** Most agents in `receivers`, and in `replyTo`. @default 64 */
  maxReceivers: number
  /**
   * Longest `language`, `encoding`, `ontology`, `protocol` and `tracestate`, in
   * characters (Unicode code points; a surrogate pair is one). @default 1024
   */
  maxFieldChars: number
  /**
   * Longest `messageId`, `conversationId`, `replyWith` and `inReplyTo`, in characters
   * (code points). Agent ids have their own fixed syntax, 1-128 ASCII characters. @default 128
   */
  maxIdChars: number
}

export const DEFAULT_ACL_LIMITS: Readonly<AclLimits> = Object.freeze({
  maxContentBytes: 1_048_576,
  maxReceivers: 64,
  maxFieldChars: 1024,
  maxIdChars: 128
})

/** An error lists at most this many issues (the first ones, in field order). */
export const MAX_REPORTED_ISSUES = 50

/** The fields of `AclMessage`, in the order SPEC.md §1 lists them. */
export const ACL_FIELDS = [
  'messageId', 'createdAt', 'performative', 'sender', 'receivers', 'replyTo', 'content',
  'language', 'encoding', 'ontology', 'protocol', 'conversationId', 'replyWith', 'inReplyTo',
  'replyBy', 'traceparent', 'tracestate'
] as const satisfies ReadonlyArray<keyof AclMessage>

const AGENT_ID_REASON = 'must be an agent id (1-128 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit)'
const MILLIS_REASON = 'must be a whole number of ms since the epoch, >= 0'
const WELL_FORMED_REASON = 'must be well-formed Unicode (no lone surrogate)'

/**
 * Completes partial limits with the defaults.
 * @throws InvalidAclLimitsError when a given limit is not a positive safe integer
 */
export function resolveAclLimits (limits?: Partial<AclLimits>): AclLimits {
  if (limits === undefined || limits === DEFAULT_ACL_LIMITS) return DEFAULT_ACL_LIMITS
  // Complete limits (what a router holds) are used as they are: no copy on the hot path.
  if (isLimit(limits.maxContentBytes) && isLimit(limits.maxReceivers) && isLimit(limits.maxFieldChars) &&
    isLimit(limits.maxIdChars)) return limits as AclLimits
  const out = { ...DEFAULT_ACL_LIMITS }
  for (const key of Object.keys(DEFAULT_ACL_LIMITS) as Array<keyof AclLimits>) {
    const v = limits[key]
    if (v === undefined) continue
    if (!isLimit(v)) throw new InvalidAclLimitsError(key, v)
    out[key] = v
  }
  return out
}

function isLimit (v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1
}

// ---------------------------------------------------------------------------------------
// The fast structural check.

/**
 * Whether `input` is a valid message under `limits` (already resolved). Exactly the
 * inputs the zod schema accepts; no allocation on the common path.
 */
export function isValidMessage (input: unknown, limits: AclLimits = DEFAULT_ACL_LIMITS): input is AclMessage {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return false
  const m = input as Record<string, unknown>
  // zod's strict object enumerates with for-in too (own and inherited enumerable keys).
  for (const key in m) if (!KNOWN_FIELDS.has(key)) return false
  return hasValidFields(m, limits)
}

/**
 * {@link isValidMessage} less what a message built field by field (`stampFields`) makes
 * redundant: the scan for keys SPEC.md §1 does not define (such a message holds no other
 * key; the scan is ~55 ns of ~200), and, with `newTrace`, the `traceparent` check (~90 ns)
 * for a value `newTraceparent`/`newTraceparentFrom` made: 55 characters of lower-case hex
 * with neither id all zeros by construction, and tested so. Every other field is checked,
 * the client's and the ones the caller generated alike.
 * @param limits resolved (`resolveAclLimits`)
 */
export function hasValidFields (message: object, limits: AclLimits, newTrace = false): message is AclMessage {
  const m = message as Readonly<Record<string, unknown>>
  const { maxIdChars, maxFieldChars } = limits
  if (!isBoundedString(m.messageId, maxIdChars)) return false
  if (!isMillis(m.createdAt)) return false
  if (!isPerformative(m.performative)) return false
  if (!isAgentId(m.sender)) return false
  if (!isAgentList(m.receivers, limits.maxReceivers)) return false
  let v: unknown
  if ((v = m.replyTo) !== undefined && !isAgentList(v, limits.maxReceivers)) return false
  if ((v = m.content) !== undefined) {
    if (typeof v === 'string') {
      if (!utf8FitsIn(v, limits.maxContentBytes) || !isWellFormed(v)) return false
    } else if (!(v instanceof Uint8Array) || v.byteLength > limits.maxContentBytes) return false
  }
  if ((v = m.language) !== undefined && !isBoundedString(v, maxFieldChars)) return false
  if ((v = m.encoding) !== undefined && !isBoundedString(v, maxFieldChars)) return false
  if ((v = m.ontology) !== undefined && !isBoundedString(v, maxFieldChars)) return false
  if ((v = m.protocol) !== undefined && !isBoundedString(v, maxFieldChars)) return false
  if ((v = m.conversationId) !== undefined && !isBoundedString(v, maxIdChars)) return false
  if ((v = m.replyWith) !== undefined && !isBoundedString(v, maxIdChars)) return false
  if ((v = m.inReplyTo) !== undefined && !isBoundedString(v, maxIdChars)) return false
  if ((v = m.replyBy) !== undefined && !isMillis(v)) return false
  if ((v = m.traceparent) !== undefined && !newTrace && !isTraceparent00(v)) return false
  if ((v = m.tracestate) !== undefined &&
    (typeof v !== 'string' || v.length > maxFieldChars || !TRACESTATE_PATTERN.test(v))) return false
  return true
}

const KNOWN_FIELDS: ReadonlySet<string> = new Set(ACL_FIELDS)

function isAgentList (x: unknown, max: number): x is string[] {
  if (!Array.isArray(x) || x.length === 0 || x.length > max) return false
  for (let i = 0; i < x.length; i++) if (!isAgentId(x[i])) return false
  return firstDuplicate(x) < 0
}

// ---------------------------------------------------------------------------------------
// The zod schema: the statement of the rules, and the source of the error messages.

function typeError (what: string): (iss: { input?: unknown }) => string {
  return iss => iss.input === undefined ? 'required' : `must be ${what}`
}

function boundedString (max: number, what: string): z.ZodType<string> {
  return z.string({ error: typeError(what) })
    .min(1, { error: 'must not be empty (omit the field instead)' })
    .max(max, { error: `must be at most ${max} characters` })
    .refine(isWellFormed, { error: WELL_FORMED_REASON })
}

function agentList (max: number): z.ZodType<string[]> {
  return z.array(z.string({ error: AGENT_ID_REASON }).regex(AGENT_ID_PATTERN, { error: AGENT_ID_REASON }),
    { error: typeError('a non-empty array of agent ids') })
    .min(1, { error: 'must name at least one agent' })
    .max(max, { error: `must name at most ${max} agents` })
    .superRefine((xs, ctx) => {
      const i = firstDuplicate(xs)
      if (i >= 0) ctx.addIssue({ code: 'custom', path: [i], message: `duplicate of agent id ${JSON.stringify(xs[i])}` })
    })
}

const millis = z.number({
  // NaN and ±Infinity are numbers to JavaScript but fail z.number(): say what is expected.
  error: iss => iss.input === undefined ? 'required' : typeof iss.input === 'number' ? MILLIS_REASON : 'must be a number of ms'
})
  .refine(isMillis, { error: MILLIS_REASON })

/** The zod schema of a valid message under `limits` (resolved). Cached per distinct limits. */
export function aclMessageSchema (limits: AclLimits = DEFAULT_ACL_LIMITS): z.ZodType<AclMessage> {
  const key = `${limits.maxContentBytes}/${limits.maxReceivers}/${limits.maxFieldChars}/${limits.maxIdChars}`
  let schema = schemas.get(key)
  if (schema === undefined) {
    schema = buildSchema(limits)
    // A handful of distinct limits exist in a process; the bound only guards misuse.
    if (schemas.size >= 32) schemas.clear()
    schemas.set(key, schema)
  }
  return schema
}

const schemas = new Map<string, z.ZodType<AclMessage>>()

function buildSchema (l: AclLimits): z.ZodType<AclMessage> {
  const content = z.custom<string | Uint8Array>(v => typeof v === 'string' || v instanceof Uint8Array,
    { error: 'must be a string or bytes (Uint8Array; { "base64": ... } in JSON)' })
    .superRefine((v, ctx) => {
      if (typeof v === 'string') {
        if (!isWellFormed(v)) ctx.addIssue({ code: 'custom', message: WELL_FORMED_REASON })
        else if (!utf8FitsIn(v, l.maxContentBytes)) {
          ctx.addIssue({ code: 'custom', message: `is ${utf8ByteLength(v)} bytes as UTF-8, more than the limit of ${l.maxContentBytes}` })
        }
      } else if (v.byteLength > l.maxContentBytes) {
        ctx.addIssue({ code: 'custom', message: `is ${v.byteLength} bytes, more than the limit of ${l.maxContentBytes}` })
      }
    })
  const field = (): z.ZodType<string> => boundedString(l.maxFieldChars, 'a string')
  const id = (): z.ZodType<string> => boundedString(l.maxIdChars, 'a string')
  const schema = z.strictObject({
    messageId: id(),
    createdAt: millis,
    performative: z.string({ error: typeError('a performative') })
      .refine(isPerformative, { error: `must be one of ${PERFORMATIVES.join(', ')}` }),
    sender: z.string({ error: typeError('an agent id') }).regex(AGENT_ID_PATTERN, { error: AGENT_ID_REASON }),
    receivers: agentList(l.maxReceivers),
    replyTo: agentList(l.maxReceivers).optional(),
    content: content.optional(),
    language: field().optional(),
    encoding: field().optional(),
    ontology: field().optional(),
    protocol: field().optional(),
    conversationId: id().optional(),
    replyWith: id().optional(),
    inReplyTo: id().optional(),
    replyBy: millis.optional(),
    traceparent: z.string({ error: typeError('a W3C traceparent string') })
      .superRefine((v, ctx) => {
        if (!isTraceparent00(v)) ctx.addIssue({ code: 'custom', message: `must be a W3C traceparent, version 00: ${explainTraceparent(v) ?? 'only version 00 is accepted'}` })
      }).optional(),
    tracestate: z.string({ error: typeError('a W3C tracestate string') })
      .min(1, { error: 'must not be empty (omit the field instead)' })
      .max(l.maxFieldChars, { error: `must be at most ${l.maxFieldChars} characters` })
      .regex(TRACESTATE_PATTERN, { error: 'must be printable ASCII (W3C Trace Context §3.3)' })
      .optional()
  }, { error: typeError('an object') })
  return schema as unknown as z.ZodType<AclMessage>
}

function fieldPath (path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(root)'
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else out += out === '' ? String(seg) : `.${String(seg)}`
  }
  return out
}

/**
 * Everything wrong with `input` as a message under `limits` (resolved): one issue per bad
 * field, in field order, at most {@link MAX_REPORTED_ISSUES}. Empty when it is valid.
 */
export function messageIssues (input: unknown, limits: AclLimits = DEFAULT_ACL_LIMITS): AclIssue[] {
  const result = aclMessageSchema(limits).safeParse(boundLists(input, limits.maxReceivers))
  if (result.success) return []
  const issues: AclIssue[] = []
  const seen = new Set<string>()
  const push = (field: string, reason: string): void => {
    if (seen.has(field) || issues.length >= MAX_REPORTED_ISSUES) return
    seen.add(field)
    issues.push({ field, reason })
  }
  for (const iss of result.error.issues) {
    if (iss.code === 'unrecognized_keys') {
      for (const k of iss.keys) push(k, 'unknown field (not a parameter of a FIPA-ACL message, see SPEC.md §1)')
    } else {
      push(fieldPath(iss.path), iss.message)
    }
  }
  return issues
}

/**
 * `input` with over-long `receivers`/`replyTo` arrays cut to `max + 1` elements: still too
 * long (so the verdict is unchanged), but zod no longer checks a million elements that a
 * hostile peer sent only to make the error path slow.
 */
function boundLists (input: unknown, max: number): unknown {
  if (typeof input !== 'object' || input === null) return input
  const m = input as Record<string, unknown>
  const long = (x: unknown): x is unknown[] => Array.isArray(x) && x.length > max + 1
  if (!long(m.receivers) && !long(m.replyTo)) return input
  // Own properties only, plus the inherited ones zod would see through for-in.
  const copy: Record<string, unknown> = {}
  for (const key in m) Object.defineProperty(copy, key, { value: m[key], enumerable: true, writable: true, configurable: true })
  for (const key of ['receivers', 'replyTo']) {
    const v = copy[key]
    if (long(v)) copy[key] = v.slice(0, max + 1)
  }
  return copy
}

/**
 * Checks that `input` is a valid FIPA-ACL message (SPEC.md §1) under `limits` (missing
 * limits take `DEFAULT_ACL_LIMITS`).
 * @returns `input` itself, narrowed: no copy is made
 * @throws AclValidationError `{ issues }` naming every bad field, e.g.
 *   `receivers[2]: must be an agent id (...)`, `content: is 2000000 bytes, more than ...`
 * @throws InvalidAclLimitsError when a given limit is not a positive integer
 */
export function validateMessage (input: unknown, limits?: Partial<AclLimits>): AclMessage {
  const l = resolveAclLimits(limits)
  if (isValidMessage(input, l)) return input
  throw new AclValidationError(messageIssuesOrInternal(input, l))
}

/** The issues zod finds; if it found none (the two checks disagree: a bug), says so rather than pass the message. */
function messageIssuesOrInternal (input: unknown, l: AclLimits): AclIssue[] {
  const issues = messageIssues(input, l)
  return issues.length > 0 ? issues : [{ field: '(root)', reason: 'rejected by the structural check (internal disagreement with the schema; please report)' }]
}
