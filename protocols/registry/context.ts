/**
 * The causal context of a replica: the set of dots (writes) it has incorporated, whether
 * it still holds them or has seen them superseded (Almeida, Shoker, Baquero, "Delta
 * State Replicated Data Types", JPDC 2018, §5: causal context as a version vector plus a
 * "dot cloud"). Each node numbers its writes 1, 2, 3, ... across all entries, so a
 * context compresses to a contiguous prefix per origin plus the few dots beyond it.
 *
 * It is what lets the registry forget a tombstone yet still reject the versions the
 * tombstone superseded: they are incorporated dots that the replica no longer holds.
 */
import type { ContextSummary, OriginKnowledge } from './types.js'
import { compareNodeIds, type NodeId, type VectorClock } from './vector-clock.js'

interface Knowledge {
  upTo: number
  extra: Set<number> | undefined
}

export class CausalContext {
  private readonly origins = new Map<NodeId, Knowledge>()
  private readonly dirty = new Set<NodeId>()

  /** Builds a context from a summary (trusted: validated by the codec). */
  static from (summary: Iterable<OriginKnowledge>): CausalContext {
    const ctx = new CausalContext()
    for (const o of summary) {
      ctx.origins.set(o.node, { upTo: o.upTo, extra: o.extra.length > 0 ? new Set(o.extra) : undefined })
      ctx.normalize(o.node)
    }
    return ctx
  }

  /** Whether write `seq` of `node` is incorporated. */
  has (node: NodeId, seq: number): boolean {
    const k = this.origins.get(node)
    if (k === undefined) return false
    return seq <= k.upTo || (k.extra?.has(seq) ?? false)
  }

  /** Every write of `node` up to this sequence number is incorporated. */
  upTo (node: NodeId): number {
    return this.origins.get(node)?.upTo ?? 0
  }

  /** The highest incorporated sequence number of `node` (0 if none). */
  maxSeq (node: NodeId): number {
    const k = this.origins.get(node)
    if (k === undefined) return 0
    let max = k.upTo
    if (k.extra !== undefined) for (const s of k.extra) if (s > max) max = s
    return max
  }

  /** Adds one dot; returns whether the context changed. */
  add (node: NodeId, seq: number): boolean {
    let k = this.origins.get(node)
    if (k === undefined) {
      k = { upTo: 0, extra: undefined }
      this.origins.set(node, k)
    }
    if (seq <= k.upTo || (k.extra?.has(seq) ?? false)) return false
    if (seq === k.upTo + 1) {
      k.upTo = seq
    } else {
      (k.extra ??= new Set()).add(seq)
    }
    this.normalize(node)
    this.dirty.add(node)
    return true
  }

  /**
   * Adds every head of a version's clock: `(node, clock[node])` is the latest write of
   * `node` to that entry, which the version has seen, so it is incorporated too.
   */
  addHeads (clock: VectorClock): void {
    for (const [node, seq] of clock) this.add(node, seq)
  }

  /**
   * Whether every write of every node up to its counter in `clock` is incorporated
   * (contiguously). This is the condition for forgetting a tombstone with that clock:
   * any version it superseded has a dot at or below those counters.
   */
  covers (clock: VectorClock): boolean {
    for (const [node, seq] of clock) if (this.upTo(node) < seq) return false
    return true
  }

  /**
   * Declares every write of `node` up to `seq` incorporated, gaps included. Only for
   * writes known to be lost (SPEC.md, "Tombstone collection", the departed-origin rule).
   */
  raise (node: NodeId, seq: number): void {
    const k = this.origins.get(node)
    if (k === undefined) {
      this.origins.set(node, { upTo: seq, extra: undefined })
    } else {
      if (seq <= k.upTo) return
      k.upTo = seq
      this.normalize(node)
    }
    this.dirty.add(node)
  }

  /** Union with another context (the changed origins become dirty). */
  merge (other: CausalContext | ContextSummary): void {
    const entries: Iterable<[NodeId, Knowledge]> = other instanceof CausalContext
      ? other.origins
      : other.map(o => [o.node, { upTo: o.upTo, extra: new Set(o.extra) }] as [NodeId, Knowledge])
    for (const [node, theirs] of entries) {
      let mine = this.origins.get(node)
      let changed = false
      if (mine === undefined) {
        mine = { upTo: 0, extra: undefined }
        this.origins.set(node, mine)
      }
      if (theirs.upTo > mine.upTo) {
        mine.upTo = theirs.upTo
        changed = true
      }
      if (theirs.extra !== undefined) {
        for (const s of theirs.extra) {
          if (s > mine.upTo && !(mine.extra?.has(s) ?? false)) {
            (mine.extra ??= new Set()).add(s)
            changed = true
          }
        }
      }
      if (changed) {
        this.normalize(node)
        this.dirty.add(node)
      } else if (mine.upTo === 0 && mine.extra === undefined) {
        this.origins.delete(node)
      }
    }
  }

  /** The knowledge of one origin, or undefined when nothing of it is incorporated. */
  origin (node: NodeId): OriginKnowledge | undefined {
    const k = this.origins.get(node)
    if (k === undefined) return undefined
    return { node, upTo: k.upTo, extra: k.extra === undefined ? [] : [...k.extra].sort((a, b) => a - b) }
  }

  /** Every origin's knowledge, sorted by node. */
  summary (): ContextSummary {
    return [...this.origins.keys()].sort(compareNodeIds).map(node => this.origin(node) as OriginKnowledge)
  }

  /** Origins changed since the last call (to persist), with their current knowledge. */
  takeDirty (): OriginKnowledge[] {
    const out: OriginKnowledge[] = []
    for (const node of [...this.dirty].sort(compareNodeIds)) {
      const o = this.origin(node)
      if (o !== undefined) out.push(o)
    }
    this.dirty.clear()
    return out
  }

  /** Number of origins known. */
  get size (): number {
    return this.origins.size
  }

  private normalize (node: NodeId): void {
    const k = this.origins.get(node)
    if (k?.extra === undefined) return
    for (const s of k.extra) if (s <= k.upTo) k.extra.delete(s)
    while (k.extra.has(k.upTo + 1)) {
      k.extra.delete(k.upTo + 1)
      k.upTo++
    }
    if (k.extra.size === 0) k.extra = undefined
  }
}
