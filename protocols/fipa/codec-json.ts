/**
 * The JSON form of a message (SPEC.md §2), for the REST API and the CLI: the same field
 * names as `AclMessage`; string content stays a JSON string, bytes become
 * `{ "base64": "..." }`; on input, performatives may be spelled loosely (`"request"`,
 * `"not_understood"`) and `null` means absent.
 */
import { Buffer } from 'node:buffer'
import { AclValidationError, UnknownPerformativeError, type AclIssue } from './errors.js'
import { parsePerformative } from './performatives.js'
import { DraftFields } from './stamp.js'
import type { AclMessage, Performative } from './types.js'
import { ACL_FIELDS, MAX_REPORTED_ISSUES, messageIssues, resolveAclLimits, validateMessage, type AclLimits } from './validate.js'

/** Content in JSON: text as a string, bytes as standard padded base64 (RFC 4648 §4). */
export type AclContentJson = string | { base64: string }

/** A message in its JSON form. */
export type AclMessageJson = Omit<AclMessage, 'content'> & { content?: AclContentJson }

/** Standard alphabet, padded: `length % 4 === 0`, `=` only at the end. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/**
 * The JSON form of a valid message: a fresh plain object with only the fields present,
 * ready for `JSON.stringify`.
 */
export function messageToJson (msg: AclMessage): AclMessageJson {
  const out: Record<string, unknown> = {}
  for (const key of ACL_FIELDS) {
    const v = msg[key]
    if (v === undefined) continue
    if (key === 'content' && v instanceof Uint8Array) {
      out.content = { base64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') }
    } else if (Array.isArray(v)) {
      out[key] = v.slice()
    } else {
      out[key] = v
    }
  }
  return out as AclMessageJson
}

interface Converted {
  draft: Record<string, unknown>
  issues: AclIssue[]
  /** Fields whose conversion failed (their issues are in `issues`). */
  bad: Set<string>
}

function convert (json: unknown, limits: AclLimits): Converted {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { draft: {}, issues: [{ field: '(root)', reason: 'must be a JSON object' }], bad: new Set(['(root)']) }
  }
  const draft: Record<string, unknown> = {}
  const issues: AclIssue[] = []
  const bad = new Set<string>()
  for (const [key, value] of Object.entries(json)) {
    if (value === null) continue
    if (key === 'performative') {
      if (typeof value !== 'string') {
        issues.push({ field: key, reason: 'must be a performative name, e.g. "REQUEST" or "not_understood"' })
        bad.add(key)
        continue
      }
      try {
        draft.performative = parsePerformative(value)
      } catch (err) {
        if (!(err instanceof UnknownPerformativeError)) throw err
        issues.push({ field: key, reason: err.message })
        bad.add(key)
      }
    } else if (key === 'content') {
      const content = contentFromJson(value, limits, issues)
      if (content === undefined) bad.add(key)
      else draft.content = content
    } else if (key === '__proto__') {
      // Object.entries lists a JSON-parsed "__proto__" key; define it as data so it is
      // reported as an unknown field rather than silently changing the draft's prototype.
      Object.defineProperty(draft, key, { value, enumerable: true, writable: true, configurable: true })
    } else {
      draft[key] = value
    }
  }
  return { draft, issues, bad }
}

function contentFromJson (value: unknown, limits: AclLimits, issues: AclIssue[]): string | Uint8Array | undefined {
  if (typeof value === 'string') return value
  if (typeof value !== 'object' || value === null || Array.isArray(value) ||
    Object.keys(value).length !== 1 || typeof (value as { base64?: unknown }).base64 !== 'string') {
    issues.push({ field: 'content', reason: 'must be a string, or { "base64": "<standard padded base64>" } for bytes' })
    return undefined
  }
  const b64 = (value as { base64: string }).base64
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0
  const bytes = b64.length / 4 * 3 - padding
  if (b64.length % 4 === 0 && bytes > limits.maxContentBytes) {
    // Checked before decoding: a huge body must not cost a huge allocation.
    issues.push({ field: 'content.base64', reason: `decodes to ${bytes} bytes, more than the limit of ${limits.maxContentBytes}` })
    return undefined
  }
  const decoded = b64.length % 4 === 0 && BASE64.test(b64) ? Buffer.from(b64, 'base64') : undefined
  // Re-encoding catches what Buffer silently tolerates (non-zero padding bits, stray '=').
  if (decoded === undefined || decoded.toString('base64') !== b64) {
    issues.push({ field: 'content.base64', reason: 'must be standard base64 with padding (RFC 4648 §4: A-Z a-z 0-9 + /, length a multiple of 4)' })
    return undefined
  }
  // A plain Uint8Array of its own (Buffer may hand out a slice of a shared pool).
  return new Uint8Array(decoded)
}

