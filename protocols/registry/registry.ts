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
import type { AgentChange, AgentId, AgentRecord, AgentState, Capability, ContextSummary, NodeId, RegisteredAgent, RegistryAck, RegistryBatch, RegistryDelta, RegistryDigest, RegistryEntry, RegistryOp, StoredRegistry, Version } from './types.js'
import { checkAgentId, checkCapabilitiesInput, checkNodeId, checkState, Issue } from './validate.js'
import { incrementClock } from './vector-clock.js'
import { joinedClock, mergeVersions, sameVersion, sameVersions, seqOf } from './versions.js'

export interface RegistryOptions {
  /** This replica's node (its PeerId string): the writer of local operations. */
  nodeId: NodeId
  /**
   * Bound on a tombstone's life, ms after its HLC wall time: past it the tombstone is
   * collected even if not every live member acknowledged it (SPEC.md, "Tombstone
   * collection"). @default 86_400_000 (24 h)
   */
  tombstoneTtlMs?: number
  /** Buckets of the anti-entropy digest; must be the same cluster-wide. @default 256 */
  bucketCount?: number
  /** Remote HLC timestamps further ahead of `now` than this are not adopted. @default 60_000 */
  maxClockDriftMs?: number
}

export const DEFAULT_TOMBSTONE_TTL_MS = 86_400_000
export const DEFAULT_BUCKET_COUNT = 256
export const DEFAULT_MAX_CLOCK_DRIFT_MS = 60_000

/** Result of a local operation. */
export interface LocalUpdate {
  /** What to publish on `caxton/registry/1` (undefined when the operation was a no-op). */
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
  /** Local versions dropped because the sender had seen them superseded. */
  readonly pruned: number
  /** Entries this merge turned into tombstones only, by their winning tombstone (publish an ack for them). */
  readonly newTombstones: RegistryAck['tombstones']
}

/** Result of a garbage collection. */
export interface GcUpdate {
  readonly collected: readonly AgentId[]
  readonly batch: RegistryBatch
}

export interface MergeOptions {
  /** ms since the epoch (feeds the hybrid logical clock). */
  now: number
  /** The sending member (as authenticated by the transport): it holds what it sent. */
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

interface Ack {
  readonly by: NodeId
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
 * const reg = new Registry({ nodeId: peerId.toString() })
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
  /** Agents whose versions are all tombstones (collectable); acks name the winning one. */
  private readonly tombstones = new Set<AgentId>()
  private readonly acks = new Map<AgentId, Ack>()
  private liveCount = 0

  constructor (options: RegistryOptions) {
    try {
      this.nodeId = checkNodeId(options?.nodeId, 'nodeId')
    } catch (err) {
      throw new InvalidRegistryOptionsError('nodeId', (err as Issue).reason)
    }
    this.bucketCount = positiveInt(options.bucketCount, DEFAULT_BUCKET_COUNT, 'bucketCount', 65_536)
    this.tombstoneTtlMs = positiveInt(options.tombstoneTtlMs, DEFAULT_TOMBSTONE_TTL_MS, 'tombstoneTtlMs')
    const drift = positiveInt(options.maxClockDriftMs, DEFAULT_MAX_CLOCK_DRIFT_MS, 'maxClockDriftMs')
    this.clock = new HybridLogicalClock(HLC_ZERO, drift)
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
        for (const v of versions) reg.ctx.addHeads(v.clock)
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
    let record: AgentRecord | null
    switch (op.type) {
      case 'put':
        record = this.buildRecord(op.node, op.state, op.capabilities ?? [], at)
        break
      case 'update': {
        const current = slot?.entry.versions[0].record
        if (current === undefined || current === null) throw new RegistryAgentNotFoundError(agentId)
        record = this.buildRecord(op.node ?? current.node, op.state ?? current.state, op.capabilities ?? current.capabilities, at)
        break
      }
      case 'remove':
        // nothing live to remove: writing a tombstone would only add garbage
        if (slot === undefined || slot.entry.versions.every(v => v.record === null)) {
          return { delta: undefined, changes: [], batch: { put: [], delete: [], knowledge: [] } }
        }
        record = null
        break
      default:
        throw new InvalidRegistryOpError('type', 'expected put, update or remove')
    }
    const hlc = this.clock.tick(at)
    const seq = this.ctx.maxSeq(this.nodeId) + 1
    // the new clock dominates every version held, so it supersedes all of them
    const clock = incrementClock(joinedClock(slot?.entry.versions ?? []), this.nodeId, seq)
    const version: Version = Object.freeze({ clock, by: this.nodeId, hlc, record })
    this.ctx.addHeads(clock)
    const batch = new BatchBuilder()
    const changes: AgentChange[] = []
    this.setEntry(agentId, [version], batch, changes)
    batch.hlc = hlc
    return {
      delta: Object.freeze({ entries: [Object.freeze({ agentId, versions: Object.freeze([version]) })] }),
      changes,
      batch: batch.build(this.ctx)
    }
  }

