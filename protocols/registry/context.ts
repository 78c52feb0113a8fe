/**
 * The causal context of a replica: the set of dots (writes) it has incorporated, whether
 * it still holds them or has seen them superseded (Almeida, Shoker, Baquero, "Delta
 * State Replicated Data Types", JPDC 2018, §5: causal context as a version vector plus a
 * "dot cloud"). Each node numbers its writes 1, 2, 3, ... across all entries, so a
 * context compresses to a contiguous prefix per origin plus the few dots beyond it.
 *
 * It is what lets the registry forget a tombstone yet still reject the versions the
 * tombstone superseded: they are incorporated dots that the replica no longer holds.
 * Only a version's own dot enters it, and only the writer's own word about its writes
 * ({@link CausalContext.mergeOrigin}): a peer cannot mark another node's future writes
 * as seen (they would be rejected as stale everywhere).
 */
import type { ContextSummary, NodeId, OriginKnowledge } from './types.js'

/** JavaScript string order (UTF-16 code units), the canonical order of node ids. */
export function compareNodeIds (a: NodeId, b: NodeId): number {
  return a < b ? -1 : a > b ? 1 : 0
}

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
   * Union with what `other` knows of the writes of `origin` only (that origin becomes
   * dirty if it changed). A replica takes a peer's word about the peer's own writes and
   * nobody else's (SPEC.md §6).
   */
  mergeOrigin (other: CausalContext, origin: NodeId): void {
    const theirs = other.origins.get(origin)
    if (theirs === undefined) return
    let mine = this.origins.get(origin)
    let changed = false
    if (mine === undefined) {
      mine = { upTo: 0, extra: undefined }
      this.origins.set(origin, mine)
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
      this.normalize(origin)
      this.dirty.add(origin)
    } else if (mine.upTo === 0 && mine.extra === undefined) {
      this.origins.delete(origin)
    }
  }

  /** Union with a stored context (restoring a replica). */
  merge (summary: ContextSummary): void {
    const other = CausalContext.from(summary)
    for (const o of summary) this.mergeOrigin(other, o.node)
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
