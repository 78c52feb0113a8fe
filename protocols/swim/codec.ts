/**
 * The SWIM wire codec: frames as msgpack (msgpackr, plain msgpack without its record
 * extension), layout in SPEC.md. The decoder checks every field and throws only
 * {@link SwimDecodeError}, whatever the input.
 */
import { Packr, Unpackr } from 'msgpackr'
import { SwimDecodeError } from './errors.js'
import { FRAME_TYPES, MEMBER_STATES } from './types.js'
import type { FrameType, MemberId, MemberRecord, MemberState, MemberUpdate, SwimFrame } from './types.js'

/** The wire version, field `v` of every frame. */
export const SWIM_WIRE_VERSION = 1

/** Limits on decoded fields, whatever the frame size. */
export const WIRE_LIMITS = Object.freeze({
  /** Characters in a member id. */
  idChars: 256,
  /** Addresses per member. */
  addrs: 32,
  /** Characters per address. */
  addrChars: 1024,
  /** Updates piggybacked on one frame. */
  updates: 4096,
  /** Records in one push-pull frame. */
  members: 1_000_000,
  /** Largest sequence number (exclusive). */
  seq: 2 ** 32
})

const UPDATE_KINDS = ['alive', 'suspect', 'dead', 'left'] as const

const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' })

const EMPTY: readonly string[] = Object.freeze([])

export interface DecodeOptions {
  /** Largest accepted input, bytes. @default 8388608 */
  maxFrameBytes?: number
  /** Largest accepted member meta, bytes. @default 65536 */
  maxMetaBytes?: number
  /**
   * Maps each decoded member id to a canonical copy, so that a process hosting many nodes
   * (the simulator) keeps one string per member instead of one per node. @default identity
   */
  intern?: (id: string) => string
}

type WireUpdate = [number, string, number, ...unknown[]]

function wireUpdate (u: MemberUpdate): WireUpdate {
  switch (u.kind) {
    case 'alive': return u.meta === undefined ? [0, u.id, u.incarnation, u.addrs] : [0, u.id, u.incarnation, u.addrs, u.meta]
    case 'suspect': return [1, u.id, u.incarnation, u.from]
    case 'dead': return [2, u.id, u.incarnation, u.from]
    case 'left': return [3, u.id, u.incarnation]
  }
}

function wireRecord (r: MemberRecord): unknown[] {
  const state = MEMBER_STATES.indexOf(r.state)
  return r.meta === undefined ? [state, r.id, r.incarnation, r.addrs] : [state, r.id, r.incarnation, r.addrs, r.meta]
}

/** Encodes a frame, bytes. The input is trusted (built by this module's callers). */
export function encodeFrame (frame: SwimFrame): Uint8Array {
  const wire: Record<string, unknown> = { v: SWIM_WIRE_VERSION, t: frame.type }
  switch (frame.type) {
    case 'ping':
      wire.s = frame.seq
      wire.n = frame.target
      break
    case 'ping-req':
      wire.s = frame.seq
      wire.n = frame.target
      wire.a = frame.targetAddrs
      wire.k = frame.nack
      break
    case 'ack':
    case 'nack':
      wire.s = frame.seq
      break
    case 'gossip':
      break
    case 'push-pull':
      wire.j = frame.join
      wire.r = frame.reply
      wire.m = frame.members.map(wireRecord)
      break
  }
  if (frame.type !== 'push-pull' && frame.updates.length > 0) wire.u = frame.updates.map(wireUpdate)
  return packr.pack(wire)
}

function utf8Length (s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4
      i++
    } else n += 3
  }
  return n
}

function strSize (s: string): number {
  const n = utf8Length(s)
  return n + (n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5)
}

function uintSize (x: number): number {
  return x < 128 ? 1 : x < 256 ? 2 : x < 65536 ? 3 : x < 4294967296 ? 5 : 9
}

function arrayHeaderSize (n: number): number {
  return n < 16 ? 1 : n < 65536 ? 3 : 5
}

function binSize (n: number): number {
  return n + (n < 256 ? 2 : n < 65536 ? 3 : 5)
}

/**
 * The encoded size of one update inside a frame's update list, bytes: computed from the
 * msgpack format rules rather than by encoding (it is asked for every queued update).
 */
