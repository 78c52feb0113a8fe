/**
 * The member table and its state transitions (SWIM §4.2 "suspicion mechanism", with
 * memberlist's precedence rules). Pure bookkeeping: it decides what an update means and
 * records it; the node ({@link SwimNode}) acts on the result (gossip, timers, events).
 *
 * Precedence, for a member other than oneself, with `i` the incarnation in the update and
 * `j` the one known:
 * - alive(i): new member → join; else applies iff i > j (a dead/left member comes back
 *   as a join, a suspect one as alive).
 * - suspect(i): applies to an alive member iff i ≥ j; for a member already suspect, i = j
 *   is a confirmation (Lifeguard §IV-B) and i > j a new suspicion; ignored for dead, left,
 *   unknown members.
 * - dead(i): applies to an alive or suspect member iff i ≥ j; ignored otherwise.
 * - left(i): like dead; also upgrades a dead member to left (it said goodbye after all).
 * About oneself: suspect, dead or left claims with i ≥ own incarnation, and alive claims
 * with i > own incarnation (left over from an earlier life), are refuted by raising the
 * own incarnation above i; claims made while leaving are ignored.
 */
import { DenseSet } from './dense-set.js'
import type { MemberId, MemberRecord, MemberSnapshot, MemberState, MemberUpdate } from './types.js'

/**
 * The largest incarnation (2^53 − 1, the largest integer a double holds exactly; the
 * decoder rejects anything above). A node's own incarnation never goes past it: a
 * refutation of a claim at this value is made at this value, and wins because a suspect,
 * dead or left claim at this value about another member is never obeyed (SPEC.md §2).
 */
export const MAX_INCARNATION = Number.MAX_SAFE_INTEGER

/**
 * How far above the incarnation a node holds for a member a claim about it, relayed by
 * another node, may be and still be obeyed. Legitimate incarnations grow by one per
 * refutation or change, so a node that missed a few is never that far behind; a claim
 * beyond it is a forgery meant to push the member out of reach (SPEC.md §2).
 */
export const MAX_INCARNATION_STEP = 2 ** 16

/** Why a claim from another node is not obeyed: at the largest incarnation, or too far ahead. */
export type ClaimRejection = 'ceiling' | 'step'

/** A member as stored (mutated in place by transitions). */
export interface Member {
  readonly id: MemberId
  /** Position in the DenseSet (live, dead or left) that holds the member. */
  slot: number
  addrs: readonly string[]
  meta?: Uint8Array
  state: MemberState
  incarnation: number
  stateChangedAt: number
}

/** What applying one update did. */
export type Transition =
  | { kind: 'join', member: Member, previous?: 'dead' | 'left' }
  | { kind: 'update', member: Member, changed: boolean }
  | { kind: 'alive', member: Member }
  | { kind: 'suspect', member: Member, previous: 'alive' | 'suspect', from: MemberId }
  | { kind: 'confirm', member: Member, from: MemberId }
  | { kind: 'dead', member: Member, previous: 'alive' | 'suspect', from: MemberId }
  | { kind: 'left', member: Member, previous: 'alive' | 'suspect' | 'dead' }
  | { kind: 'refute', member: Member, claim: MemberUpdate }

const RANK: Record<MemberState, number> = { alive: 0, suspect: 1, dead: 2, left: 2 }

export function snapshot (m: Member): MemberSnapshot {
  const s: MemberSnapshot = { id: m.id, addrs: m.addrs, state: m.state, incarnation: m.incarnation, stateChangedAt: m.stateChangedAt }
  if (m.meta !== undefined) s.meta = m.meta
  return s
}

function sameBytes (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined || a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}

