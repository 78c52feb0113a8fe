/**
 * msgpack codec (msgpackr) of everything the registry sends or stores: deltas, digests,
 * acknowledgements, the messages of gossipsub topic `caxton/registry/2` and the frames
 * of `/caxton/registry-sync/2.0.0`, and the stored rows (entry, origin knowledge, HLC).
 * Formats are in SPEC.md, "Wire formats". Every decoder validates what it decoded and
 * throws only {@link RegistryDecodeError}, whatever the bytes.
 */
import { Unpackr } from 'msgpackr'
import { RegistryDecodeError } from './errors.js'
import type { HlcTimestamp } from './hlc.js'
import type { OriginKnowledge, RegistryAck, RegistryDelta, RegistryDigest, RegistryEntry } from './types.js'
import { checkNodeId, isObject, Issue, parseAck, parseDelta, parseDigest, parseEntry, parseHlc, parseOrigin } from './validate.js'
import { ackToWire, deltaToWire, digestToWire, entryToWire, hlcToWire, originToWire, pack } from './wire.js'

/** The gossipsub topic registry deltas and acks are published on. */
export const REGISTRY_GOSSIP_TOPIC = 'caxton/registry/2'
/** The libp2p protocol of anti-entropy (digest exchange, then missing entries). */
export const REGISTRY_SYNC_PROTOCOL = '/caxton/registry-sync/2.0.0'
/** `v` of every gossip message and sync frame (2: signed versions, SPEC.md §7). */
export const REGISTRY_WIRE_VERSION = 2

/** A message on {@link REGISTRY_GOSSIP_TOPIC}. */
export type RegistryGossipMessage =
  | { readonly type: 'delta', readonly delta: RegistryDelta }
  | { readonly type: 'ack', readonly ack: RegistryAck }

/**
 * A frame of {@link REGISTRY_SYNC_PROTOCOL}: the initiator sends `digest`, the responder
 * answers `reply` (what the initiator misses, and the responder's digest), the initiator
 * sends `entries` (what the responder misses). SPEC.md, "Anti-entropy".
 */
export type RegistrySyncFrame =
  | { readonly type: 'digest', readonly digest: RegistryDigest }
  | { readonly type: 'reply', readonly digest: RegistryDigest, readonly delta: RegistryDelta }
  | { readonly type: 'entries', readonly delta: RegistryDelta }

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' })

function unpackOrThrow (what: string, bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) throw new RegistryDecodeError(what, '', 'expected bytes')
  if (bytes.length === 0) throw new RegistryDecodeError(what, '', 'no bytes')
  try {
    return unpackr.unpack(bytes)
  } catch (err) {
    throw new RegistryDecodeError(what, '', `not valid msgpack (${err instanceof Error ? err.message.slice(0, 80) : 'unknown error'})`, { cause: err })
  }
}

function decodeWith<T> (what: string, bytes: Uint8Array, parse: (value: unknown) => T): T {
  const value = unpackOrThrow(what, bytes)
  try {
    return parse(value)
  } catch (err) {
    if (err instanceof Issue) throw new RegistryDecodeError(what, err.path, err.reason, { cause: err })
    // a validator bug must still surface as a decode error, never as a crash elsewhere
    throw new RegistryDecodeError(what, '', `invalid value (${err instanceof Error ? err.message : 'unknown error'})`, { cause: err })
  }
}

function versionOf (v: Record<string, unknown>): void {
  if (v.v !== REGISTRY_WIRE_VERSION) throw new Issue('v', `unsupported version ${JSON.stringify(v.v)} (expected ${REGISTRY_WIRE_VERSION})`)
}

export function encodeDelta (delta: RegistryDelta): Uint8Array {
  return pack(deltaToWire(delta))
}

/** @throws RegistryDecodeError */
export function decodeDelta (bytes: Uint8Array): RegistryDelta {
  return decodeWith('delta', bytes, v => parseDelta(v, ''))
}

export function encodeDigest (digest: RegistryDigest): Uint8Array {
  return pack(digestToWire(digest))
}

