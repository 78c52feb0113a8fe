/**
 * W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/ §3.2):
 * `version "-" trace-id "-" parent-id "-" trace-flags`, e.g.
 * `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`. Pure: randomness is passed in.
 */
import { Buffer } from 'node:buffer'
import { HEX, HEX_CODES } from '../hex.js'
import { TraceparentError } from './errors.js'

/** A parsed `traceparent`. */
export interface TraceContext {
  /** 2 lower-case hex digits; `'00'` for every value this module produces. */
  version: string
  /** 32 lower-case hex digits (16 bytes), not all zero. */
  traceId: string
  /** 16 lower-case hex digits (8 bytes), not all zero: the id of the caller's span. */
  parentId: string
  /** The trace-flags byte, 0..255. Bit 0 is `sampled` (§3.2.2.5). */
  flags: number
}

/** trace-flags bit 0: the caller may have recorded the trace (§3.2.2.5.1). */
export const TRACE_FLAG_SAMPLED = 0x01
/** trace-flags bit 1 (Trace Context Level 2 §3.2.2.5.2): the trace id's right 7 bytes are random. */
export const TRACE_FLAG_RANDOM = 0x02

/** A source of random bytes, e.g. `(n) => crypto.getRandomValues(new Uint8Array(n))`, or a seeded one in tests. */
export type RandomBytes = (n: number) => Uint8Array

const HEX_LC = /^[0-9a-f]*$/
const LENGTH_00 = 55
const ALL_ZEROS = /^0+$/

/**
 * Why `value` is not a valid `traceparent`, or `undefined` when it is one of version 00.
 * (Values of a later version are not version 00: see {@link parseTraceparent} for those.)
 */
export function explainTraceparent (value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string'
  const version = value.slice(0, 2)
  if (version.length < 2 || !HEX_LC.test(version)) return 'version must be 2 lower-case hex digits'
  if (version !== '00') return version === 'ff' ? 'version ff is invalid (§3.2.2.2)' : `version ${version} is not 00`
  if (value.length !== LENGTH_00) return `a version-00 value is ${LENGTH_00} characters, not ${value.length}`
  return explainFields(value)
}

/** Checks the first 55 characters (the version-00 layout) of a value whose version is valid. */
function explainFields (value: string): string | undefined {
  if (value[2] !== '-' || value[35] !== '-' || value[52] !== '-') {
    return 'fields must be separated by "-" at offsets 2, 35 and 52 (version-trace_id-parent_id-flags)'
  }
  const parentId = value.slice(36, 52)
  const flags = value.slice(53, 55)
  const traceIdProblem = explainTraceId(value.slice(3, 35))
  if (traceIdProblem !== undefined) return traceIdProblem
  if (!HEX_LC.test(parentId)) return 'parent-id must be 16 lower-case hex digits (§3.2.2.4)'
  if (ALL_ZEROS.test(parentId)) return 'parent-id must not be all zeros (§3.2.2.4)'
  if (!HEX_LC.test(flags)) return 'trace-flags must be 2 lower-case hex digits (§3.2.2.5)'
  return undefined
}

/** Why `traceId` is not a valid trace-id (32 lower-case hex digits, not all zeros), or `undefined`. */
function explainTraceId (traceId: unknown): string | undefined {
  if (typeof traceId !== 'string' || traceId.length !== 32 || !HEX_LC.test(traceId)) return 'trace-id must be 32 lower-case hex digits (§3.2.2.3)'
  if (ALL_ZEROS.test(traceId)) return 'trace-id must not be all zeros (§3.2.2.3)'
  return undefined
}

/**
 * Parses a `traceparent` (§3.2). Version 00 must be exactly 55 characters. A later version
 * (not `ff`) is read as §3.2.4 asks: its first 55 characters in the version-00 layout,
 * followed by nothing or by `-` and fields this version does not know (ignored).
 * @throws TraceparentError `{ value, reason }` naming what is malformed
 */
export function parseTraceparent (value: string): TraceContext {
  const problem = explainParse(value)
  if (problem !== undefined) throw new TraceparentError(String(value), problem)
  return contextOf(value)
}

/** {@link parseTraceparent} that returns `undefined` instead of throwing (W3C: restart the trace). */
export function tryParseTraceparent (value: unknown): TraceContext | undefined {
  // Checked once: this ran `explainParse` twice (here, then in `parseTraceparent`).
  return typeof value === 'string' && explainParse(value) === undefined ? contextOf(value) : undefined
}

/** The fields of a value `explainParse` accepted. */
function contextOf (value: string): TraceContext {
  return {
    version: value.slice(0, 2),
    traceId: value.slice(3, 35),
    parentId: value.slice(36, 52),
    flags: parseInt(value.slice(53, 55), 16)
  }
}

function explainParse (value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string'
  const version = value.slice(0, 2)
  if (version === '00' || version.length < 2 || !HEX_LC.test(version) || version === 'ff') return explainTraceparent(value)
  if (value.length < LENGTH_00) return `a version-${version} value is at least ${LENGTH_00} characters, not ${value.length}`
  if (value.length > LENGTH_00 && value[LENGTH_00] !== '-') return `a version-${version} value longer than ${LENGTH_00} characters must continue with "-" (§3.2.4)`
  return explainFields(value)
}

/**
 * Formats a version-00 `traceparent`.
 * @throws TraceparentError when an id is malformed or all zeros, or `flags` is not 0..255
 */
