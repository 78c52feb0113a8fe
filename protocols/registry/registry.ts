/**
 * The registry replica: a map agent id → entry (maximal versions), the causal context,
 * per-bucket digests, the capability index, tombstone acknowledgements and the
 * unreachable-node overlay. Pure and synchronous: every call that changes state returns
 * the `RegistryBatch` to persist; the caller passes `now` (ms since the epoch).
 *
 * The rules are in SPEC.md; the comments here say why the code follows them.
 */
import { bucketBytes, bucketOf, contextHash, differingBuckets, entryHash, hashesEqual, rootHash } from './digest.js'
import { CapabilityIndex } from './capability-index.js'
import { CausalContext } from './context.js'
import { InvalidRegistryOpError, InvalidRegistryOptionsError, InvalidStoredRegistryError, RegistryAgentNotFoundError } from './errors.js'
import { compareHlc, HLC_ZERO, HybridLogicalClock, maxHlc, type HlcTimestamp } from './hlc.js'
import { signedPayload, type RegistrySigning } from './signing.js'
import type { AgentChange, AgentId, AgentRecord, AgentState, Capability, ContextSummary, NodeId, RegisteredAgent, RegistryAck, RegistryBatch, RegistryDelta, RegistryDigest, RegistryEntry, RegistryOp, StoredRegistry, Version } from './types.js'
import { checkAgentId, checkAgentVersion, checkCapabilitiesInput, checkNodeId, checkState, Issue } from './validate.js'
import { mergeVersions, sameVersion, sameVersions } from './versions.js'

export interface RegistryOptions {
  /** This replica's node (its PeerId string): the writer of local operations. */
  nodeId: NodeId
  /** Signs this replica's writes with `nodeId`'s key and checks the signatures of everyone's (SPEC.md §7). */
  signing: RegistrySigning
  /**
   * Bound on a tombstone's life, ms after its HLC wall time: past it the tombstone is
   * collected even if not every live member acknowledged it (SPEC.md, "Tombstone
   * collection"). @default 86_400_000 (24 h)
   */
  tombstoneTtlMs?: number
  /** Buckets of the anti-entropy digest; must be the same cluster-wide. @default 256 */
  bucketCount?: number
  /**
   * Versions whose HLC wall time is further ahead of `now` than this are refused (not
   * yet: a later exchange brings them again), so a far-future timestamp wins nothing.
   * @default 60_000
   */
  maxClockDriftMs?: number
}

export const DEFAULT_TOMBSTONE_TTL_MS = 86_400_000
export const DEFAULT_BUCKET_COUNT = 256
export const DEFAULT_MAX_CLOCK_DRIFT_MS = 60_000

/** Result of a local operation. */
export interface LocalUpdate {
  /** What to publish on `caxton/registry/2` (undefined when the operation was a no-op). */
  readonly delta: RegistryDelta | undefined
  readonly changes: readonly AgentChange[]
  readonly batch: RegistryBatch
}

/** Result of merging a delta. */
export interface MergeUpdate {
  readonly changes: readonly AgentChange[]
  readonly batch: RegistryBatch
  /** Versions that were new here and are now held. */
  readonly accepted: number
  /**
   * Versions that changed nothing because they were superseded: seen superseded before
   * (maybe by a tombstone since collected), or superseded by a version held.
   */
  readonly stale: number
  /** Local versions of the sender dropped because it superseded them (and forgot their tombstone). */
  readonly pruned: number
  /** Versions refused (not incorporated), each with why: a signature that does not verify, or a timestamp from the future. */
  readonly rejected: readonly RejectedVersion[]
  /** Signatures this merge checked (those checked ahead by {@link Registry.verifyAhead} are not counted again). */
  readonly verified: number
  /**
   * Tombstones forgotten because the sender of a delta with complete buckets had
   * collected them (it has incorporated them and holds them no more), this replica's
   * context covering them (SPEC.md §5).
   */
  readonly collected: number
  /** Tombstones this merge took (publish an ack for them). */
  readonly newTombstones: RegistryAck['tombstones']
}

/** Result of a garbage collection. */
export interface GcUpdate {
  readonly collected: readonly AgentId[]
  readonly batch: RegistryBatch
}

