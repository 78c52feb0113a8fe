/**
 * Host side of the agent ABI's message layout (SPEC.md §3): a version byte, then TLV
 * fields (tag u8, length u32 little-endian, value). The same layout carries messages
 * both ways: host → agent (`encodeForAgent`) and agent → host (`decodeFromAgent`).
 */
import { isUtf8 } from 'node:buffer'
import { PERFORMATIVES, type AclMessage } from '../fipa/types.js'
import { AbiDecodeError } from './errors.js'
import { ABI_VERSION, FIELDS, FIELD_HEADER_BYTES, TAG } from './tags.js'

/** Any subset of a message's fields; what the encoder accepts. */
export type AbiMessageFields = Partial<AclMessage>

const PERFORMATIVE_CODES: ReadonlyMap<string, number> = new Map(PERFORMATIVES.map((p, i) => [p, i]))

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
/** Node: its Buffer's native string functions are used where they are faster. */
const HAS_BUFFER = typeof Buffer === 'function'

/**
 * Node's `Buffer#utf8Write`, called on a Buffer over the target: a 200-character string
 * in about 50 ns against 65-75 ns for `encodeInto`, which also allocates a subarray and a
 * result object per call (lone surrogates become U+FFFD either way). Elsewhere, the
 * portable `encodeInto`.
 */
const nodeUtf8Write: ((this: Uint8Array, s: string, offset: number) => number) | undefined =
  HAS_BUFFER ? Buffer.prototype.utf8Write : undefined

/**
 * Where the encoder writes: `out` from `pos` up to `end`, set by each call. Encoding is
 * synchronous and never re-entered, so one set of these serves every call.
 */
let out: Uint8Array = new Uint8Array(0)
let outView: DataView = new DataView(out.buffer)
/** `out` as a Buffer, for `nodeUtf8Write`. */
let outBuffer: Uint8Array = out
let pos = 0
let end = 0

/** Sets the encoder's target; its views are made again only when the target changes. */
function target (bytes: Uint8Array, offset: number): void {
  if (bytes !== out) {
    out = bytes
    outView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    if (nodeUtf8Write !== undefined) outBuffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }
  pos = offset
  end = bytes.length
}

function putHeader (tag: number, length: number): void {
  out[pos] = tag
  outView.setUint32(pos + 1, length, true)
  pos += FIELD_HEADER_BYTES
}

/** Below this many UTF-16 code units, a JS loop beats a native call's cost. */
const SHORT_STRING = 32

/** Writes `s` as UTF-8 at `at` of the target (room for `s.length * 3` bytes is there); returns the bytes written. */
function writeUtf8 (at: number, s: string): number {
  return nodeUtf8Write !== undefined
    ? nodeUtf8Write.call(outBuffer, s, at)
    : utf8Encoder.encodeInto(s, out.subarray(at)).written
}

/** False when `s` may not fit (it would take up to 3 bytes per UTF-16 code unit). */
function putString (tag: number, s: string): boolean {
  // A UTF-16 code unit becomes at most 3 UTF-8 bytes (a surrogate pair: 4 for 2 units).
  if (pos + FIELD_HEADER_BYTES + s.length * 3 > end) return false
  const start = pos + FIELD_HEADER_BYTES
  let i = 0
  if (s.length < SHORT_STRING) {
    // Identifiers are short and nearly always ASCII.
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) break
      out[start + i] = c
    }
  }
  let n = i
  if (i < s.length) n += writeUtf8(start + i, i === 0 ? s : s.slice(i))
  putHeader(tag, n)
  pos += n
  return true
}

function putF64 (tag: number, value: number): boolean {
  if (pos + FIELD_HEADER_BYTES + 8 > end) return false
  putHeader(tag, 8)
  outView.setFloat64(pos, value, true)
  pos += 8
  return true
}