/** @throws RegistryDecodeError */
export function decodeDigest (bytes: Uint8Array): RegistryDigest {
  return decodeWith('digest', bytes, v => parseDigest(v, ''))
}

export function encodeAck (ack: RegistryAck): Uint8Array {
  return pack(ackToWire(ack))
}

/** @throws RegistryDecodeError */
export function decodeAck (bytes: Uint8Array): RegistryAck {
  return decodeWith('ack', bytes, v => parseAck(v, ''))
}

/** An entry as stored (value of the `registry` sublevel row keyed by agent id). */
export function encodeEntry (entry: RegistryEntry): Uint8Array {
  return pack(entryToWire(entry))
}

/** @throws RegistryDecodeError */
export function decodeEntry (bytes: Uint8Array): RegistryEntry {
  return decodeWith('entry', bytes, v => parseEntry(v, ''))
}

/** One origin's knowledge as stored (row keyed by node id). */
export function encodeKnowledge (k: OriginKnowledge): Uint8Array {
  return pack(originToWire(k))
}

/** @throws RegistryDecodeError */
export function decodeKnowledge (bytes: Uint8Array): OriginKnowledge {
  return decodeWith('knowledge', bytes, v => parseOrigin(v, ''))
}

export function encodeHlc (hlc: HlcTimestamp): Uint8Array {
  return pack(hlcToWire(hlc))
}

/** @throws RegistryDecodeError */
export function decodeHlc (bytes: Uint8Array): HlcTimestamp {
  return decodeWith('hlc', bytes, v => {
    if (!Array.isArray(v) || v.length !== 2) throw new Issue('', 'expected [wall, logical]')
    return parseHlc(v[0], v[1], '')
  })
}

export function encodeGossip (msg: RegistryGossipMessage): Uint8Array {
  return msg.type === 'delta'
    ? pack({ v: REGISTRY_WIRE_VERSION, t: 'delta', d: deltaToWire(msg.delta) })
    : pack({ v: REGISTRY_WIRE_VERSION, t: 'ack', a: ackToWire(msg.ack) })
}

/** @throws RegistryDecodeError */
export function decodeGossip (bytes: Uint8Array): RegistryGossipMessage {
  return decodeWith('gossip message', bytes, v => {
    if (!isObject(v)) throw new Issue('', 'expected a message map')
    versionOf(v)
    if (v.t === 'delta') return { type: 'delta', delta: parseDelta(v.d, 'd') }
    if (v.t === 'ack') return { type: 'ack', ack: parseAck(v.a, 'a') }
    throw new Issue('t', 'expected delta or ack')
  })
}

export function encodeSyncFrame (frame: RegistrySyncFrame): Uint8Array {
  switch (frame.type) {
    case 'digest': return pack({ v: REGISTRY_WIRE_VERSION, t: 'digest', g: digestToWire(frame.digest) })
    case 'reply': return pack({ v: REGISTRY_WIRE_VERSION, t: 'reply', g: digestToWire(frame.digest), d: deltaToWire(frame.delta) })
    case 'entries': return pack({ v: REGISTRY_WIRE_VERSION, t: 'entries', d: deltaToWire(frame.delta) })
  }
}

/** @throws RegistryDecodeError */
export function decodeSyncFrame (bytes: Uint8Array): RegistrySyncFrame {
  return decodeWith('sync frame', bytes, v => {
    if (!isObject(v)) throw new Issue('', 'expected a frame map')
    versionOf(v)
    if (v.t === 'digest') return { type: 'digest', digest: parseDigest(v.g, 'g') }
    if (v.t === 'reply') return { type: 'reply', digest: parseDigest(v.g, 'g'), delta: parseDelta(v.d, 'd') }
    if (v.t === 'entries') return { type: 'entries', delta: parseDelta(v.d, 'd') }
    throw new Issue('t', 'expected digest, reply or entries')
  })
}

/** Validates a node id received from elsewhere (e.g. a store key). @throws RegistryDecodeError */
export function decodeNodeId (value: unknown): string {
  try {
    return checkNodeId(value, '')
  } catch (err) {
    throw new RegistryDecodeError('node id', '', (err as Issue).reason)
  }
}