/** A version {@link Registry.merge} refused. */
export interface RejectedVersion {
  readonly agentId: AgentId
  readonly by: NodeId
  readonly seq: number
  /**
   * `signature`: not signed by `by` (forged or altered: the sender misbehaves);
   * `future`: its HLC wall time is more than `maxClockDriftMs` ahead of `now`.
   */
  readonly reason: 'signature' | 'future'
}

export interface MergeOptions {
  /** ms since the epoch (feeds the hybrid logical clock, bounds timestamps). */
  now: number
  /**
   * The sender, as the transport authenticated it (a gossip message's signed publisher,
   * the peer of an anti-entropy stream). It holds what it sent (an acknowledgement of
   * the tombstones in it); a delta with complete buckets may drop its own superseded
   * versions here and adds its own writes to the context. Without it, only the versions
   * are taken.
   */
  from?: NodeId
}

export interface GcOptions {
  /** ms since the epoch. */
  now: number
  /** Live members (this node may be included): a tombstone is collected early once all have acknowledged it. */
  members: Iterable<NodeId>
}

interface Slot {
  readonly entry: RegistryEntry
  readonly hash: [number, number]
  readonly bucket: number
  readonly view: RegisteredAgent | undefined
}

/** A tombstone held: its writer's sequence number and the members that acknowledged it. */
interface TombstoneAcks {
  readonly seq: number
  readonly members: Set<NodeId>
}

class BatchBuilder {
  readonly puts = new Map<AgentId, RegistryEntry>()
  readonly deletes = new Set<AgentId>()
  hlc: HlcTimestamp | undefined

  put (e: RegistryEntry): void {
    this.deletes.delete(e.agentId)
    this.puts.set(e.agentId, e)
  }

  delete (id: AgentId): void {
    this.puts.delete(id)
    this.deletes.add(id)
  }

  build (ctx: CausalContext): RegistryBatch {
    const batch: { put: RegistryEntry[], delete: AgentId[], knowledge: ReturnType<CausalContext['takeDirty']>, hlc?: HlcTimestamp } = {
      put: [...this.puts.values()],
      delete: [...this.deletes],
      knowledge: ctx.takeDirty()
    }
    if (this.hlc !== undefined) batch.hlc = this.hlc
    return batch
  }
}

function positiveInt (v: number | undefined, fallback: number, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return fallback
  if (!Number.isSafeInteger(v) || v < 1 || v > max) throw new InvalidRegistryOptionsError(field, `expected an integer in 1..${max}`)
  return v
}

function checkNow (now: unknown): number {
  if (typeof now !== 'number' || !Number.isFinite(now) || now < 0) throw new InvalidRegistryOpError('now', 'expected ms since the epoch')
  return Math.floor(now)
}

/** Turns a validation issue into the caller-facing error of a local operation. */
function opField<T> (fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (err instanceof Issue) throw new InvalidRegistryOpError(err.path, err.reason)
    throw err
  }
}

/**
 * A replica of the cluster's agent registry.
 *
 * @example
 * ```ts
 * const reg = new Registry({ nodeId: peerId.toString(), signing })   // signing: this node's key (src/registry/signing.ts)
 * const { delta, batch } = reg.apply({ type: 'put', agentId: 'echo', node: peerId.toString(),
 *   state: 'running', capabilities: [{ name: 'echo' }] }, Date.now())
 * await store.write(batch)        // persist
 * gossip.publish(encodeGossip({ type: 'delta', delta }))
 * reg.findByCapability('echo')    // [{ agentId: 'echo', status: 'running', ... }]
 * ```
 */
export class Registry {
  readonly nodeId: NodeId
  readonly bucketCount: number
  readonly tombstoneTtlMs: number

  private readonly slots = new Map<AgentId, Slot>()
  private readonly bucketKeys: Array<Set<AgentId>>
  private readonly bucketHashes: Uint32Array
  private readonly ctx = new CausalContext()
  private readonly clock: HybridLogicalClock
  private readonly index = new CapabilityIndex()
  private readonly unreachable = new Set<NodeId>()
  /** The tombstones held, by agent and writer, each with its acknowledgements. */
  private readonly tombstones = new Map<AgentId, Map<NodeId, TombstoneAcks>>()
  private tombstoneVersions = 0
  private liveCount = 0
  private readonly signing: RegistrySigning
  private readonly maxDriftMs: number
  /** Signatures already checked, by version object: a version is verified once however often it is merged. */
  private readonly checked = new WeakMap<Version, boolean>()
  private verifiedCount = 0