/** False when the target has no room left for the message (see `target`). */
function putMessage (msg: AbiMessageFields): boolean {
  if (pos + 1 > end) return false
  out[pos++] = ABI_VERSION
  if (msg.performative !== undefined) {
    const code = PERFORMATIVE_CODES.get(msg.performative)
    if (code === undefined) throw new TypeError(`not a performative: ${String(msg.performative)}`)
    if (pos + FIELD_HEADER_BYTES + 1 > end) return false
    putHeader(TAG.performative, 1)
    out[pos++] = code
  }
  if (msg.sender !== undefined && !putString(TAG.sender, msg.sender)) return false
  if (msg.receivers !== undefined) for (const r of msg.receivers) if (!putString(TAG.receiver, r)) return false
  if (msg.replyTo !== undefined) for (const r of msg.replyTo) if (!putString(TAG.replyTo, r)) return false
  const content = msg.content
  if (typeof content === 'string') {
    if (!putString(TAG.contentText, content)) return false
  } else if (content !== undefined) {
    if (pos + FIELD_HEADER_BYTES + content.length > end) return false
    putHeader(TAG.contentBytes, content.length)
    out.set(content, pos)
    pos += content.length
  }
  if (msg.language !== undefined && !putString(TAG.language, msg.language)) return false
  if (msg.encoding !== undefined && !putString(TAG.encoding, msg.encoding)) return false
  if (msg.ontology !== undefined && !putString(TAG.ontology, msg.ontology)) return false
  if (msg.protocol !== undefined && !putString(TAG.protocol, msg.protocol)) return false
  if (msg.conversationId !== undefined && !putString(TAG.conversationId, msg.conversationId)) return false
  if (msg.replyWith !== undefined && !putString(TAG.replyWith, msg.replyWith)) return false
  if (msg.inReplyTo !== undefined && !putString(TAG.inReplyTo, msg.inReplyTo)) return false
  if (msg.replyBy !== undefined && !putF64(TAG.replyBy, msg.replyBy)) return false
  if (msg.messageId !== undefined && !putString(TAG.messageId, msg.messageId)) return false
  if (msg.createdAt !== undefined && !putF64(TAG.createdAt, msg.createdAt)) return false
  if (msg.traceparent !== undefined && !putString(TAG.traceparent, msg.traceparent)) return false
  if (msg.tracestate !== undefined && !putString(TAG.tracestate, msg.tracestate)) return false
  return true
}

/**
 * Encodes a message into `bytes` at `offset`, as `encodeAbiMessage` does, without
 * allocating: for a caller that frames many messages in one buffer (the runtime's batches).
 * @returns the offset just past the message, or -1 when it may not fit before the end of
 *   `bytes` (what was written past `offset` is then garbage: grow the buffer and call again)
 * @throws TypeError as `encodeAbiMessage`
 */
export function encodeAbiMessageInto (msg: AbiMessageFields, bytes: Uint8Array, offset: number): number {
  target(bytes, offset)
  return putMessage(msg) ? pos : -1
}

/**
 * One growable scratch buffer (it grows to the largest message): messages are written
 * here, then copied out at their exact size (`encodeAbiMessage`) or by the caller
 * (`encodeAbiMessageScratch`), so encoding allocates at most once per message.
 */
let scratch = new Uint8Array(4096)

/** Encodes `msg` at the start of `scratch`, growing it until it fits; returns its length. */
function encodeToScratch (msg: AbiMessageFields): number {
  let n = encodeAbiMessageInto(msg, scratch, 0)
  while (n < 0) {
    scratch = new Uint8Array(scratch.length * 2)
    n = encodeAbiMessageInto(msg, scratch, 0)
  }
  return n
}

/**
 * Encodes any subset of a message's fields. Fields that are `undefined` are left out;
 * strings are written as UTF-8 (lone surrogates become U+FFFD).
 * @throws TypeError when `performative` is not one of `PERFORMATIVES` (validated
 *   messages never hit this)
 */
export function encodeAbiMessage (msg: AbiMessageFields): Uint8Array {
  return scratch.slice(0, encodeToScratch(msg))
}

/**
 * Encodes as `encodeAbiMessage` does, without a copy: the bytes are a view of this
 * module's scratch buffer, valid until the next call of an encoder of this module (for
 * a caller that copies them at once, as the runtime's mailboxes do).
 * @throws TypeError as `encodeAbiMessage`
 */
export function encodeAbiMessageScratch (msg: AbiMessageFields): Uint8Array {
  return scratch.subarray(0, encodeToScratch(msg))
}

/**
 * Encodes a validated message for delivery to an agent: the bytes the host writes into
 * the agent's linear memory before calling `handle_message(ptr, len)`.
 */