  private buildRecord (node: unknown, state: unknown, capabilities: unknown, at: number): AgentRecord {
    return opField(() => Object.freeze({
      node: checkNodeId(node, 'node'),
      state: checkState(state, 'state') as AgentState,
      capabilities: checkCapabilitiesInput(capabilities, 'capabilities') as readonly Capability[],
      updatedAt: at
    }))
  }

  // ---- merging ----

  /**
   * Merges a delta: a gossip delta, an anti-entropy reply or a snapshot. Versions this
   * replica has seen superseded are rejected (`stale`), even after their tombstone was
   * collected; when the delta carries complete buckets and the sender's context, local
   * versions the sender has seen superseded are dropped (`pruned`) and the contexts are
   * joined. Such a delta must be a `missingFor` answer to this replica's digest, or a
   * `snapshot()`: its context is adopted on the grounds that every other bucket matched.
   * Trusts the delta's shape (decode it with the codec).
   */
  merge (delta: RegistryDelta, options: MergeOptions): MergeUpdate {
    const at = checkNow(options.now)
    const from = options.from
    const batch = new BatchBuilder()
    const changes: AgentChange[] = []
    let accepted = 0
    let stale = 0
    let pruned = 0
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
      const keepLocal = prune
        ? local.filter(u => remote.some(v => sameVersion(u, v)) || !(remoteCtx as CausalContext).has(u.by, seqOf(u)))
        : local
      pruned += local.length - keepLocal.length
      const fresh: Version[] = []
      for (const v of remote) {
        if (local.some(u => sameVersion(u, v))) continue
        // incorporated but no longer held: superseded here (maybe by a collected tombstone)
        if (this.ctx.has(v.by, seqOf(v))) {
          stale++
          continue
        }
        fresh.push(v)
      }
      for (const v of fresh) {
        this.ctx.addHeads(v.clock)
        newest = newest === undefined ? v.hlc : maxHlc(newest, v.hlc)
      }
      if (fresh.length === 0 && keepLocal.length === local.length) return
      const merged = mergeVersions(keepLocal, fresh)
      for (const v of fresh) {
        // new here, but superseded by what is held: as stale as one rejected above
        if (merged.includes(v)) accepted++
        else stale++
      }
      if (sameVersions(merged, local)) return
      this.setEntry(agentId, merged.length === 0 ? undefined : merged, batch, changes)
    }

    for (const [agentId, versions] of incoming) mergeKey(agentId, versions, inCovered(agentId))
    if (complete !== undefined && remoteCtx !== undefined) {
      const localCovered: AgentId[] = []
      if (complete.bucketCount === this.bucketCount) {
        for (const b of complete.buckets) for (const id of this.bucketKeys[b]) localCovered.push(id)
      } else {
        for (const id of this.slots.keys()) if (inCovered(id)) localCovered.push(id)
      }
      for (const id of localCovered) if (!incoming.has(id)) mergeKey(id, [], true)
      // the sender's buckets outside `complete` matched our digest, and inside it we now
      // hold everything it held (or have seen it superseded): its context is ours too
      this.ctx.merge(remoteCtx)
      if (from !== undefined) {
        for (const id of this.tombstones) {
          const t = (this.slots.get(id) as Slot).entry.versions[0]
          if (remoteCtx.has(t.by, seqOf(t))) this.recordAck(id, t, from)
        }
      }
    }
    if (newest !== undefined) batch.hlc = this.clock.receive(newest, at)