function sameAddrs (a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export class MemberList {
  readonly self: Member
  /** Set when the node has announced its leave: claims about itself are no longer refuted. */
  leaving = false
  private readonly members = new Map<MemberId, Member>()
  /** Alive and suspect members other than oneself. */
  readonly live = new DenseSet<Member>()
  readonly dead = new DenseSet<Member>()
  readonly left = new DenseSet<Member>()

  constructor (self: { id: MemberId, addrs: readonly string[], meta?: Uint8Array, incarnation: number }, now: number) {
    this.self = { id: self.id, slot: -1, addrs: self.addrs, state: 'alive', incarnation: self.incarnation, stateChangedAt: now }
    if (self.meta !== undefined) this.self.meta = self.meta
    this.members.set(self.id, this.self)
  }

  get (id: MemberId): Member | undefined {
    return this.members.get(id)
  }

  /** Every member, oneself included. */
  values (): IterableIterator<Member> {
    return this.members.values()
  }

  /** All members known, any state, oneself included. */
  get size (): number {
    return this.members.size
  }

  /** N for the protocol's arithmetic: live members, oneself included. */
  get liveCount (): number {
    return this.live.size + 1
  }

  /** Forgets a dead or left member (reclaim). Live members and oneself are never removed. */
  remove (id: MemberId): boolean {
    const m = this.members.get(id)
    if (m === undefined || m === this.self || m.state === 'alive' || m.state === 'suspect') return false
    this.members.delete(id)
    this.dead.delete(m)
    this.left.delete(m)
    return true
  }

  /**
   * Adds a member from a snapshot (a previous run's table) without a transition: alive and
   * suspect records come back alive, dead and left ones as they were. Ignores oneself and
   * members already known. Returns the member added, if any.
   */
  restore (r: MemberRecord, now: number): Member | undefined {
    if (r.id === this.self.id || this.members.has(r.id)) return undefined
    const state: MemberState = r.state === 'suspect' ? 'alive' : r.state
    const m: Member = { id: r.id, slot: -1, addrs: r.addrs, state, incarnation: r.incarnation, stateChangedAt: now }
    if (r.meta !== undefined) m.meta = r.meta
    this.members.set(r.id, m)
    if (state === 'alive') this.live.add(m)
    else if (state === 'dead') this.dead.add(m)
    else this.left.add(m)
    return m
  }

  /** The full state for push-pull. */
  records (): MemberRecord[] {
    const out: MemberRecord[] = []
    for (const m of this.members.values()) {
      const r: MemberRecord = { id: m.id, incarnation: m.incarnation, state: m.state, addrs: m.addrs }
      if (m.meta !== undefined) r.meta = m.meta
      out.push(r)
    }
    return out
  }

  /**
   * Whether `u` is older than what this table holds about its member: a lower incarnation,
   * or the same incarnation in a state that ours overrides (alive < suspect < dead, left).
   * The sender of such an update is behind.
   */
  isStale (u: MemberUpdate): boolean {
    const m = this.members.get(u.id)
    if (m === undefined) return false
    if (m === this.self && this.leaving) return false
    if (u.incarnation !== m.incarnation) return u.incarnation < m.incarnation
    return RANK[u.kind] < RANK[m.state]
  }

  /** What this table holds about `id`, as an update (`declarer` names the author of suspect/dead claims). */
  current (id: MemberId, declarer: (m: Member) => MemberId): MemberUpdate | undefined {
    const m = this.members.get(id)
    if (m === undefined) return undefined
    switch (m.state) {
      case 'alive': {
        const u: MemberUpdate = { kind: 'alive', id, incarnation: m.incarnation, addrs: m.addrs }
        if (m.meta !== undefined) u.meta = m.meta
        return u
      }
      case 'suspect': return { kind: 'suspect', id, incarnation: m.incarnation, from: declarer(m) }
      case 'dead': return { kind: 'dead', id, incarnation: m.incarnation, from: declarer(m) }
      case 'left': return { kind: 'left', id, incarnation: m.incarnation }
    }
  }

  /** The alive update that announces oneself. */
  selfAlive (): MemberUpdate {
    const u: MemberUpdate = { kind: 'alive', id: this.self.id, incarnation: this.self.incarnation, addrs: this.self.addrs }
    if (this.self.meta !== undefined) u.meta = this.self.meta
    return u
  }

  /**
   * Raises the own incarnation above `atLeast` (refutation, or a change of addrs/meta), to
   * {@link MAX_INCARNATION} at most.
   */
  bumpIncarnation (atLeast: number, now: number): void {
    this.self.incarnation = Math.min(Math.max(this.self.incarnation, atLeast) + 1, MAX_INCARNATION)
    this.self.stateChangedAt = now
  }

  /**
   * Whether a claim received from `via` (the sender as the transport authenticated it) may
   * be applied: undefined if so, else why not. A suspect, dead or left claim about another
   * member at {@link MAX_INCARNATION} could never be refuted (`ceiling`); a claim more than
   * {@link MAX_INCARNATION_STEP} above the incarnation held (`step`) would push the member
   * towards that ceiling in one frame. A member's own alive news is taken whatever its
   * incarnation: only the member raises it. Unknown members pass (only an alive claim
   * does anything about them: a join).
   */
  screen (u: MemberUpdate, via: MemberId): ClaimRejection | undefined {
    const m = this.members.get(u.id)
    if (m === undefined) return undefined
    if (u.kind !== 'alive' && m !== this.self && u.incarnation >= MAX_INCARNATION) return 'ceiling'
    if (u.kind === 'alive' && via === u.id) return undefined
    return u.incarnation - m.incarnation > MAX_INCARNATION_STEP ? 'step' : undefined
  }

  /** Marks oneself as leaving: the state becomes `left`, claims are no longer refuted. */
  markLeaving (now: number): void {
    this.leaving = true
    this.self.state = 'left'
    this.self.stateChangedAt = now
  }

  /** Applies one update; undefined when it changes nothing (stale, unknown, redundant). */
  apply (u: MemberUpdate, now: number): Transition | undefined {
    if (u.id === this.self.id) return this.applyToSelf(u, now)
    switch (u.kind) {
      case 'alive': return this.applyAlive(u, now)
      case 'suspect': return this.applySuspect(u, now)
      case 'dead': return this.applyDead(u, now)
      case 'left': return this.applyLeft(u, now)
    }
  }

  private applyToSelf (u: MemberUpdate, now: number): Transition | undefined {
    if (this.leaving) return undefined
    const mine = this.self.incarnation
    const contradicts = u.kind === 'alive' ? u.incarnation > mine : u.incarnation >= mine
    if (!contradicts) return undefined
    this.bumpIncarnation(u.incarnation, now)
    return { kind: 'refute', member: this.self, claim: u }
  }

  private applyAlive (u: Extract<MemberUpdate, { kind: 'alive' }>, now: number): Transition | undefined {
    const m = this.members.get(u.id)
    if (m === undefined) {
      const member: Member = { id: u.id, slot: -1, addrs: u.addrs, state: 'alive', incarnation: u.incarnation, stateChangedAt: now }
      if (u.meta !== undefined) member.meta = u.meta
      this.members.set(u.id, member)
      this.live.add(member)
      return { kind: 'join', member }
    }
    if (u.incarnation <= m.incarnation) return undefined
    const previous = m.state
    const changed = !sameAddrs(m.addrs, u.addrs) || !sameBytes(m.meta, u.meta)
    m.incarnation = u.incarnation
    m.addrs = u.addrs
    if (u.meta !== undefined) m.meta = u.meta
    else delete m.meta
    if (previous === 'alive') return { kind: 'update', member: m, changed }
    m.state = 'alive'
    m.stateChangedAt = now
    if (previous === 'suspect') return { kind: 'alive', member: m }
    this.dead.delete(m)
    this.left.delete(m)
    this.live.add(m)
    return { kind: 'join', member: m, previous }
  }

  private applySuspect (u: Extract<MemberUpdate, { kind: 'suspect' }>, now: number): Transition | undefined {
    const m = this.members.get(u.id)
    if (m === undefined || u.incarnation < m.incarnation) return undefined
    if (m.state === 'suspect') {
      if (u.incarnation === m.incarnation) return { kind: 'confirm', member: m, from: u.from }
      // The member refuted the suspicion we hold (its refutation has not reached us yet) and
      // is suspected anew: a new suspicion, not a confirmation of the old one. Counting it
      // as a confirmation would shorten a timer the member has already answered, and keep
      // its refutation (same incarnation as this suspicion) from ever being accepted.
      m.incarnation = u.incarnation
      m.stateChangedAt = now
      return { kind: 'suspect', member: m, previous: 'suspect', from: u.from }
    }
    if (m.state !== 'alive') return undefined
    m.state = 'suspect'
    m.incarnation = u.incarnation
    m.stateChangedAt = now
    return { kind: 'suspect', member: m, previous: 'alive', from: u.from }
  }

  private applyDead (u: Extract<MemberUpdate, { kind: 'dead' }>, now: number): Transition | undefined {
    const m = this.members.get(u.id)
    if (m === undefined || u.incarnation < m.incarnation) return undefined
    if (m.state !== 'alive' && m.state !== 'suspect') return undefined
    const previous = m.state
    m.state = 'dead'
    m.incarnation = u.incarnation
    m.stateChangedAt = now
    this.live.delete(m)
    this.dead.add(m)
    return { kind: 'dead', member: m, previous, from: u.from }
  }

  private applyLeft (u: Extract<MemberUpdate, { kind: 'left' }>, now: number): Transition | undefined {
    const m = this.members.get(u.id)
    if (m === undefined || u.incarnation < m.incarnation || m.state === 'left') return undefined
    const previous = m.state
    m.state = 'left'
    m.incarnation = u.incarnation
    m.stateChangedAt = now
    this.live.delete(m)
    this.dead.delete(m)
    this.left.add(m)
    return { kind: 'left', member: m, previous }
  }
}