  constructor (options: RegistryOptions) {
    try {
      this.nodeId = checkNodeId(options?.nodeId, 'nodeId')
    } catch (err) {
      throw new InvalidRegistryOptionsError('nodeId', (err as Issue).reason)
    }
    const signing = options.signing
    if (typeof signing?.sign !== 'function' || typeof signing.verify !== 'function') throw new InvalidRegistryOptionsError('signing', 'expected { sign, verify }')
    this.signing = signing
    this.bucketCount = positiveInt(options.bucketCount, DEFAULT_BUCKET_COUNT, 'bucketCount', 65_536)
    this.tombstoneTtlMs = positiveInt(options.tombstoneTtlMs, DEFAULT_TOMBSTONE_TTL_MS, 'tombstoneTtlMs')
    this.maxDriftMs = positiveInt(options.maxClockDriftMs, DEFAULT_MAX_CLOCK_DRIFT_MS, 'maxClockDriftMs')
    this.clock = new HybridLogicalClock(HLC_ZERO, this.maxDriftMs)
    this.bucketKeys = Array.from({ length: this.bucketCount }, () => new Set<AgentId>())
    this.bucketHashes = new Uint32Array(this.bucketCount * 2)
  }

  /**
   * A replica restored from what a `RegistryStore` loaded.
   * @throws InvalidStoredRegistryError when the stored state is not one a registry wrote
   */
  static restore (options: RegistryOptions, stored: StoredRegistry): Registry {
    const reg = new Registry(options)
    try {
      reg.ctx.merge(stored.knowledge)
      for (const e of stored.entries) {
        const prev = reg.slots.get(e.agentId)?.entry.versions ?? []
        const versions = mergeVersions(prev, e.versions)
        if (versions.length === 0) throw new Error(`entry ${e.agentId} has no version`)
        // dots of held versions are incorporated by definition; re-adding them repairs a
        // store whose knowledge rows lag its entries
        for (const v of versions) reg.ctx.add(v.by, v.seq)
        reg.setEntry(e.agentId, versions, undefined, undefined)
        for (const v of versions) reg.clock.observe(v.hlc)
      }
      if (stored.hlc !== undefined) reg.clock.observe(stored.hlc)
      reg.ctx.takeDirty()
    } catch (err) {
      throw new InvalidStoredRegistryError((err as Error).message, { cause: err })
    }
    return reg
  }

  // ---- local operations ----

  /**
   * Applies a local operation at time `now` (ms since the epoch).
   * @throws InvalidRegistryOpError (a field is invalid), RegistryAgentNotFoundError
   *   (`update` of an agent with no live entry)
   */
  apply (op: RegistryOp, now: number): LocalUpdate {
    const at = checkNow(now)
    if (typeof op !== 'object' || op === null) throw new InvalidRegistryOpError('op', 'expected an operation object')
    const agentId = opField(() => checkAgentId(op.agentId, 'agentId'))
    const slot = this.slots.get(agentId)
    // this node's register of the agent: the only one it writes
    const own = slot?.entry.versions.find(v => v.by === this.nodeId)?.record ?? undefined
    let record: AgentRecord | null
    switch (op.type) {
      case 'put':
        record = this.buildRecord(op.node, op.state, op.capabilities ?? [], at, own?.registeredAt ?? at, op.agentVersion)
        break
      case 'update':
        if (own === undefined) throw new RegistryAgentNotFoundError(agentId)
        record = this.buildRecord(op.node ?? this.nodeId, op.state ?? own.state, op.capabilities ?? own.capabilities, at, own.registeredAt, op.agentVersion ?? own.agentVersion)
        break
      case 'remove':
        // nothing of this node's live: writing a tombstone would only add garbage
        if (own === undefined) return { delta: undefined, changes: [], batch: { put: [], delete: [], knowledge: [] } }
        record = null
        break
      default:
        throw new InvalidRegistryOpError('type', 'expected put, update or remove')
    }
    const seq = this.ctx.maxSeq(this.nodeId) + 1
    if (!Number.isSafeInteger(seq)) throw new InvalidRegistryOpError('seq', 'this node has used every write sequence number')
    const hlc = this.clock.tick(at)
    const unsigned = { by: this.nodeId, seq, hlc, record }
    const version: Version = Object.freeze({ ...unsigned, signature: this.signing.sign(signedPayload(agentId, unsigned)) })
    this.checked.set(version, true)
    this.ctx.add(this.nodeId, seq)
    const batch = new BatchBuilder()
    const changes: AgentChange[] = []
    // supersedes this node's earlier version; other hosts' registrations stay
    this.setEntry(agentId, mergeVersions(slot?.entry.versions ?? [], [version]), batch, changes)
    batch.hlc = hlc
    return {
      delta: Object.freeze({ entries: [Object.freeze({ agentId, versions: Object.freeze([version]) })] }),
      changes,
      batch: batch.build(this.ctx)
    }
  }