export function encodeForAgent (msg: AclMessage): Uint8Array {
  return encodeAbiMessage(msg)
}

function hex (tag: number): string {
  return `0x${tag.toString(16).padStart(2, '0')}`
}

/**
 * Decodes the bytes an agent passed to `env.send` into a draft message: the fields the
 * agent set, named as in `AclMessage` (`performative` as its canonical name, `receivers`
 * and `replyTo` as arrays, `content` as a `string` when tagged text and a `Uint8Array`
 * copy when tagged bytes, times as numbers). Not validated: the router validates drafts.
 * @throws AbiDecodeError `{ reason }` when the bytes are not a version-1 message; never
 *   anything else
 */
export function decodeFromAgent (bytes: Uint8Array): Record<string, unknown> {
  if (!(bytes instanceof Uint8Array)) throw new AbiDecodeError('expected a Uint8Array')
  if (bytes.length === 0) throw new AbiDecodeError('empty message')
  if (bytes[0] !== ABI_VERSION) throw new AbiDecodeError(`unsupported ABI version ${bytes[0]} (this host reads version ${ABI_VERSION})`)
  source(bytes)
  const draft: Record<string, unknown> = {}
  let off = 1
  while (off < bytes.length) {
    if (bytes.length - off < FIELD_HEADER_BYTES) {
      throw new AbiDecodeError(`truncated field header at offset ${off}: ${bytes.length - off} bytes left, 5 needed`)
    }
    const tag = bytes[off]
    const n = u32At(bytes, off + 1)
    const start = off + FIELD_HEADER_BYTES
    const spec = FIELDS[tag]
    if (spec === undefined) throw new AbiDecodeError(`unknown field tag ${hex(tag)} at offset ${off}`)
    if (n > bytes.length - start) {
      throw new AbiDecodeError(`field ${spec.name} at offset ${off} declares ${n} bytes, only ${bytes.length - start} remain`)
    }
    const end = start + n
    if (spec.kind === 'strings') {
      const list = draft[spec.key] as string[] | undefined
      const value = readUtf8(bytes, start, end, spec.name)
      if (list === undefined) draft[spec.key] = [value]
      else list.push(value)
    } else {
      if (draft[spec.key] !== undefined) throw new AbiDecodeError(`field ${spec.name} appears twice (at offset ${off} again)`)
      switch (spec.kind) {
        case 'performative': {
          if (n !== 1) throw new AbiDecodeError(`field performative is ${n} bytes, expected 1`)
          const code = bytes[start]
          const name = PERFORMATIVES[code]
          if (name === undefined) throw new AbiDecodeError(`unknown performative code ${code} (valid: 0..${PERFORMATIVES.length - 1})`)
          draft.performative = name
          break
        }
        case 'f64': {
          if (n !== 8) throw new AbiDecodeError(`field ${spec.name} is ${n} bytes, expected 8 (f64)`)
          const value = f64At(bytes, start)
          if (!Number.isFinite(value)) throw new AbiDecodeError(`field ${spec.name} is not a finite number`)
          draft[spec.key] = value
          break
        }
        case 'bytes':
          draft[spec.key] = bytes.slice(start, end)
          break
        default:
          draft[spec.key] = readUtf8(bytes, start, end, spec.name)
      }
    }
    off = end
  }
  return draft
}

/**
 * Whether `bytes` would decode: the reason `decodeFromAgent` would throw, or `undefined`
 * when it would not. Builds no strings or objects, for the agent worker's synchronous
 * answer to `env.send` (the main thread decodes the bytes it forwards).
 */
