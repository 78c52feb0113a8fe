/**
 * Wire forms of the registry's values (SPEC.md, "Wire formats") and the one msgpack
 * packer that encodes them. Converting to the wire form is trusted (the values were built
 * or validated by the registry); converting back is in `validate.ts`.
 *
 * The wire forms are positional arrays where a value has fixed fields and small maps
 * where fields are optional; they are built in a fixed field order, so equal values
 * encode to equal bytes (entry hashes and tie-breaks rely on this).
 */
import { Packr } from 'msgpackr'
import type { HlcTimestamp } from './hlc.js'
import type { AgentRecord, Capability, ContextSummary, JsonValue, OriginKnowledge, RegistryAck, RegistryDelta, RegistryDigest, RegistryEntry, Version } from './types.js'

export type CapabilityWire = { n: string, d?: string, v?: string, s?: JsonValue }
/** The agent's version is sent only when the record has one (older encodings are kept byte for byte). */
export type RecordWire = [string, CapabilityWire[], number, number] | [string, CapabilityWire[], number, number, number]
export type VersionWire = [string, number, number, number, RecordWire | null, Uint8Array]
export type EntryWire = [string, VersionWire[]]
export type OriginWire = [string, number, number[]]
export type DeltaWire = { e: EntryWire[], c?: OriginWire[], b?: [number, number[]] }
export type DigestWire = { n: number, h: Uint8Array, x: Uint8Array, r: Uint8Array }
export type AckWire = { t: Array<[string, string, number]> }

/** Shared packer: plain maps and arrays, no msgpackr records or extensions. */
export const packr = new Packr({ useRecords: false, variableMapSize: true, int64AsType: 'number' })

export function pack (value: unknown): Uint8Array {
  return packr.pack(value)
}

export function capabilityToWire (c: Capability): CapabilityWire {
  const w: CapabilityWire = { n: c.name }
  if (c.description !== undefined) w.d = c.description
  if (c.version !== undefined) w.v = c.version
  if (c.schema !== undefined) w.s = c.schema
  return w
}

/** The record's node is not sent: it is always the version's writer. */
export function recordToWire (r: AgentRecord): RecordWire {
  const caps = r.capabilities.map(capabilityToWire)
  return r.agentVersion === undefined
    ? [r.state, caps, r.updatedAt, r.registeredAt]
    : [r.state, caps, r.updatedAt, r.registeredAt, r.agentVersion]
}

export function versionToWire (v: Version): VersionWire {
  return [v.by, v.seq, v.hlc.wall, v.hlc.logical, v.record === null ? null : recordToWire(v.record), v.signature]
}

export function entryToWire (e: RegistryEntry): EntryWire {
  return [e.agentId, e.versions.map(versionToWire)]
}

export function originToWire (o: OriginKnowledge): OriginWire {
  return [o.node, o.upTo, [...o.extra]]
}

export function contextToWire (c: ContextSummary): OriginWire[] {
  return c.map(originToWire)
}

export function deltaToWire (d: RegistryDelta): DeltaWire {
  const w: DeltaWire = { e: d.entries.map(entryToWire) }
  if (d.context !== undefined) w.c = contextToWire(d.context)
  if (d.complete !== undefined) w.b = [d.complete.bucketCount, [...d.complete.buckets]]
  return w
}

export function digestToWire (d: RegistryDigest): DigestWire {
  return { n: d.bucketCount, h: d.buckets, x: d.contextHash, r: d.root }
}

export function ackToWire (a: RegistryAck): AckWire {
  return { t: a.tombstones.map(t => [t.agentId, t.by, t.seq]) }
}

export function hlcToWire (h: HlcTimestamp): [number, number] {
  return [h.wall, h.logical]
}

/** Canonical bytes of a version: the last-resort tie-break between versions. */
const versionBytes = new WeakMap<Version, Uint8Array>()
export function canonicalVersionBytes (v: Version): Uint8Array {
  let b = versionBytes.get(v)
  if (b === undefined) {
    b = pack(versionToWire(v))
    versionBytes.set(v, b)
  }
  return b
}

/** Lexicographic byte order. */
export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}