  private buildRecord (node: unknown, state: unknown, capabilities: unknown, at: number, registeredAt: number, agentVersion: unknown): AgentRecord {
    return opField(() => {
      if (checkNodeId(node, 'node') !== this.nodeId) throw new Issue('node', 'a node registers only the agents it hosts (expected this node\'s id)')
      const record: AgentRecord = {
        node: this.nodeId,
        state: checkState(state, 'state') as AgentState,
        capabilities: checkCapabilitiesInput(capabilities, 'capabilities') as readonly Capability[],
        updatedAt: at,
        registeredAt
      }
      return Object.freeze(agentVersion === undefined ? record : { ...record, agentVersion: checkAgentVersion(agentVersion, 'agentVersion') })
    })
  }

  // ---- merging ----

  /**
   * Merges a delta: a gossip delta, an anti-entropy reply or a snapshot. Each version new
   * here must carry its writer's valid signature and a timestamp at most
   * `maxClockDriftMs` ahead of `now`, else it is refused (`rejected`). Versions this
   * replica has seen superseded are refused too (`stale`), even after their tombstone was
   * collected. When the delta carries complete buckets and the context of its sender
   * `from`, the sender's own versions held here that it has superseded are dropped
   * (`pruned`), its knowledge of its own writes joins the context, and tombstones it has
   * collected are forgotten here too where this context covers them (`collected`); such
   * a delta must be a `missingFor` answer to this replica's digest (or a `snapshot()`).
   * Trusts the delta's shape (decode it with the codec); never throws for its content.
   */
  merge (delta: RegistryDelta, options: MergeOptions): MergeUpdate {
    const at = checkNow(options.now)
    const from = options.from
    const batch = new BatchBuilder()
    const changes: AgentChange[] = []
    const rejected: RejectedVersion[] = []
    const newTombstones: Array<{ agentId: AgentId, by: NodeId, seq: number }> = []
    let accepted = 0
    let stale = 0
    let pruned = 0
    let collected = 0
    const verifiedBefore = this.verifiedCount
    let newest: HlcTimestamp | undefined
    const complete = delta.complete !== undefined && delta.context !== undefined ? delta.complete : undefined
    const remoteCtx = complete !== undefined ? CausalContext.from(delta.context as ContextSummary) : undefined
    const covered = complete !== undefined ? new Set(complete.buckets) : undefined
    // buckets are the sender's: same function, the sender's bucket count
    const inCovered = (id: AgentId): boolean =>
      complete !== undefined && (covered as Set<number>).has(bucketOf(id, complete.bucketCount))

    // group by agent id: a delta may list an agent twice
    const incoming = new Map<AgentId, Version[]>()
    for (const e of delta.entries) {
      const list = incoming.get(e.agentId)
      if (list === undefined) incoming.set(e.agentId, [...e.versions])
      else list.push(...e.versions)
    }

    const mergeKey = (agentId: AgentId, remote: readonly Version[], prune: boolean): void => {
      const local = this.slots.get(agentId)?.entry.versions ?? []
      // only the sender's own versions: its word is authority over its writes, no one else's
      const keepLocal = prune && from !== undefined
        ? local.filter(u => u.by !== from || remote.some(v => sameVersion(u, v)) || !(remoteCtx as CausalContext).has(u.by, u.seq))
        : local
      pruned += local.length - keepLocal.length
      const fresh: Version[] = []
      for (const v of remote) {
        if (local.some(u => sameVersion(u, v))) continue
        // incorporated but no longer held: superseded here (maybe by a collected tombstone)
        if (this.ctx.has(v.by, v.seq)) {
          stale++
          continue
        }
        const reason = this.refusal(agentId, v, at)
        if (reason !== undefined) {
          rejected.push({ agentId, by: v.by, seq: v.seq, reason })
          continue
        }
        fresh.push(v)
      }
      for (const v of fresh) {
        this.ctx.add(v.by, v.seq)
        newest = newest === undefined ? v.hlc : maxHlc(newest, v.hlc)
      }
      if (fresh.length === 0 && keepLocal.length === local.length) return
      const merged = mergeVersions(keepLocal, fresh)
      for (const v of fresh) {
        // new here, but superseded by what is held: as stale as one rejected above
        if (!merged.includes(v)) {
          stale++
          continue
        }
        accepted++
        if (v.record === null) newTombstones.push({ agentId, by: v.by, seq: v.seq })
      }
      if (sameVersions(merged, local)) return
      this.setEntry(agentId, merged.length === 0 ? undefined : merged, batch, changes)
    }

    for (const [agentId, versions] of incoming) mergeKey(agentId, versions, inCovered(agentId))
    if (complete !== undefined && remoteCtx !== undefined && from !== undefined) {
      const localCovered: AgentId[] = []
      if (complete.bucketCount === this.bucketCount) {
        for (const b of complete.buckets) for (const id of this.bucketKeys[b]) localCovered.push(id)
      } else {
        for (const id of this.slots.keys()) if (inCovered(id)) localCovered.push(id)
      }
      for (const id of localCovered) if (!incoming.has(id)) mergeKey(id, [], true)
      // The sender's buckets outside `complete` matched our digest, and inside it we now
      // hold every version it wrote and still holds: its knowledge of its own writes is
      // ours too, unless we refused one of them (that dot must stay unseen to be taken later).
      if (!rejected.some(r => r.by === from)) this.ctx.mergeOrigin(remoteCtx, from)
      // The sender has incorporated these tombstones: it holds them (an acknowledgement), or
      // collected them. A tombstone the sender collected is forgotten here too once this
      // context covers it: coverage, not the sender's word, is what keeps the versions it
      // superseded out, so replicas forget it at about the same time instead of each at its
      // own maintenance round (until then the buckets holding it differ and travel whole).
      for (const [id, held] of [...this.tombstones]) {
        const forget = new Set<NodeId>()
        for (const [by, acks] of held) {
          if (!remoteCtx.has(by, acks.seq)) continue
          acks.members.add(from)
          const sent = incoming.get(id)?.some(v => v.by === by && v.seq === acks.seq) === true
          if (inCovered(id) && !sent && this.ctx.upTo(by) >= acks.seq) forget.add(by)
        }
        if (forget.size === 0) continue
        const kept = (this.slots.get(id) as Slot).entry.versions.filter(v => !forget.has(v.by))
        this.setEntry(id, kept.length === 0 ? undefined : kept, batch, changes)
        collected += forget.size
      }
    }
    if (newest !== undefined) batch.hlc = this.clock.receive(newest, at)
    if (from !== undefined) {
      // the sender holds every tombstone it sent, new here or not
      for (const [id, versions] of incoming) {
        const held = this.tombstones.get(id)
        if (held === undefined) continue
        for (const v of versions) if (v.record === null && held.get(v.by)?.seq === v.seq) held.get(v.by)?.members.add(from)
      }
    }
    return { changes, batch: batch.build(this.ctx), accepted, stale, pruned, newTombstones, rejected, verified: this.verifiedCount - verifiedBefore, collected }
  }