    const newTombstones: Array<{ agentId: AgentId, by: NodeId, seq: number }> = []
    for (const id of batch.puts.keys()) {
      if (!this.tombstones.has(id)) continue
      const t = (this.slots.get(id) as Slot).entry.versions[0]
      newTombstones.push({ agentId: id, by: t.by, seq: seqOf(t) })
    }
    if (from !== undefined) {
      // the sender holds every tombstone it sent, new here or not
      for (const [id, versions] of incoming) {
        if (!this.tombstones.has(id)) continue
        const t = (this.slots.get(id) as Slot).entry.versions[0]
        if (versions.some(v => sameVersion(v, t))) this.recordAck(id, t, from)
      }
    }
    return { changes, batch: batch.build(this.ctx), accepted, stale, pruned, newTombstones }
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
      const missing = slot.entry.versions.filter(v => !theirs.has(v.by, seqOf(v)))
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

  /** Entries whose versions are all tombstones (awaiting collection). */
  get tombstoneCount (): number {
    return this.tombstones.size
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
    for (const id of this.tombstones) {
      const t = (this.slots.get(id) as Slot).entry.versions[0]
      tombstones.push({ agentId: id, by: t.by, seq: seqOf(t) })
    }
    return { tombstones }
  }

  /** Records that member `from` holds the tombstones it lists. Unknown or outdated ones are ignored. */
  acknowledge (from: NodeId, ack: RegistryAck): void {
    for (const t of ack.tombstones) {
      if (!this.tombstones.has(t.agentId)) continue
      const held = (this.slots.get(t.agentId) as Slot).entry.versions[0]
      if (held.by === t.by && seqOf(held) === t.seq) this.recordAck(t.agentId, held, from)
    }
  }

  /**
   * Forgets tombstones that are safe to forget (SPEC.md §5): the entry's versions are all
   * tombstones (normally one), the local context covers their clocks (so the versions
   * they superseded stay rejected), and either every live member has acknowledged the
   * winning tombstone or `tombstoneTtlMs` has passed since its HLC wall time. At the TTL,
   * a gap in the context that belongs to a node that is not a live member is declared
   * lost and filled.
   */
  collectGarbage (options: GcOptions): GcUpdate {
    const at = checkNow(options.now)
    const members = new Set(options.members)
    members.delete(this.nodeId)
    const batch = new BatchBuilder()
    const collected: AgentId[] = []
    for (const id of [...this.tombstones]) {
      const t = (this.slots.get(id) as Slot).entry.versions[0]
      const ack = this.acks.get(id)
      let acked = true
      for (const m of members) {
        if (ack === undefined || !ack.members.has(m)) {
          acked = false
          break
        }
      }
      // the winner has the highest timestamp of the (concurrent) tombstones
      const expired = at - t.hlc.wall >= this.tombstoneTtlMs
      if (!acked && !expired) continue
      const versions = (this.slots.get(id) as Slot).entry.versions
      if (!versions.every(v => this.ctx.covers(v.clock))) {
        if (!expired) continue
        for (const v of versions) {
          for (const [node, seq] of v.clock) {
            if (node !== this.nodeId && !members.has(node) && this.ctx.upTo(node) < seq) this.ctx.raise(node, seq)
          }
        }
        if (!versions.every(v => this.ctx.covers(v.clock))) continue
      }
      this.setEntry(id, undefined, batch, undefined)
      collected.push(id)
    }
    return { collected, batch: batch.build(this.ctx) }
  }

  private recordAck (agentId: AgentId, t: Version, member: NodeId): void {
    const seq = seqOf(t)
    let ack = this.acks.get(agentId)
    if (ack === undefined || ack.by !== t.by || ack.seq !== seq) {
      ack = { by: t.by, seq, members: new Set() }
      this.acks.set(agentId, ack)
    }
    ack.members.add(member)
  }

  // ---- state bookkeeping ----

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
      version: Object.freeze({ by: winner.by, seq: seqOf(winner), hlc: winner.hlc }),
      conflicts: entry.versions.length - 1
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
    if (versions !== undefined && versions.every(v => v.record === null)) {
      this.tombstones.add(agentId)
    } else {
      this.tombstones.delete(agentId)
      this.acks.delete(agentId)
    }
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