export function formatTraceparent (ctx: Pick<TraceContext, 'traceId' | 'parentId' | 'flags'>): string {
  const flags = ctx.flags
  const value = `00-${ctx.traceId}-${ctx.parentId}-${Number.isInteger(flags) && flags >= 0 && flags <= 255 ? hex2(flags) : 'xx'}`
  const problem = explainTraceparent(value)
  if (problem !== undefined) throw new TraceparentError(value, problem)
  return value
}

/**
 * Starts a new trace: a `traceparent` with a fresh trace id (16 bytes) and parent id
 * (8 bytes) from `randomBytes`, flags `sampled` (01) unless `{ sampled: false }`.
 * An all-zero id (from a degenerate source) gets its last byte set to 1, as W3C forbids zeros.
 * @throws TraceparentError when `randomBytes(n)` returns fewer than n bytes
 */
export function newTraceparent (randomBytes: RandomBytes, options: { sampled?: boolean } = {}): string {
  const traceId = randomBytesOf(randomBytes, 16)
  const parentId = randomBytesOf(randomBytes, 8)
  return writeNewTrace(traceId, 0, parentId, 0, options.sampled !== false)
}

/** Bytes of a new trace's random part: 16 of trace-id, then 8 of parent-id. */
export const NEW_TRACE_RANDOM_BYTES = 24

/**
 * {@link newTraceparent} from random bytes the caller holds: trace-id from
 * `bytes[offset, offset + 16)`, parent-id from the next 8 (an all-zero id gets its last
 * byte read as 1). For a pooled source: ~90 ns, against ~170 ns for `newTraceparent` over a
 * pool that copies out each draw (two typed arrays; Node 20, CPU time on the project's machine).
 * @throws RangeError when `bytes` holds fewer than 24 bytes from `offset`
 */
export function newTraceparentFrom (bytes: Uint8Array, offset: number, options: { sampled?: boolean } = {}): string {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + NEW_TRACE_RANDOM_BYTES > bytes.length) {
    throw new RangeError(`a new trace reads ${NEW_TRACE_RANDOM_BYTES} bytes from offset ${offset} of ${bytes.length}`)
  }
  return writeNewTrace(bytes, offset, bytes, offset + 16, options.sampled !== false)
}

/**
 * Writes the 55 characters into a scratch buffer and decodes them once: newTraceparent took
 * ~285 ns when it joined 24 two-character pieces (a rope flattened later), ~170 ns so.
 */
function writeNewTrace (trace: Uint8Array, traceAt: number, parent: Uint8Array, parentAt: number, sampled: boolean): string {
  writeHexId(trace, traceAt, 16, 3)
  writeHexId(parent, parentAt, 8, 36)
  SCRATCH[54] = sampled ? 0x31 : 0x30
  // Synchronous: the scratch is read back before any other call can write it.
  return SCRATCH.toString('latin1', 0, LENGTH_00)
}

/** Writes `n` bytes from `from` as hex at `at` of the scratch; all zeros end in 01 (§3.2.2.3-4). */
function writeHexId (bytes: Uint8Array, from: number, n: number, at: number): void {
  let any = 0
  for (let i = 0; i < n; i++) {
    const b = bytes[from + i]
    any |= b
    SCRATCH[at + 2 * i] = HEX_CODES[2 * b]
    SCRATCH[at + 2 * i + 1] = HEX_CODES[2 * b + 1]
  }
  if (any === 0) SCRATCH[at + 2 * n - 1] = 0x31
}

/**
 * The `traceparent` of a child span: the same trace id and a new parent id from
 * `randomBytes` (§3.2.2.4: each hop sets parent-id to its own span). The result is version
 * 00 whatever the parent's version (§3.2.4); flags keep `sampled` and the Level 2 `random`
 * bit, others are zeroed (§3.2.2.5: unknown flags must not be propagated as set).
 * @throws TraceparentError when `parent` is malformed, or `randomBytes` returns too few bytes
 */
export function childTraceparent (parent: string | TraceContext, randomBytes: RandomBytes): string {
  const p = typeof parent === 'string' ? parseTraceparent(parent) : parent
  const traceId = p.traceId
  const flags = p.flags & (TRACE_FLAG_SAMPLED | TRACE_FLAG_RANDOM)
  if (explainTraceId(traceId) !== undefined) {
    // Throws, naming what is wrong with the trace id (no random bytes drawn for it).
    return formatTraceparent({ traceId, parentId: '0000000000000001', flags })
  }
  // Written in place: the parent id is ours and the flags are 0-3, so only the trace id
  // needs a check. Formatting and checking the whole value again, the router's `traceFor`
  // (parse and child) took 786-827 ns; 431-461 ns so (Node 20, the project's machine).
  SCRATCH.write(traceId, 3, 'latin1')
  writeHexId(randomBytesOf(randomBytes, 8), 0, 8, 36)
  SCRATCH[53] = 0x30
  SCRATCH[54] = 0x30 + flags
  return SCRATCH.toString('latin1', 0, LENGTH_00)
}

/** A version-00 traceparent written in place, decoded as one string (see {@link newTraceparentFrom}). */
const SCRATCH = Buffer.from(`00-${'0'.repeat(32)}-${'0'.repeat(16)}-01`, 'latin1')

function hex2 (n: number): string {
  return HEX[n]
}

function randomBytesOf (randomBytes: RandomBytes, n: number): Uint8Array {
  const bytes = randomBytes(n)
  if (!(bytes instanceof Uint8Array) || bytes.length < n) {
    throw new TraceparentError('', `randomBytes(${n}) returned ${bytes instanceof Uint8Array ? bytes.length : 'no'} bytes`)
  }
  return bytes
}