  /**
   * Checks, ahead of `merge(delta)`, the signatures that merge would check (versions new
   * here), one per step, and remembers the results: a caller can spread the cost of a
   * large anti-entropy reply over several turns of its event loop, then merge at once.
   * Each step is one signature check (~70 µs with Ed25519 on node:crypto).
   */
  * verifyAhead (delta: RegistryDelta): Generator<void, void, void> {
    for (const e of delta.entries) {
      const local = this.slots.get(e.agentId)?.entry.versions ?? []
      for (const v of e.versions) {
        if (this.checked.has(v) || local.some(u => sameVersion(u, v)) || this.ctx.has(v.by, v.seq)) continue
        this.verifySignature(e.agentId, v)
        yield
      }
    }
  }

  /** Why a version new here is refused, or undefined when it may be merged. */
  private refusal (agentId: AgentId, v: Version, at: number): RejectedVersion['reason'] | undefined {
    if (v.hlc.wall - at > this.maxDriftMs) return 'future'
    return this.verifySignature(agentId, v) ? undefined : 'signature'
  }

  private verifySignature (agentId: AgentId, v: Version): boolean {
    const known = this.checked.get(v)
    if (known !== undefined) return known
    let ok: boolean
    try {
      ok = this.signing.verify(v.by, signedPayload(agentId, v), v.signature)
    } catch {
      ok = false
    }
    this.verifiedCount++
    this.checked.set(v, ok)
    return ok
  }

