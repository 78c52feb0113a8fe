/**
 * Validation of everything that enters the registry from outside: wire values decoded
 * from msgpack (untrusted), and the fields of local operations. Each check names the
 * path of what was wrong. Limits are exported so that other implementations and tests
 * can use the same numbers.
 */
import type { HlcTimestamp } from './hlc.js'
import { AGENT_STATES, type AgentRecord, type AgentState, type Capability, type ContextSummary, type JsonValue, type OriginKnowledge, type RegistryAck, type RegistryDelta, type RegistryDigest, type RegistryEntry, type Version } from './types.js'
import { SIGNATURE_BYTES } from './signing.js'

/** FIPA agent names as Caxton allows them (see `protocols/fipa/types.ts`). */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
export const LIMITS = Object.freeze({
  nodeIdLength: 256,
  capabilities: 64,
  capabilityNameLength: 100,
  capabilityDescriptionLength: 1000,
  capabilityVersionLength: 64,
  schemaDepth: 32,
  schemaNodes: 10_000,
  versionsPerEntry: 64,
  contextOrigins: 100_000,
  contextExtraPerOrigin: 1_000_000,
  bucketCount: 65_536,
  entriesPerDelta: 10_000_000,
  tombstonesPerAck: 1_000_000
})

/** A validation failure: where and why. */
export class Issue extends Error {
  constructor (readonly path: string, readonly reason: string) {
    super(`${path}: ${reason}`)
    this.name = 'Issue'
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/

/** `path.key`, or `key` at the top. */
function at (path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
}

function arrayOf (v: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(v)) throw new Issue(path, 'expected an array')
  if (v.length > max) throw new Issue(path, `more than ${max} items`)
  return v
}

function keysOnly (v: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(v)) if (!allowed.includes(k)) throw new Issue(path, `unexpected field ${JSON.stringify(k)}`)
}

export function checkAgentId (v: unknown, path: string): string {
  if (typeof v !== 'string' || !AGENT_ID_PATTERN.test(v)) throw new Issue(path, 'expected an agent id (letters, digits, . _ -, 1-128 characters, starting with a letter or digit)')
  return v
}

export function checkNodeId (v: unknown, path: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > LIMITS.nodeIdLength || CONTROL.test(v)) {
    throw new Issue(path, `expected a node id (1-${LIMITS.nodeIdLength} characters, no control characters)`)
  }
  return v
}

export function checkPositiveInt (v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new Issue(path, 'expected a positive integer')
  return v
}

export function checkNonNegativeInt (v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Issue(path, 'expected a non-negative integer')
  return v
}

/** An agent's version on its host: 1, 2, 3... */
export function checkAgentVersion (v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new Issue(path, 'expected a positive integer (the agent\'s version)')
  return v
}

export function checkState (v: unknown, path: string): AgentState {
  if (typeof v !== 'string' || !(AGENT_STATES as readonly string[]).includes(v)) throw new Issue(path, `expected one of ${AGENT_STATES.join(', ')}`)
  return v as AgentState
}

function checkText (v: unknown, path: string, min: number, max: number): string {
  if (typeof v !== 'string' || v.length < min || v.length > max || CONTROL.test(v)) {
    throw new Issue(path, `expected ${min}-${max} characters without control characters`)
  }
  return v
}

/** A JSON value with object keys sorted (so equal schemas encode to equal bytes). */
export function checkJson (v: unknown, path: string): JsonValue {
  let nodes = 0
  const walk = (x: unknown, p: string, depth: number): JsonValue => {
    if (++nodes > LIMITS.schemaNodes) throw new Issue(path, `more than ${LIMITS.schemaNodes} values`)
    if (depth > LIMITS.schemaDepth) throw new Issue(p, `nested deeper than ${LIMITS.schemaDepth}`)
    if (x === null || typeof x === 'boolean' || typeof x === 'string') return x
    if (typeof x === 'number') {
      if (!Number.isFinite(x)) throw new Issue(p, 'expected a finite number')
      return x
    }
    if (Array.isArray(x)) return x.map((e, i) => walk(e, `${p}[${i}]`, depth + 1))
    if (isObject(x) && (Object.getPrototypeOf(x) === Object.prototype || Object.getPrototypeOf(x) === null)) {
      const out: Record<string, JsonValue> = {}
      for (const k of Object.keys(x).sort()) {
        Object.defineProperty(out, k, { value: walk(x[k], at(p, k), depth + 1), enumerable: true, writable: true, configurable: true })
      }
      return out
    }
    throw new Issue(p, 'expected a JSON value')
  }
  return walk(v, path, 0)
}

function freezeCapability (c: Capability): Capability {
  return Object.freeze(c)
}