export function encodedUpdateSize (u: MemberUpdate): number {
  const head = 1 + strSize(u.id) + uintSize(u.incarnation)
  switch (u.kind) {
    case 'alive': {
      let size = head + arrayHeaderSize(u.addrs.length)
      for (const a of u.addrs) size += strSize(a)
      if (u.meta !== undefined) size += binSize(u.meta.byteLength)
      return size + arrayHeaderSize(u.meta === undefined ? 4 : 5)
    }
    case 'suspect':
    case 'dead':
      return 1 + head + strSize(u.from)
    case 'left':
      return 1 + head
  }
}

/**
 * Decodes and checks a frame.
 * @throws {SwimDecodeError} for anything that is not a valid frame of this wire version:
 *   oversized input, malformed msgpack, trailing bytes, a missing or mistyped field, a value
 *   out of range
 */
export function decodeFrame (bytes: Uint8Array, options: DecodeOptions = {}): SwimFrame {
  const length = bytes instanceof Uint8Array ? bytes.byteLength : -1
  if (length < 0) throw new SwimDecodeError(0, '(input)', 'expected a Uint8Array')
  const maxFrameBytes = options.maxFrameBytes ?? 8 * 1024 * 1024
  if (length > maxFrameBytes) throw new SwimDecodeError(length, '(input)', `larger than maxFrameBytes (${maxFrameBytes})`)
  if (length === 0) throw new SwimDecodeError(0, '(input)', 'empty frame')
  let raw: unknown
  try {
    raw = unpackr.unpack(bytes)
  } catch (err) {
    throw new SwimDecodeError(length, '(msgpack)', 'not a single well-formed msgpack value', { cause: err })
  }
  try {
    return new FrameReader(length, options).frame(raw)
  } catch (err) {
    if (err instanceof SwimDecodeError) throw err
    throw new SwimDecodeError(length, '(frame)', 'unreadable frame', { cause: err })
  }
}

class FrameReader {
  private readonly length: number
  private readonly maxMetaBytes: number
  private readonly intern: (id: string) => string

  constructor (length: number, options: DecodeOptions) {
    this.length = length
    this.maxMetaBytes = options.maxMetaBytes ?? 65536
    this.intern = options.intern ?? ((id) => id)
  }