  // ---- anti-entropy ----

  /** The anti-entropy digest of this replica now. */
  digest (): RegistryDigest {
    const buckets = bucketBytes(this.bucketHashes)
    const ctxHash = contextHash(this.ctx.summary())
    return Object.freeze({ bucketCount: this.bucketCount, buckets, contextHash: ctxHash, root: rootHash(buckets, ctxHash) })
  }

  /**
   * What a replica with digest `remote` needs from this one: the complete contents of
   * every bucket whose hash differs, with this replica's context (so the remote can also
   * drop what this replica has seen superseded). Empty `entries` and no context when the
   * digests are equal.
   */
  missingFor (remote: RegistryDigest): RegistryDelta {
    const local = bucketBytes(this.bucketHashes)
    const buckets = differingBuckets(local, this.bucketCount, remote)
    const summary = this.ctx.summary()
    if (buckets.length === 0 && hashesEqual(contextHash(summary), remote.contextHash)) return Object.freeze({ entries: [] })
    const entries: RegistryEntry[] = []
    for (const b of buckets) for (const id of this.bucketKeys[b]) entries.push((this.slots.get(id) as Slot).entry)
    entries.sort((x, y) => (x.agentId < y.agentId ? -1 : x.agentId > y.agentId ? 1 : 0))
    return Object.freeze({ entries, context: summary, complete: Object.freeze({ bucketCount: this.bucketCount, buckets }) })
  }

  /**
   * The versions a replica whose context is `known` has not incorporated (incremental
   * sync by per-node counters). Does not carry removals whose tombstones were collected:
   * use the digest exchange for a replica that may hold superseded versions.
   */
  deltaSince (known: ContextSummary): RegistryDelta {
    const theirs = CausalContext.from(known)
    const entries: RegistryEntry[] = []
    for (const slot of this.slots.values()) {
      const missing = slot.entry.versions.filter(v => !theirs.has(v.by, v.seq))
      if (missing.length > 0) entries.push(Object.freeze({ agentId: slot.entry.agentId, versions: Object.freeze(missing) }))
    }
    entries.sort((x, y) => (x.agentId < y.agentId ? -1 : x.agentId > y.agentId ? 1 : 0))
    return Object.freeze({ entries })
  }

  /** The whole replicated state as a delta (every bucket complete, with the context). */
  snapshot (): RegistryDelta {
    const entries = [...this.slots.values()].map(s => s.entry)
    entries.sort((x, y) => (x.agentId < y.agentId ? -1 : x.agentId > y.agentId ? 1 : 0))
    const buckets = Array.from({ length: this.bucketCount }, (_, i) => i)
    return Object.freeze({ entries, context: this.ctx.summary(), complete: Object.freeze({ bucketCount: this.bucketCount, buckets }) })
  }

  /** This replica's causal context (what it has incorporated). */
  context (): ContextSummary {
    return this.ctx.summary()
  }

  // ---- reads ----

  /** The agent as readers see it, or undefined (unknown, or removed). */
  get (agentId: AgentId): RegisteredAgent | undefined {
    return this.slots.get(agentId)?.view
  }

  /** Every live agent (insertion order). */
  * entries (): IterableIterator<RegisteredAgent> {
    for (const slot of this.slots.values()) if (slot.view !== undefined) yield slot.view
  }

  /** The replicated entry (versions, tombstones included), or undefined. */
  entry (agentId: AgentId): RegistryEntry | undefined {
    return this.slots.get(agentId)?.entry
  }