/** Checks capabilities given by a caller (long field names); returns canonical copies. */
export function checkCapabilitiesInput (v: unknown, path: string): readonly Capability[] {
  const list = arrayOf(v, path, LIMITS.capabilities)
  const out = list.map((c, i) => {
    const p = `${path}[${i}]`
    if (!isObject(c)) throw new Issue(p, 'expected an object')
    keysOnly(c, ['name', 'description', 'version', 'schema'], p)
    return buildCapability(c.name, c.description, c.version, c.schema, p)
  })
  checkUniqueCapabilities(out, path)
  return Object.freeze(out)
}

function buildCapability (name: unknown, description: unknown, version: unknown, schema: unknown, p: string): Capability {
  const cap: { name: string, description?: string, version?: string, schema?: JsonValue } = {
    name: checkText(name, at(p, 'name'), 1, LIMITS.capabilityNameLength)
  }
  if (description !== undefined) cap.description = checkText(description, at(p, 'description'), 0, LIMITS.capabilityDescriptionLength)
  if (version !== undefined) cap.version = checkText(version, at(p, 'version'), 1, LIMITS.capabilityVersionLength)
  if (schema !== undefined) cap.schema = checkJson(schema, at(p, 'schema'))
  return freezeCapability(cap)
}

function checkUniqueCapabilities (caps: readonly Capability[], path: string): void {
  const seen = new Set<string>()
  for (const c of caps) {
    const key = `${c.name}\u0000${c.version ?? ''}`
    if (seen.has(key)) throw new Issue(path, `capability ${JSON.stringify(c.name)}${c.version === undefined ? '' : ` version ${c.version}`} listed twice`)
    seen.add(key)
  }
}

// ---- wire forms (untrusted) ----

function parseCapabilityWire (v: unknown, path: string): Capability {
  if (!isObject(v)) throw new Issue(path, 'expected a capability map')
  keysOnly(v, ['n', 'd', 'v', 's'], path)
  return buildCapability(v.n, v.d, v.v, v.s, path)
}

/** A record's wire form; its node is the version's writer (`by`). */
function parseRecord (v: unknown, by: string, wall: number, path: string): AgentRecord {
  if (!Array.isArray(v) || (v.length !== 4 && v.length !== 5)) throw new Issue(path, 'expected [state, capabilities, updatedAt, registeredAt, agentVersion?]')
  const caps = arrayOf(v[1], `${path}[1]`, LIMITS.capabilities).map((c, i) => parseCapabilityWire(c, `${path}[1][${i}]`))
  checkUniqueCapabilities(caps, `${path}[1]`)
  const updatedAt = checkNonNegativeInt(v[2], `${path}[2]`)
  const registeredAt = checkNonNegativeInt(v[3], `${path}[3]`)
  // the writer's HLC wall time is at least its physical time at the write
  if (updatedAt > wall) throw new Issue(`${path}[2]`, 'updatedAt is later than the version\'s HLC wall time')
  if (registeredAt > wall) throw new Issue(`${path}[3]`, 'registeredAt is later than the version\'s HLC wall time')
  const record: AgentRecord = {
    node: by,
    state: checkState(v[0], `${path}[0]`),
    capabilities: Object.freeze(caps),
    updatedAt,
    registeredAt
  }
  return Object.freeze(v.length === 5 ? { ...record, agentVersion: checkAgentVersion(v[4], `${path}[4]`) } : record)
}

export function parseHlc (wall: unknown, logical: unknown, path: string): HlcTimestamp {
  return Object.freeze({ wall: checkNonNegativeInt(wall, at(path, 'wall')), logical: checkNonNegativeInt(logical, at(path, 'logical')) })
}

export function parseVersion (v: unknown, path: string): Version {
  if (!Array.isArray(v) || v.length !== 6) throw new Issue(path, 'expected [by, seq, wall, logical, record, signature]')
  const by = checkNodeId(v[0], `${path}[0]`)
  const seq = checkPositiveInt(v[1], `${path}[1]`)
  const hlc = parseHlc(v[2], v[3], path)
  const record = v[4] === null ? null : parseRecord(v[4], by, hlc.wall, `${path}[4]`)
  const signature = checkBytes(v[5], `${path}[5]`, SIGNATURE_BYTES)
  return Object.freeze({ by, seq, hlc, record, signature })
}

export function parseEntry (v: unknown, path: string): RegistryEntry {
  if (!Array.isArray(v) || v.length !== 2) throw new Issue(path, 'expected [agentId, versions]')
  const agentId = checkAgentId(v[0], `${path}[0]`)
  const versions = arrayOf(v[1], `${path}[1]`, LIMITS.versionsPerEntry).map((x, i) => parseVersion(x, `${path}[1][${i}]`))
  if (versions.length === 0) throw new Issue(`${path}[1]`, 'an entry has at least one version')
  return Object.freeze({ agentId, versions: Object.freeze(versions) })
}

