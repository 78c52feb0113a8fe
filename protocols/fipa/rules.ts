/**
 * The primitive checks of the message model (SPEC.md §1), shared by the zod schema and the
 * fast structural check in `validate.ts` so that the two cannot drift apart.
 */

/** Agent id syntax: 1-128 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or digit. */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

/** W3C Trace Context §3.2.2 `traceparent`, version 00: lower-case hex only. */
export const TRACEPARENT_PATTERN = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/

/** `tracestate` (W3C Trace Context §3.3): printable ASCII only. */
export const TRACESTATE_PATTERN = /^[\x20-\x7e]+$/

export function isAgentId (x: unknown): x is string {
  return typeof x === 'string' && AGENT_ID_PATTERN.test(x)
}

/**
 * Version-00 `traceparent` with neither the trace id nor the parent id all zeros
 * (§3.2.2.3, §3.2.2.4). Equivalent to {@link TRACEPARENT_PATTERN} plus the zero checks,
 * written as a loop: the regex took half the time of validating a whole message.
 */
export function isTraceparent00 (x: unknown): x is string {
  if (typeof x !== 'string' || x.length !== 55) return false
  if (x.charCodeAt(0) !== 0x30 || x.charCodeAt(1) !== 0x30 || x.charCodeAt(2) !== 0x2d ||
    x.charCodeAt(35) !== 0x2d || x.charCodeAt(52) !== 0x2d) return false
  let traceBits = 0
  for (let i = 3; i < 35; i++) {
    const c = x.charCodeAt(i)
    if (!isHexLc(c)) return false
    traceBits |= c ^ 0x30
  }
  let parentBits = 0
  for (let i = 36; i < 52; i++) {
    const c = x.charCodeAt(i)
    if (!isHexLc(c)) return false
    parentBits |= c ^ 0x30
  }
  return traceBits !== 0 && parentBits !== 0 && isHexLc(x.charCodeAt(53)) && isHexLc(x.charCodeAt(54))
}

function isHexLc (c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)
}

const wellFormed = String.prototype as unknown as { isWellFormed: (this: string) => boolean }

/**
 * Whether a string is well-formed Unicode (no lone surrogate), i.e. has an exact UTF-8
 * form: a lone surrogate would silently become U+FFFD on the wire.
 */
export function isWellFormed (s: string): boolean {
  return wellFormed.isWellFormed.call(s)
}

/**
 * Bytes of the UTF-8 form of a well-formed string (what msgpack and JSON carry), without
 * encoding it. A lone surrogate counts 3 bytes, as its replacement U+FFFD would.
 */
export function utf8ByteLength (s: string): number {
  let bytes = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) bytes += 1
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      i++ // a surrogate pair: 2 UTF-16 units, 4 bytes
      bytes += 2
    } else bytes += 2
  }
  return bytes
}

/**
 * Whether a string's UTF-8 form fits in `max` bytes. Decides from the length alone when it
 * can (each UTF-16 unit is 1-3 bytes), so the common case does no per-character work.
 */
export function utf8FitsIn (s: string, max: number): boolean {
  if (s.length * 3 <= max) return true
  if (s.length > max) return false
  return utf8ByteLength(s) <= max
}

/** A whole number of ms since the epoch that a double holds exactly (0 ≤ x ≤ 2^53 - 1). */
export function isMillis (x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0
}

/**
 * Characters (Unicode code points) in a string: a surrogate pair counts once, a lone
 * surrogate once. The unit of every `max...Chars` limit (and of zod's string lengths).
 */
export function codePointLength (s: string): number {
  let count = s.length
  for (let i = 0; i < s.length - 1; i++) {
    if ((s.charCodeAt(i) & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count--
      i++
    }
  }
  return count
}

/** A non-empty, well-formed string of at most `max` characters (code points). */
export function isBoundedString (x: unknown, max: number): x is string {
  if (typeof x !== 'string' || x.length === 0 || !isWellFormed(x)) return false
  // A code point is 1 or 2 UTF-16 units: count only when the unit length cannot decide.
  return x.length <= max || (x.length <= 2 * max && codePointLength(x) <= max)
}

/** Whether an array of strings holds a value twice; returns the index of the first repeat, or -1. */
export function firstDuplicate (xs: readonly unknown[]): number {
  if (xs.length <= 8) {
    // Quadratic but allocation-free: receivers lists are short (usually 1).
    for (let i = 1; i < xs.length; i++) {
      for (let j = 0; j < i; j++) if (xs[i] === xs[j]) return i
    }
    return -1
  }
  const seen = new Set<unknown>()
  for (let i = 0; i < xs.length; i++) {
    if (seen.has(xs[i])) return i
    seen.add(xs[i])
  }
  return -1
}