  /** Every replicated entry, tombstones included. */
  * rawEntries (): IterableIterator<RegistryEntry> {
    for (const slot of this.slots.values()) yield slot.entry
  }

  /** Agents offering a capability of exactly this name. O(matches). */
  findByCapability (name: string, options: { reachableOnly?: boolean } = {}): RegisteredAgent[] {
    const out: RegisteredAgent[] = []
    for (const id of this.index.withCapability(name)) {
      const view = (this.slots.get(id) as Slot).view as RegisteredAgent
      if (options.reachableOnly !== true || view.reachable) out.push(view)
    }
    return out
  }

  /** Live agents hosted by `node`. */
  agentsOn (node: NodeId): RegisteredAgent[] {
    return [...this.index.onNode(node)].map(id => (this.slots.get(id) as Slot).view as RegisteredAgent)
  }

  /** Capability names offered by at least one live agent, sorted. */
  capabilityNames (): string[] {
    return this.index.capabilityNames()
  }

  /** Live agents. */
  get size (): number {
    return this.liveCount
  }

  /** Entries held, tombstones included. */
  get entryCount (): number {
    return this.slots.size
  }

  /** Tombstones held (awaiting collection). */
  get tombstoneCount (): number {
    return this.tombstoneVersions
  }

  /** The hybrid logical clock's last timestamp. */
  get hlc (): HlcTimestamp {
    return this.clock.last
  }

  // ---- reachability overlay ----

  /**
   * Marks a node unreachable (membership declared it dead) or reachable again; its
   * agents' `status` follows. Local only: not replicated, not persisted.
   * @returns the agents whose view changed
   */
  setNodeReachable (node: NodeId, reachable: boolean): AgentChange[] {
    if (reachable === !this.unreachable.has(node)) return []
    if (reachable) this.unreachable.delete(node)
    else this.unreachable.add(node)
    const changes: AgentChange[] = []
    for (const id of [...this.index.onNode(node)]) {
      const slot = this.slots.get(id) as Slot
      const before = slot.view as RegisteredAgent
      const after = this.viewOf(slot.entry)
      this.slots.set(id, { ...slot, view: after })
      if (after !== undefined) changes.push({ kind: 'updated', agentId: id, before, after })
    }
    return changes
  }

  /** Whether `node` is currently marked reachable. */
  isReachable (node: NodeId): boolean {
    return !this.unreachable.has(node)
  }

  // ---- tombstones ----

  /** The tombstones this replica holds, to publish as its acknowledgement. */
  tombstoneAck (): RegistryAck {
    const tombstones: Array<{ agentId: AgentId, by: NodeId, seq: number }> = []
    for (const [agentId, held] of this.tombstones) for (const [by, t] of held) tombstones.push({ agentId, by, seq: t.seq })
    return { tombstones }
  }

  /** Records that member `from` holds the tombstones it lists. Unknown or outdated ones are ignored. */
  acknowledge (from: NodeId, ack: RegistryAck): void {
    for (const t of ack.tombstones) {
      const held = this.tombstones.get(t.agentId)?.get(t.by)
      if (held?.seq === t.seq) held.members.add(from)
    }
  }

  /**
   * Forgets tombstones that are safe to forget (SPEC.md §5): the local context holds
   * every write of the tombstone's writer up to it (so the versions it superseded stay
   * rejected), and either every live member has acknowledged it or `tombstoneTtlMs` has
   * passed since its HLC wall time.
   */
  collectGarbage (options: GcOptions): GcUpdate {
    const at = checkNow(options.now)
    const members = new Set(options.members)
    members.delete(this.nodeId)
    const batch = new BatchBuilder()
    const collected: AgentId[] = []
    for (const [agentId, held] of [...this.tombstones]) {
      const forget = new Set<NodeId>()
      const versions = (this.slots.get(agentId) as Slot).entry.versions
      for (const [by, acks] of held) {
        const t = versions.find(v => v.by === by) as Version
        let acked = true
        for (const m of members) {
          if (!acks.members.has(m)) {
            acked = false
            break
          }
        }
        const expired = at - t.hlc.wall >= this.tombstoneTtlMs
        // coverage: the writer's earlier writes are all incorporated, so the version this
        // tombstone superseded stays rejected once it is forgotten
        if ((acked || expired) && this.ctx.upTo(by) >= t.seq) forget.add(by)
      }
      if (forget.size === 0) continue
      const kept = versions.filter(v => !forget.has(v.by))
      this.setEntry(agentId, kept.length === 0 ? undefined : kept, batch, undefined)
      collected.push(agentId)
    }
    return { collected, batch: batch.build(this.ctx) }
  }