  frame (raw: unknown): SwimFrame {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || raw instanceof Uint8Array) {
      this.fail('(frame)', 'expected a map')
    }
    const m = raw as Record<string, unknown>
    if (m.v !== SWIM_WIRE_VERSION) this.fail('v', `unsupported wire version ${String(m.v)} (this node speaks ${SWIM_WIRE_VERSION})`)
    const type = m.t
    if (typeof type !== 'string' || !(FRAME_TYPES as readonly string[]).includes(type)) this.fail('t', `unknown frame type ${String(type)}`)
    switch (type as FrameType) {
      case 'ping':
        return { type: 'ping', seq: this.seq(m.s, 's'), target: this.id(m.n, 'n'), updates: this.updates(m.u) }
      case 'ping-req':
        return {
          type: 'ping-req',
          seq: this.seq(m.s, 's'),
          target: this.id(m.n, 'n'),
          targetAddrs: this.addrs(m.a, 'a'),
          nack: this.bool(m.k, 'k'),
          updates: this.updates(m.u)
        }
      case 'ack':
        return { type: 'ack', seq: this.seq(m.s, 's'), updates: this.updates(m.u) }
      case 'nack':
        return { type: 'nack', seq: this.seq(m.s, 's'), updates: this.updates(m.u) }
      case 'gossip':
        return { type: 'gossip', updates: this.updates(m.u) }
      case 'push-pull':
        return { type: 'push-pull', join: this.bool(m.j, 'j'), reply: this.bool(m.r, 'r'), members: this.records(m.m) }
    }
  }

  private updates (raw: unknown): MemberUpdate[] {
    if (raw === undefined) return []
    if (!Array.isArray(raw)) this.fail('u', 'expected an array')
    if (raw.length > WIRE_LIMITS.updates) this.fail('u', `more than ${WIRE_LIMITS.updates} updates`)
    const out: MemberUpdate[] = []
    for (let i = 0; i < raw.length; i++) out.push(this.update(raw[i], `u[${i}]`))
    return out
  }

  private update (raw: unknown, path: string): MemberUpdate {
    if (!Array.isArray(raw) || raw.length < 3) this.fail(path, 'expected [kind, id, incarnation, ...]')
    const kind = raw[0]
    if (typeof kind !== 'number' || !Number.isInteger(kind) || kind < 0 || kind >= UPDATE_KINDS.length) {
      this.fail(`${path}[0]`, `unknown update kind ${String(kind)}`)
    }
    const id = this.id(raw[1], `${path}[1]`)
    const incarnation = this.incarnation(raw[2], `${path}[2]`)
    switch (UPDATE_KINDS[kind]) {
      case 'alive': {
        if (raw.length > 5) this.fail(path, 'too many fields')
        const meta = this.meta(raw[4], `${path}[4]`)
        const addrs = this.addrs(raw[3], `${path}[3]`)
        return meta === undefined ? { kind: 'alive', id, incarnation, addrs } : { kind: 'alive', id, incarnation, addrs, meta }
      }
      case 'suspect':
        if (raw.length !== 4) this.fail(path, 'expected [1, id, incarnation, from]')
        return { kind: 'suspect', id, incarnation, from: this.id(raw[3], `${path}[3]`) }
      case 'dead':
        if (raw.length !== 4) this.fail(path, 'expected [2, id, incarnation, from]')
        return { kind: 'dead', id, incarnation, from: this.id(raw[3], `${path}[3]`) }
      default:
        if (raw.length !== 3) this.fail(path, 'expected [3, id, incarnation]')
        return { kind: 'left', id, incarnation }
    }
  }

  private records (raw: unknown): MemberRecord[] {
    if (!Array.isArray(raw)) this.fail('m', 'expected an array')
    if (raw.length > WIRE_LIMITS.members) this.fail('m', `more than ${WIRE_LIMITS.members} members`)
    const out: MemberRecord[] = []
    for (let i = 0; i < raw.length; i++) {
      const path = `m[${i}]`
      const r: unknown = raw[i]
      if (!Array.isArray(r) || r.length < 4 || r.length > 5) this.fail(path, 'expected [state, id, incarnation, addrs, meta?]')
      const s = r[0]
      if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s >= MEMBER_STATES.length) this.fail(`${path}[0]`, `unknown state ${String(s)}`)
      const state: MemberState = MEMBER_STATES[s]
      const record: MemberRecord = {
        state,
        id: this.id(r[1], `${path}[1]`),
        incarnation: this.incarnation(r[2], `${path}[2]`),
        addrs: this.addrs(r[3], `${path}[3]`)
      }
      const meta = this.meta(r[4], `${path}[4]`)
      if (meta !== undefined) record.meta = meta
      out.push(record)
    }
    return out
  }

  private id (raw: unknown, path: string): MemberId {
    if (typeof raw !== 'string' || raw.length === 0 || raw.length > WIRE_LIMITS.idChars) {
      this.fail(path, `expected a member id of 1 to ${WIRE_LIMITS.idChars} characters`)
    }
    return this.intern(raw)
  }

  private addrs (raw: unknown, path: string): readonly string[] {
    if (!Array.isArray(raw)) this.fail(path, 'expected an array of addresses')
    if (raw.length === 0) return EMPTY
    if (raw.length > WIRE_LIMITS.addrs) this.fail(path, `more than ${WIRE_LIMITS.addrs} addresses`)
    for (let i = 0; i < raw.length; i++) {
      const a: unknown = raw[i]
      if (typeof a !== 'string' || a.length > WIRE_LIMITS.addrChars) this.fail(`${path}[${i}]`, `expected a string of at most ${WIRE_LIMITS.addrChars} characters`)
    }
    return raw as string[]
  }

  private meta (raw: unknown, path: string): Uint8Array | undefined {
    if (raw === undefined) return undefined
    if (!(raw instanceof Uint8Array)) this.fail(path, 'expected bytes')
    if (raw.byteLength > this.maxMetaBytes) this.fail(path, `meta larger than ${this.maxMetaBytes} bytes`)
    // The decoder's bytes may be a view of the whole input buffer: keep only our slice.
    return new Uint8Array(raw)
  }

  private incarnation (raw: unknown, path: string): number {
    if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 0) this.fail(path, 'expected a non-negative safe integer')
    return raw
  }

  private seq (raw: unknown, path: string): number {
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0 || raw >= WIRE_LIMITS.seq) this.fail(path, 'expected a 32-bit unsigned sequence number')
    return raw
  }

  private bool (raw: unknown, path: string): boolean {
    if (typeof raw !== 'boolean') this.fail(path, 'expected a boolean')
    return raw
  }

  private fail (path: string, reason: string): never {
    throw new SwimDecodeError(this.length, path, reason)
  }
}