export function parseOrigin (v: unknown, path: string): OriginKnowledge {
  if (!Array.isArray(v) || v.length !== 3) throw new Issue(path, 'expected [node, upTo, extra]')
  const node = checkNodeId(v[0], `${path}[0]`)
  const upTo = checkNonNegativeInt(v[1], `${path}[1]`)
  const extra = arrayOf(v[2], `${path}[2]`, LIMITS.contextExtraPerOrigin).map((s, i) => checkPositiveInt(s, `${path}[2][${i}]`))
  // ascending and beyond the contiguous prefix: one canonical form per context
  if (extra.length > 0 && extra[0] <= upTo + 1) throw new Issue(`${path}[2]`, 'extra sequence numbers must exceed upTo + 1')
  for (let i = 1; i < extra.length; i++) {
    if (extra[i] <= extra[i - 1]) throw new Issue(`${path}[2]`, 'extra sequence numbers must ascend')
  }
  return Object.freeze({ node, upTo, extra: Object.freeze(extra) })
}

export function parseContext (v: unknown, path: string): ContextSummary {
  const list = arrayOf(v, path, LIMITS.contextOrigins).map((o, i) => parseOrigin(o, `${path}[${i}]`))
  for (let i = 1; i < list.length; i++) {
    if (!(list[i - 1].node < list[i].node)) throw new Issue(path, 'origins must be sorted by node, each once')
  }
  return Object.freeze(list)
}

function checkBucketCount (v: unknown, path: string): number {
  const n = checkPositiveInt(v, path)
  if (n > LIMITS.bucketCount) throw new Issue(path, `at most ${LIMITS.bucketCount} buckets`)
  return n
}

export function parseDelta (v: unknown, path: string): RegistryDelta {
  if (!isObject(v)) throw new Issue(path, 'expected a delta map')
  keysOnly(v, ['e', 'c', 'b'], path)
  const entries = arrayOf(v.e, at(path, 'e'), LIMITS.entriesPerDelta).map((e, i) => parseEntry(e, `${at(path, 'e')}[${i}]`))
  const out: { entries: readonly RegistryEntry[], context?: ContextSummary, complete?: { bucketCount: number, buckets: readonly number[] } } = { entries }
  if (v.c !== undefined) out.context = parseContext(v.c, at(path, 'c'))
  if (v.b !== undefined) {
    if (!Array.isArray(v.b) || v.b.length !== 2) throw new Issue(at(path, 'b'), 'expected [bucketCount, buckets]')
    const bucketCount = checkBucketCount(v.b[0], `${at(path, 'b')}[0]`)
    const buckets = arrayOf(v.b[1], `${at(path, 'b')}[1]`, bucketCount).map((b, i) => {
      const n = checkNonNegativeInt(b, `${at(path, 'b')}[1][${i}]`)
      if (n >= bucketCount) throw new Issue(`${at(path, 'b')}[1][${i}]`, `bucket out of range (${bucketCount} buckets)`)
      return n
    })
    if (out.context === undefined) throw new Issue(path, 'a delta with complete buckets must carry its context')
    out.complete = Object.freeze({ bucketCount, buckets: Object.freeze(buckets) })
  }
  return Object.freeze(out)
}

function checkBytes (v: unknown, path: string, length: number): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== length) throw new Issue(path, `expected ${length} bytes`)
  return Uint8Array.from(v)
}

export function parseDigest (v: unknown, path: string): RegistryDigest {
  if (!isObject(v)) throw new Issue(path, 'expected a digest map')
  keysOnly(v, ['n', 'h', 'x', 'r'], path)
  const bucketCount = checkBucketCount(v.n, at(path, 'n'))
  return Object.freeze({
    bucketCount,
    buckets: checkBytes(v.h, at(path, 'h'), bucketCount * 8),
    contextHash: checkBytes(v.x, at(path, 'x'), 8),
    root: checkBytes(v.r, at(path, 'r'), 8)
  })
}

export function parseAck (v: unknown, path: string): RegistryAck {
  if (!isObject(v)) throw new Issue(path, 'expected an ack map')
  keysOnly(v, ['t'], path)
  const tombstones = arrayOf(v.t, at(path, 't'), LIMITS.tombstonesPerAck).map((t, i) => {
    const p = `${at(path, 't')}[${i}]`
    if (!Array.isArray(t) || t.length !== 3) throw new Issue(p, 'expected [agentId, by, seq]')
    return Object.freeze({ agentId: checkAgentId(t[0], `${p}[0]`), by: checkNodeId(t[1], `${p}[1]`), seq: checkPositiveInt(t[2], `${p}[2]`) })
  })
  return Object.freeze({ tombstones: Object.freeze(tombstones) })
}

/** Re-exported for callers that validate a map-shaped value. */
export { isObject }