export function checkFromAgent (bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return 'empty message'
  if (bytes[0] !== ABI_VERSION) return `unsupported ABI version ${bytes[0]} (this host reads version ${ABI_VERSION})`
  // Single-valued fields seen so far, by tag (content counts once for both of its tags).
  let seen = 0
  let off = 1
  while (off < bytes.length) {
    if (bytes.length - off < FIELD_HEADER_BYTES) {
      return `truncated field header at offset ${off}: ${bytes.length - off} bytes left, 5 needed`
    }
    const tag = bytes[off]
    const n = u32At(bytes, off + 1)
    const start = off + FIELD_HEADER_BYTES
    const spec = FIELDS[tag]
    if (spec === undefined) return `unknown field tag ${hex(tag)} at offset ${off}`
    if (n > bytes.length - start) return `field ${spec.name} at offset ${off} declares ${n} bytes, only ${bytes.length - start} remain`
    const end = start + n
    if (spec.kind !== 'strings') {
      const bit = 1 << (tag === TAG.contentText ? TAG.contentBytes : tag)
      if ((seen & bit) !== 0) return `field ${spec.name} appears twice (at offset ${off} again)`
      seen |= bit
    }
    switch (spec.kind) {
      case 'performative': {
        if (n !== 1) return `field performative is ${n} bytes, expected 1`
        const code = bytes[start]
        if (code >= PERFORMATIVES.length) return `unknown performative code ${code} (valid: 0..${PERFORMATIVES.length - 1})`
        break
      }
      case 'f64':
        if (n !== 8) return `field ${spec.name} is ${n} bytes, expected 8 (f64)`
        if (!Number.isFinite(f64At(bytes, start))) return `field ${spec.name} is not a finite number`
        break
      case 'bytes':
        break
      default:
        if (!isUtf8(bytes.subarray(start, end))) return `field ${spec.name} is not valid UTF-8`
    }
    off = end
  }
  return undefined
}

/**
 * A u32, little-endian, at `at` of `bytes` (without a DataView per message: `checkFromAgent`
 * of a message of 9 fields went from ~305-325 to ~235-265 ns, 2M calls).
 */
function u32At (bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0
}

const f64Bytes = new Uint8Array(8)
const f64View = new DataView(f64Bytes.buffer)

/** An f64, little-endian, at `at` of `bytes`. */
function f64At (bytes: Uint8Array, at: number): number {
  for (let i = 0; i < 8; i++) f64Bytes[i] = bytes[at + i]
  return f64View.getFloat64(0, true)
}

/** Node's native string slicing of a Buffer, untyped in @types/node. */
interface NodeSlices {
  latin1Slice: (start: number, end: number) => string
  utf8Slice: (start: number, end: number) => string
}

/**
 * The memory of the bytes being decoded as a Buffer (Node only), made again only when it
 * changes (the runtime decodes many messages from one results buffer in a row), and where
 * the bytes start in it. Calling `latin1Slice`/`utf8Slice` on it as methods takes V8's fast
 * path for native functions; `Buffer.prototype.latin1Slice.call(bytes, ...)` took the slow
 * one, and `TextDecoder#decode` needs a subarray per string. With a 200-byte text
 * content, decoding an echo agent's reply went from ~680 to ~435 ns (perf stat).
 */
let srcMemory: ArrayBufferLike | undefined
let srcSlices: NodeSlices | undefined
let srcBase = 0
let srcEnd = 0

/** Sets the source `readUtf8` reads `bytes` from (`.buffer` is a native getter: once per message). */
function source (bytes: Uint8Array): void {
  if (!HAS_BUFFER) return
  const memory = bytes.buffer
  srcBase = bytes.byteOffset
  // A resizable ArrayBuffer may have grown since its Buffer was made.
  if (memory !== srcMemory || srcEnd < srcBase + bytes.length) {
    srcMemory = memory
    srcSlices = Buffer.from(memory) as unknown as NodeSlices
    srcEnd = memory.byteLength
  }
}

/** A string field of the message last given to `source`. */
function readUtf8 (bytes: Uint8Array, start: number, end: number, field: string): string {
  const slices = srcSlices
  // Short ASCII strings (ids, performative-adjacent fields) are the common case.
  let ascii = end - start <= 64
  for (let i = start; ascii && i < end; i++) if (bytes[i] >= 0x80) ascii = false
  if (slices !== undefined) {
    if (ascii) return slices.latin1Slice(srcBase + start, srcBase + end)
    // `utf8Slice` replaces what is not UTF-8 by U+FFFD: only text with one (rare) needs
    // the strict decoder, to tell an encoded U+FFFD from bytes that are not UTF-8.
    const text = slices.utf8Slice(srcBase + start, srcBase + end)
    if (!text.includes('\ufffd')) return text
  } else if (ascii) {
    return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[])
  }
  try {
    return utf8Decoder.decode(bytes.subarray(start, end))
  } catch {
    throw new AbiDecodeError(`field ${field} is not valid UTF-8`)
  }
}