function fieldRank (field: string): number {
  const root = /^[^.[]*/.exec(field)?.[0] ?? field
  const i = (ACL_FIELDS as readonly string[]).indexOf(root)
  return i < 0 ? ACL_FIELDS.length : i
}

/**
 * Converts an incomplete draft from its JSON form, for the router to complete (stamp
 * `messageId`, `createdAt`, `sender`, ...) and validate later: converts only the content
 * form (`{ "base64" }` → bytes) and the performative spelling (`"request"` → `'REQUEST'`),
 * and drops `null` fields. Other fields are copied as they are, unchecked.
 * @param limits used only to refuse base64 content too large to be valid, before decoding it
 * @throws AclValidationError when the input is not an object, the performative is not one
 *   of the 22, or the content is neither a string nor valid `{ "base64" }`
 */
export function draftFromJson (json: unknown, limits?: Partial<AclLimits>): Record<string, unknown> {
  const { draft, issues } = convert(json, resolveAclLimits(limits))
  if (issues.length > 0) throw new AclValidationError(issues)
  return draft
}

/**
 * {@link draftFromJson}'s draft as {@link DraftFields}, for the common draft: the same
 * conversions, one pass over the keys, no intermediate arrays. `undefined` when the draft
 * is for `draftFromJson` to handle: not an object, a conversion fails (it throws the
 * error), or a key that SPEC.md §1 does not define (`stampDraft` keeps it, so that
 * validation names it). Values other than `performative` and `content` are unchecked.
 * @param limits as for `draftFromJson`
 */
export function draftFieldsFromJson (json: unknown, limits?: Partial<AclLimits>): DraftFields | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined
  const src = json as Record<string, unknown>
  const d = new DraftFields()
  for (const key in src) {
    // draftFromJson reads Object.entries: own enumerable keys only.
    if (!Object.hasOwn(src, key)) continue
    const value = src[key]
    if (value === null) continue
    switch (key) {
      case 'performative':
        if ((d.performative = performativeOrUndefined(value)) === undefined) return undefined
        break
      case 'content':
        if (typeof value === 'string') d.content = value
        else if ((d.content = contentFromJson(value, resolveAclLimits(limits), [])) === undefined) return undefined
        break
      case 'messageId': d.messageId = value; break
      case 'createdAt': d.createdAt = value; break
      case 'sender': d.sender = value; break
      case 'receivers': d.receivers = value; break
      case 'replyTo': d.replyTo = value; break
      case 'language': d.language = value; break
      case 'encoding': d.encoding = value; break
      case 'ontology': d.ontology = value; break
      case 'protocol': d.protocol = value; break
      case 'conversationId': d.conversationId = value; break
      case 'replyWith': d.replyWith = value; break
      case 'inReplyTo': d.inReplyTo = value; break
      case 'replyBy': d.replyBy = value; break
      case 'traceparent': d.traceparent = value; break
      case 'tracestate': d.tracestate = value; break
      default: return undefined
    }
  }
  return d
}

function performativeOrUndefined (value: unknown): Performative | undefined {
  if (typeof value !== 'string') return undefined
  try {
    return parsePerformative(value)
  } catch (err) {
    if (err instanceof UnknownPerformativeError) return undefined
    throw err
  }
}

/**
 * Reads a complete message from its JSON form (SPEC.md §2) and validates it.
 * @returns a valid message (a new object; bytes content is a fresh Uint8Array)
 * @throws AclValidationError `{ issues }` naming every bad field, including `content.base64`
 *   for malformed base64 and `performative` for an unknown name
 */
export function messageFromJson (json: unknown, limits?: Partial<AclLimits>): AclMessage {
  const l = resolveAclLimits(limits)
  const { draft, issues, bad } = convert(json, l)
  if (issues.length === 0) return validateMessage(draft, l)
  if (bad.has('(root)')) throw new AclValidationError(issues)
  // Report the other fields' problems too, in field order, without repeating the bad ones.
  const more = messageIssues(draft, l).filter(i => !bad.has(i.field.replace(/[.[].*$/, '')))
  const all = [...issues, ...more].sort((a, b) => fieldRank(a.field) - fieldRank(b.field))
  throw new AclValidationError(all.slice(0, MAX_REPORTED_ISSUES))
}