  // ---- state bookkeeping ----

  /** Keeps the tombstone table in step with an entry's versions; a tombstone replaced by a later one starts without acks. */
  private trackTombstones (agentId: AgentId, versions: readonly Version[] | undefined): void {
    const before = this.tombstones.get(agentId)
    let after: Map<NodeId, TombstoneAcks> | undefined
    for (const v of versions ?? []) {
      if (v.record !== null) continue
      const kept = before?.get(v.by)
      ;(after ??= new Map()).set(v.by, kept?.seq === v.seq ? kept : { seq: v.seq, members: new Set() })
    }
    this.tombstoneVersions += (after?.size ?? 0) - (before?.size ?? 0)
    if (after === undefined) this.tombstones.delete(agentId)
    else this.tombstones.set(agentId, after)
  }

  private viewOf (entry: RegistryEntry): RegisteredAgent | undefined {
    const winner = entry.versions[0]
    const r = winner.record
    if (r === null) return undefined
    const reachable = !this.unreachable.has(r.node)
    return Object.freeze({
      agentId: entry.agentId,
      node: r.node,
      state: r.state,
      status: reachable ? r.state : 'unreachable',
      reachable,
      capabilities: r.capabilities,
      updatedAt: r.updatedAt,
      registeredAt: r.registeredAt,
      ...(r.agentVersion === undefined ? {} : { agentVersion: r.agentVersion }),
      version: Object.freeze({ by: winner.by, seq: winner.seq, hlc: winner.hlc }),
      conflicts: entry.versions.filter(v => v.record !== null).length - 1
    })
  }

  /**
   * Replaces an entry (undefined deletes it) and keeps every derived structure in step:
   * bucket hash, capability index, tombstone set, acks, the batch and visible changes.
   */
  private setEntry (agentId: AgentId, versions: readonly Version[] | undefined, batch: BatchBuilder | undefined, changes: AgentChange[] | undefined): void {
    const old = this.slots.get(agentId)
    const bucket = old?.bucket ?? bucketOf(agentId, this.bucketCount)
    if (old !== undefined) {
      this.bucketHashes[bucket * 2] ^= old.hash[0]
      this.bucketHashes[bucket * 2 + 1] ^= old.hash[1]
    }
    const before = old?.view
    let after: RegisteredAgent | undefined
    if (versions === undefined) {
      this.slots.delete(agentId)
      this.bucketKeys[bucket].delete(agentId)
      batch?.delete(agentId)
    } else {
      const entry: RegistryEntry = Object.freeze({ agentId, versions: Object.freeze([...versions]) })
      const hash = entryHash(entry)
      after = this.viewOf(entry)
      this.slots.set(agentId, { entry, hash, bucket, view: after })
      this.bucketKeys[bucket].add(agentId)
      this.bucketHashes[bucket * 2] ^= hash[0]
      this.bucketHashes[bucket * 2 + 1] ^= hash[1]
      batch?.put(entry)
    }
    this.trackTombstones(agentId, versions)
    this.index.update(agentId, before, after)
    if (before === undefined && after !== undefined) this.liveCount++
    if (before !== undefined && after === undefined) this.liveCount--
    if (changes !== undefined) {
      if (before === undefined && after !== undefined) changes.push({ kind: 'added', agentId, after })
      else if (before !== undefined && after === undefined) changes.push({ kind: 'removed', agentId, before })
      else if (before !== undefined && after !== undefined && !sameView(before, after)) changes.push({ kind: 'updated', agentId, before, after })
    }
  }
}

function sameView (a: RegisteredAgent, b: RegisteredAgent): boolean {
  return a.version.by === b.version.by && a.version.seq === b.version.seq && compareHlc(a.version.hlc, b.version.hlc) === 0 &&
    a.reachable === b.reachable && a.conflicts === b.conflicts
}
