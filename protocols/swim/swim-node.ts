/**
 * One SWIM member as a sans-I/O state machine: the host feeds it received frames and the
 * passing of time, and sends what it returns. The same code runs in the simulator (virtual
 * time, simulated network) and over libp2p streams (`src/membership/`).
 *
 * Protocol: SWIM (Das, Gupta, Motivala 2002) with the Lifeguard refinements (Dadgar,
 * Phillips, Currey 2017) as HashiCorp memberlist implements them; see SPEC.md.
 */
import { Awareness, probeHealthDelta } from './awareness.js'
import { BroadcastQueue, retransmitLimit } from './broadcast-queue.js'
import { decodeFrame, encodeFrame, encodedUpdateSize } from './codec.js'
import { scaledPushPullIntervalMs, swimConfig } from './config.js'
import { DeadlineQueue } from '../deadline-queue.js'
import { SwimArgumentError, SwimDecodeError, SwimLifecycleError } from './errors.js'
import { MAX_INCARNATION, MemberList, snapshot } from './members.js'
import { ProbeOrder, RecentSeqs } from './probe.js'
import { Suspicion, expectedConfirmations, suspicionMaxTimeoutMs, suspicionMinTimeoutMs } from './suspicion.js'
import type { SwimConfig, SwimPreset } from './config.js'
import type { Member, Transition } from './members.js'
import type { Probe, Relay } from './probe.js'
import type {
  FrameType, MemberEvent, MemberEventType, MemberId, MemberRecord, MemberSnapshot, MemberUpdate, OutboundMessage,
  RandomSource, SwimFrame, SwimMetrics, SwimOutput
} from './types.js'

export interface SwimNodeOptions {
  /** This member's id (over libp2p: its PeerId string), 1 to 256 characters. */
  id: MemberId
  /** Addresses others should dial to reach this member (opaque to the protocol). @default [] */
  addrs?: readonly string[]
  /** Application metadata gossiped with this member's alive updates, at most `maxMetaBytes`. */
  meta?: Uint8Array
  /**
   * Starting incarnation. A host that persists the last incarnation can pass it + 1 so a
   * restarted member need not first refute its own old death. @default 0
   */
  incarnation?: number
  /** Preset the config starts from. @default 'lan' */
  preset?: SwimPreset
  /** Overrides on top of the preset. */
  config?: Partial<SwimConfig>
  /** Uniform random numbers in [0, 1): the only source of randomness. */
  random: RandomSource
  /** Canonicalises decoded member ids (memory sharing when many nodes share a process). */
  internId?: (id: string) => string
  /**
   * Members known from a previous run (a snapshot the host persisted), restored at `start`
   * without gossip: alive and suspect ones as alive (the protocol then probes them like any
   * other, and suspects those that are gone), dead and left ones as such. Each live one is
   * reported as a `member:join` event.
   */
  members?: readonly MemberRecord[]
}

/** A member to contact when joining. */
export interface SeedMember {
  id: MemberId
  addrs?: readonly string[]
}

type Lifecycle = 'created' | 'running' | 'leaving'

const EVENT_OF: Partial<Record<Transition['kind'], MemberEventType>> = {
  join: 'member:join',
  alive: 'member:alive',
  suspect: 'member:suspect',
  dead: 'member:dead',
  left: 'member:leave'
}

/** The frame fields that are not updates, bytes (map header, version, type, seq, array header). */
const FRAME_OVERHEAD = 32
const SEQ_LIMIT = 2 ** 32
/** How many members, cluster-wide, tell a member of a death claim found by push-pull (see onPushPull). */
const NOTIFY_FANOUT = 6
/** Indirect probes served at once; more ping-reqs are ignored (a flood must not grow memory). */
const MAX_RELAYS = 1024
/**
 * Largest frame read from a non-member, bytes: a joining node's push-pull fits with room
 * to spare (its own record, or a remembered table of a few hundred members), and a
 * stranger cannot make this node decode megabytes to learn one record.
 */
export const NON_MEMBER_MAX_FRAME_BYTES = 64 * 1024
const EMPTY_ADDRS: readonly string[] = Object.freeze([])

function newMetrics (): SwimMetrics {
  return {
    probes: 0,
    probesFailed: 0,
    pingReqs: 0,
    pingReqsServed: 0,
    nacksSent: 0,
    nacksReceived: 0,
    lateAcks: 0,
    suspicions: 0,
    refutations: 0,
    falseSuspicions: 0,
    deaths: 0,
    messagesSent: 0,
    bytesSent: 0,
    messagesReceived: 0,
    bytesReceived: 0,
    decodeErrors: 0,
    claimsRejected: 0,
    pushPulls: 0,
    gossipFrames: 0,
    updatesSent: 0
  }
}

/** A push-pull record as the claim its sender makes by it. */
function claimOf (r: MemberRecord, from: MemberId): MemberUpdate {
  switch (r.state) {
    case 'alive': return { kind: 'alive', id: r.id, incarnation: r.incarnation, addrs: r.addrs }
    case 'suspect': return { kind: 'suspect', id: r.id, incarnation: r.incarnation, from }
    case 'dead': return { kind: 'dead', id: r.id, incarnation: r.incarnation, from }
    case 'left': return { kind: 'left', id: r.id, incarnation: r.incarnation }
  }
}

function checkId (argument: string, id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 256) {
    throw new SwimArgumentError(argument, 'expected a member id of 1 to 256 characters')
  }
}

function checkAddrs (argument: string, addrs: unknown): asserts addrs is readonly string[] {
  if (!Array.isArray(addrs) || addrs.length > 32 || !addrs.every((a) => typeof a === 'string' && a.length <= 1024)) {
    throw new SwimArgumentError(argument, 'expected at most 32 address strings of at most 1024 characters')
  }
}

/**
 * A SWIM member. Every public method takes `now` (ms on the host's monotonic clock; a
 * value earlier than the last one is treated as the last one) and returns a
 * {@link SwimOutput}: frames to send, membership events, and `wakeAt`, the time by which
 * the host must call {@link SwimNode.tick}.
 */
export class SwimNode {
  readonly id: MemberId
  readonly config: SwimConfig
  /** Counters since creation (mutated in place; copy to keep a snapshot). */
  readonly metrics: SwimMetrics = newMetrics()

  private readonly random: RandomSource
  private readonly internId?: (id: string) => string
  private readonly memberList: MemberList
  private readonly queue: BroadcastQueue
  private readonly awareness: Awareness
  private readonly order: ProbeOrder<Member>
  private readonly suspicions = new Map<MemberId, Suspicion>()
  private readonly suspicionDeadlines = new DeadlineQueue<MemberId>()
  private readonly reclaims = new DeadlineQueue<MemberId>()
  private readonly relays = new Map<number, Relay>()
  private readonly failedSeqs = new RecentSeqs()
  /** Members this node accused itself, to count the accusations later refuted. */
  private readonly accused = new Set<MemberId>()
  /** Members this node joined through: their frames count as a member's before they are in the table. */
  private readonly seeds = new Set<MemberId>()
  private lifecycle: Lifecycle = 'created'
  private readonly restore: readonly MemberRecord[]
  private clock = -Infinity
  private seq = 0
  private probe?: Probe
  /** Members the transport hinted at (see `probeSoon`), probed ahead of the round-robin order. */
  private readonly urgent: MemberId[] = []
  private nextProbeAt = Infinity
  private nextGossipAt = Infinity
  private nextPushPullAt = Infinity
  private nextReconnectAt = Infinity
  private messages: OutboundMessage[] = []
  private events: MemberEvent[] = []

  /**
   * @throws {SwimArgumentError} for a malformed id, addrs, meta, incarnation or random source
   * @throws {SwimConfigError} for a bad preset or config field
   */
  constructor (options: SwimNodeOptions) {
    if (options === null || typeof options !== 'object') throw new SwimArgumentError('options', 'expected an object')
    checkId('id', options.id)
    const addrs = options.addrs ?? EMPTY_ADDRS
    checkAddrs('addrs', addrs)
    if (typeof options.random !== 'function') throw new SwimArgumentError('random', 'expected a function returning numbers in [0, 1)')
    const incarnation = options.incarnation ?? 0
    if (!Number.isSafeInteger(incarnation) || incarnation < 0) throw new SwimArgumentError('incarnation', `expected an integer from 0 to ${MAX_INCARNATION}`)
    this.config = swimConfig(options.preset ?? 'lan', options.config ?? {})
    if (options.meta !== undefined) this.checkMeta(options.meta)
    this.id = options.id
    this.random = options.random
    this.internId = options.internId
    this.memberList = new MemberList({ id: options.id, addrs: [...addrs], meta: options.meta, incarnation }, 0)
    this.queue = new BroadcastQueue({ retransmitMult: this.config.retransmitMult, sizeOf: encodedUpdateSize })
    this.awareness = new Awareness(this.config.awarenessMaxMultiplier, this.config.awarenessLoadStepMs)
    this.order = new ProbeOrder(this.random)
    const members = options.members ?? []
    if (!Array.isArray(members)) throw new SwimArgumentError('members', 'expected an array of member records')
    members.forEach((r, i) => {
      if (r === null || typeof r !== 'object') throw new SwimArgumentError(`members[${i}]`, 'expected { id, incarnation, state, addrs }')
      checkId(`members[${i}].id`, r.id)
      checkAddrs(`members[${i}].addrs`, r.addrs)
      if (!Number.isSafeInteger(r.incarnation) || r.incarnation < 0) throw new SwimArgumentError(`members[${i}].incarnation`, 'expected a non-negative safe integer')
      if (!['alive', 'suspect', 'dead', 'left'].includes(r.state)) throw new SwimArgumentError(`members[${i}].state`, 'expected alive, suspect, dead or left')
    })
    this.restore = members
  }

  // ---------------------------------------------------------------- host API

  /**
   * Starts the protocol's timers. Call once, before anything else.
   * @throws {SwimLifecycleError} if already started
   */
  start (now: number): SwimOutput {
    if (this.lifecycle !== 'created') throw new SwimLifecycleError('start', this.lifecycle)
    this.lifecycle = 'running'
    const t = this.advance(now)
    this.memberList.self.stateChangedAt = t
    for (const r of this.restore) {
      const m = this.memberList.restore(r, t)
      if (m === undefined) continue
      if (m.state === 'alive') {
        this.order.add(m)
        this.emit('member:join', m)
      } else {
        this.reclaims.set(m.id, t + this.config.deadMemberReclaimMs)
      }
    }
    const c = this.config
    // Random phases keep a cluster started at once from probing and syncing in lockstep.
    this.nextProbeAt = t + this.random() * c.probeIntervalMs
    this.nextGossipAt = c.gossipIntervalMs > 0 ? t + c.gossipIntervalMs : Infinity
    this.nextPushPullAt = c.pushPullIntervalMs > 0 ? t + this.random() * c.pushPullIntervalMs : Infinity
    this.nextReconnectAt = c.reconnectIntervalMs > 0 ? t + c.reconnectIntervalMs * (0.5 + this.random()) : Infinity
    // Announce ourselves: gossip carries it to whoever we meet first.
    this.queue.enqueue(this.memberList.selfAlive())
    return this.output()
  }

  /**
   * Contacts seed members with a push-pull (their reply brings their whole member table).
   * Call again, with other or the same seeds, if no member appears (the host's retry policy).
   * @throws {SwimArgumentError} for malformed seeds
   * @throws {SwimLifecycleError} before `start` or after `leave`
   */
  join (seeds: readonly SeedMember[], now: number): SwimOutput {
    this.requireRunning('join')
    if (!Array.isArray(seeds)) throw new SwimArgumentError('seeds', 'expected an array of { id, addrs? }')
    seeds.forEach((s, i) => {
      if (s === null || typeof s !== 'object') throw new SwimArgumentError(`seeds[${i}]`, 'expected { id, addrs? }')
      checkId(`seeds[${i}].id`, s.id)
      if (s.addrs !== undefined) checkAddrs(`seeds[${i}].addrs`, s.addrs)
    })
    this.advance(now)
    for (const seed of seeds) {
      if (seed.id === this.id) continue
      this.seeds.add(seed.id)
      this.sendPushPull(seed.id, true, false, seed.addrs)
    }
    return this.output()
  }

  /**
   * Processes one received frame. Never throws on bad input: a frame that does not decode is
   * counted (`metrics.decodeErrors`), ignored, and returned as `rejected`. A frame from a
   * non-member (neither in the table nor a seed this node joined through) is read only up
   * to {@link NON_MEMBER_MAX_FRAME_BYTES}, and only what it says about its sender is applied.
   *
   * @param from the sender's member id as the transport authenticated it (libp2p: remote PeerId)
   * @throws {SwimLifecycleError} before `start`
   */
  handle (from: MemberId, bytes: Uint8Array, now: number): SwimOutput {
    if (this.lifecycle === 'created') throw new SwimLifecycleError('handle a frame', this.lifecycle)
    this.advance(now)
    this.metrics.messagesReceived++
    this.metrics.bytesReceived += bytes instanceof Uint8Array ? bytes.byteLength : 0
    if (typeof from !== 'string' || from.length === 0 || from === this.id) return this.output()
    const member = this.memberList.get(from) !== undefined || this.seeds.has(from)
    const maxFrameBytes = member ? this.config.maxFrameBytes : Math.min(this.config.maxFrameBytes, NON_MEMBER_MAX_FRAME_BYTES)
    let frame: SwimFrame
    try {
      frame = decodeFrame(bytes, { maxFrameBytes, maxMetaBytes: this.config.maxMetaBytes, intern: this.internId })
    } catch (err) {
      this.metrics.decodeErrors++
      const out = this.output()
      out.rejected = err instanceof SwimDecodeError ? err : new SwimDecodeError(0, '(input)', String(err))
      return out
    }
    this.onFrame(from, frame, member)
    return this.output()
  }

  /** Runs whatever is due at `now`: probe phases, gossip, push-pull, suspicion expiry, reclaim. */
  tick (now: number): SwimOutput {
    if (this.lifecycle === 'created') return this.output()
    const t = this.advance(now)
    this.runRelays(t)
    for (const id of this.suspicionDeadlines.popDue(t)) this.expireSuspicion(id)
    for (const id of this.reclaims.popDue(t)) {
      if (this.memberList.remove(id)) this.queue.remove(id)
    }
    this.runProbe(t)
    const c = this.config
    if (t >= this.nextGossipAt) {
      if (this.queue.length > 0) this.gossip(c.gossipNodes)
      this.nextGossipAt += c.gossipIntervalMs * (Math.floor((t - this.nextGossipAt) / c.gossipIntervalMs) + 1)
    }
    if (t >= this.nextPushPullAt) {
      if (this.lifecycle === 'running') {
        const [peer] = this.memberList.live.sample(1, this.random)
        if (peer !== undefined) this.sendPushPull(peer.id, false, false)
      }
      this.nextPushPullAt = t + scaledPushPullIntervalMs(c.pushPullIntervalMs, this.memberList.liveCount)
    }
    if (t >= this.nextReconnectAt) {
      if (this.lifecycle === 'running') this.reconnect()
      this.nextReconnectAt = t + c.reconnectIntervalMs
    }
    return this.output()
  }

  /**
   * Leaves gracefully: announces `left` about itself (to `max(gossipNodes, indirectChecks)`
   * members at once, then by gossip), stops probing, and keeps answering until
   * {@link SwimNode.leaveComplete}. The host then stops calling it.
   * @throws {SwimLifecycleError} before `start`
   */
  leave (now: number): SwimOutput {
    if (this.lifecycle === 'created') throw new SwimLifecycleError('leave', this.lifecycle)
    const t = this.advance(now)
    if (this.lifecycle === 'leaving') return this.output()
    this.lifecycle = 'leaving'
    this.memberList.markLeaving(t)
    this.probe = undefined
    this.nextProbeAt = Infinity
    this.queue.enqueue({ kind: 'left', id: this.id, incarnation: this.memberList.self.incarnation })
    this.gossip(Math.max(this.config.gossipNodes, this.config.indirectChecks))
    return this.output()
  }

  /**
   * Changes this member's addrs and/or meta: raises the incarnation and gossips the new alive update.
   * @throws {SwimArgumentError} for malformed addrs or meta
   * @throws {SwimLifecycleError} after `leave`
   */
  updateSelf (change: { addrs?: readonly string[], meta?: Uint8Array }, now: number): SwimOutput {
    if (this.lifecycle === 'leaving') throw new SwimLifecycleError('update itself', this.lifecycle)
    if (change.addrs !== undefined) checkAddrs('addrs', change.addrs)
    if (change.meta !== undefined) this.checkMeta(change.meta)
    const t = this.advance(now)
    const self = this.memberList.self
    if (change.addrs !== undefined) self.addrs = [...change.addrs]
    if (change.meta !== undefined) self.meta = change.meta
    this.memberList.bumpIncarnation(self.incarnation, t)
    this.queue.enqueue(this.memberList.selfAlive())
    return this.output()
  }

  /**
   * A hint from the transport that its connection to `id` closed unexpectedly (the TCP
   * connection was reset: a crashed process usually looks like this). The member is probed
   * next, ahead of its round-robin turn, instead of up to a protocol period or more later.
   * Only a hint: nothing is suspected or declared dead by it; the probe that follows runs
   * the usual ping → ping-req → suspicion rules (SWIM §4, Lifeguard §IV). When every
   * survivor sees the same reset at once, their suspicions arrive together, so the
   * Lifeguard suspicion timeout shrinks to its minimum sooner. Ignored for unknown, dead
   * or left members, for the member already being probed, and past 16 pending hints.
   */
  probeSoon (id: MemberId, now: number): SwimOutput {
    if (this.lifecycle !== 'running') return this.output()
    const t = this.advance(now)
    const m = this.memberList.get(id)
    if (m !== undefined && this.memberList.live.has(m) && this.probe?.target !== id &&
      !this.urgent.includes(id) && this.urgent.length < 16) {
      this.urgent.push(id)
      if (this.probe === undefined) this.nextProbeAt = Math.min(this.nextProbeAt, t)
      this.runProbe(t)
    }
    return this.output()
  }

  /**
   * Feeds the external load signal into the local health score (Lifeguard §IV-A): e.g. the
   * p99 event-loop delay over the last second (`perf_hooks.monitorEventLoopDelay`), ms.
   */
  reportLoad (eventLoopDelayMs: number): void {
    this.awareness.setLoad(eventLoopDelayMs)
  }

  /** The earliest time at which `tick` has work to do, ms (Infinity if none). */
  get wakeAt (): number {
    let at = Math.min(this.nextPushPullAt, this.nextReconnectAt, this.suspicionDeadlines.peekAt(), this.reclaims.peekAt())
    if (this.probe !== undefined) {
      at = Math.min(at, this.probe.stage === 'direct' ? this.probe.directDeadline : this.probe.endAt)
    } else {
      at = Math.min(at, this.nextProbeAt)
    }
    if (this.queue.length > 0) at = Math.min(at, this.nextGossipAt)
    for (const r of this.relays.values()) at = Math.min(at, r.nackAt, r.expiresAt)
    return at
  }

  /** Whether the leave announcement has been sent as often as the retransmit limit asks (or nobody is left to tell). */
  get leaveComplete (): boolean {
    return this.lifecycle === 'leaving' && (this.queue.peek(this.id) === undefined || this.memberList.live.size === 0)
  }

  /** The local health score, 0 (healthy) to `awarenessMaxMultiplier − 1`. */
  get healthScore (): number {
    return this.awareness.score
  }

  get incarnation (): number {
    return this.memberList.self.incarnation
  }

  /** Every member known, oneself included, any state (dead and left until reclaimed). */
  members (): MemberSnapshot[] {
    const out: MemberSnapshot[] = []
    for (const m of this.memberList.values()) out.push(snapshot(m))
    return out
  }

  /** What this node knows about `id`. */
  member (id: MemberId): MemberSnapshot | undefined {
    const m = this.memberList.get(id)
    return m === undefined ? undefined : snapshot(m)
  }

  /** Live members (alive or suspect), oneself included: the N of the protocol's arithmetic. */
  get liveCount (): number {
    return this.memberList.liveCount
  }

  /** Updates waiting to be gossiped. */
  get pendingUpdates (): number {
    return this.queue.length
  }

  // ---------------------------------------------------------------- frames

  private onFrame (from: MemberId, frame: SwimFrame, member: boolean): void {
    if (frame.type === 'push-pull') {
      this.onPushPull(from, frame, member)
      return
    }
    const corrections = this.applyAll(from, member, frame.updates)
    const sender = this.memberList.get(from)
    if (sender !== undefined && sender.state === 'dead' && !corrections.some((c) => c.id === from)) {
      // A member we hold dead is talking to us: it cannot know, so tell it, and it refutes
      // (back to us directly). The claim goes to it alone, so nobody else is led to suspect it.
      corrections.push({ kind: 'suspect', id: from, incarnation: sender.incarnation, from: this.id })
    }
    if (frame.type === 'ping' && frame.target === this.id) {
      this.sendProbeFrame(from, { type: 'ack', seq: frame.seq, updates: corrections })
      return
    }
    if (corrections.length > 0) {
      this.metrics.gossipFrames++
      this.send(from, { type: 'gossip', updates: corrections }, false)
    }
    switch (frame.type) {
      case 'ping':
        // A ping meant for a previous owner of our address: do not vouch for someone else.
        return
      case 'ping-req':
        // Only a member may have this node probe someone, and only a member it knows.
        if (member) this.onPingReq(from, frame)
        return
      case 'ack':
        this.onAck(from, frame.seq)
        return
      case 'nack':
        if (this.probe !== undefined && frame.seq === this.probe.seq && this.probe.helpers.includes(from)) {
          this.probe.nacks.add(from)
          this.metrics.nacksReceived++
        }
        return
      case 'gossip':
        return
    }
  }

  /**
   * Applies piggybacked updates and returns corrections for the sender: what we know about
   * members it sent stale news of (an old suspicion of a member that has since refuted it,
   * a claim about ourselves we have outgrown). Epidemic dissemination misses a member now
   * and then (about e^(−λ·log N) per member and update); a member that missed a refutation
   * would otherwise declare a healthy member dead when its suspicion times out. The sender
   * of stale news is exactly such a member, so it is told directly. Bounded by the packet budget.
   * Claims that are not admitted (see {@link admits}) are skipped; one about ourselves is
   * answered with what we are.
   */
  private applyAll (from: MemberId, member: boolean, updates: readonly MemberUpdate[]): MemberUpdate[] {
    const corrections: MemberUpdate[] = []
    let budget = this.config.maxPacketBytes - FRAME_OVERHEAD - 64
    for (const u of updates) {
      if (!this.admits(u, from, member)) {
        if (u.id === this.id && !corrections.some((c) => c.id === this.id)) corrections.push(this.memberList.selfAlive())
        continue
      }
      if (this.memberList.isStale(u)) {
        const current = this.memberList.current(u.id, (m) => this.suspicions.get(m.id)?.accuser ?? this.id)
        // Deaths are not corrected: the member may be alive on the sender's side of a
        // healed partition (see onPushPull); it refutes when the death reaches it.
        if (current !== undefined && current.kind !== 'dead' && !corrections.some((c) => c.id === u.id)) {
          const size = encodedUpdateSize(current)
          if (size <= budget) {
            budget -= size
            corrections.push(current)
          }
        }
        continue
      }
      // A claim about us we had to refute: the sender holds it, so it hears our answer first.
      if (this.applyUpdate(u) === 'refute' && !corrections.some((c) => c.id === this.id)) {
        corrections.push(this.memberList.selfAlive())
      }
    }
    return corrections
  }

  /**
   * Whether a claim received from `from` may be applied: a non-member speaks only for
   * itself, and nobody for another member at the largest incarnation or far beyond the one
   * held (`MemberList.screen`, SPEC.md §2). Counts what it turns down.
   */
  private admits (u: MemberUpdate, from: MemberId, member: boolean): boolean {
    if ((member || u.id === from) && this.memberList.screen(u, from) === undefined) return true
    this.metrics.claimsRejected++
    return false
  }

  private onPingReq (from: MemberId, frame: Extract<SwimFrame, { type: 'ping-req' }>): void {
    if (this.relays.size >= MAX_RELAYS) return
    // The target's addresses are the ones this node knows, never the frame's: a ping-req
    // must not make it dial wherever the requester likes.
    const known = frame.target === this.id ? undefined : this.memberList.get(frame.target)
    if (frame.target !== this.id && known === undefined) return
    this.metrics.pingReqsServed++
    if (frame.target === this.id) {
      // Asked to probe ourselves: answer for ourselves.
      this.sendProbeFrame(from, { type: 'ack', seq: frame.seq, updates: [] })
      return
    }
    const seq = this.nextSeq()
    const t = this.clock
    const c = this.config
    this.relays.set(seq, {
      requester: from,
      requesterSeq: frame.seq,
      target: frame.target,
      nackAt: frame.nack ? t + c.nackTimeoutFraction * c.probeTimeoutMs : Infinity,
      expiresAt: t + c.probeTimeoutMs
    })
    this.sendProbeFrame(frame.target, { type: 'ping', seq, target: frame.target, updates: [] }, known?.addrs)
  }

  private onAck (from: MemberId, seq: number): void {
    const relay = this.relays.get(seq)
    if (relay !== undefined) {
      if (from !== relay.target) return
      this.relays.delete(seq)
      this.sendProbeFrame(relay.requester, { type: 'ack', seq: relay.requesterSeq, updates: [] })
      return
    }
    const probe = this.probe
    if (probe !== undefined && seq === probe.seq) {
      if (from !== probe.target && !probe.helpers.includes(from)) return
      const late = from === probe.target && this.clock > probe.directDeadline
      if (late) this.metrics.lateAcks++
      // Answered only through a helper: the target's own ack may still come, late.
      if (from !== probe.target) this.failedSeqs.add(seq, probe.target)
      this.awareness.applyDelta(probeHealthDelta({ acked: true, late, expectedNacks: probe.helpers.length, nacks: probe.nacks.size }))
      this.probe = undefined
      return
    }
    if (this.failedSeqs.take(seq, from)) {
      // The probe is over and the target's own ack comes only now: our timeouts were too
      // short for our current state (or our path to it is slow).
      this.metrics.lateAcks++
      this.awareness.applyDelta(1)
    }
  }

  private onPushPull (from: MemberId, frame: Extract<SwimFrame, { type: 'push-pull' }>, member: boolean): void {
    // Merge before replying, so that a refutation the merge provokes travels back at once.
    const refutations = this.metrics.refutations
    for (const r of frame.members) {
      if (!this.admits(claimOf(r, from), from, member)) continue
      switch (r.state) {
        case 'alive': {
          const u: MemberUpdate = { kind: 'alive', id: r.id, incarnation: r.incarnation, addrs: r.addrs }
          if (r.meta !== undefined) u.meta = r.meta
          this.applyUpdate(u)
          break
        }
        case 'suspect':
          this.applyUpdate({ kind: 'suspect', id: r.id, incarnation: r.incarnation, from })
          break
        case 'dead': {
          if (r.id === this.id) {
            this.applyUpdate({ kind: 'dead', id: r.id, incarnation: r.incarnation, from })
            break
          }
          // A death learnt by full-state sync is at most a suspicion here (memberlist's
          // rule), so a member wrongly declared dead elsewhere gets to refute it. And not
          // even that for a member we hold live at that incarnation or a newer one: after a
          // partition each side holds the other dead, and suspecting our own, reachable side
          // wholesale had the suspicions outrun the refutations (false deaths by the
          // thousand at N = 1000). Such a member is only told of the claim, so that it
          // refutes; by about NOTIFY_FANOUT members of the cluster, not by each of them.
          const known = this.memberList.get(r.id)
          if (known !== undefined && (known.state === 'alive' || known.state === 'suspect') && r.incarnation <= known.incarnation) {
            if (r.incarnation === known.incarnation && this.random() < NOTIFY_FANOUT / this.memberList.liveCount) {
              this.metrics.gossipFrames++
              this.send(r.id, { type: 'gossip', updates: [{ kind: 'suspect', id: r.id, incarnation: r.incarnation, from }] }, false)
            }
            break
          }
          this.applyUpdate({ kind: 'suspect', id: r.id, incarnation: r.incarnation, from })
          break
        }
        case 'left':
          this.applyUpdate({ kind: 'left', id: r.id, incarnation: r.incarnation })
          break
      }
    }
    if (!frame.reply) {
      this.sendPushPull(from, false, true)
    } else if (this.metrics.refutations > refutations) {
      // The other side held us dead (a healed partition, a restart): tell it at once that we
      // are back, rather than wait for gossip to find it.
      this.metrics.gossipFrames++
      this.send(from, { type: 'gossip', updates: [this.memberList.selfAlive()] }, false)
    }
  }

  // ---------------------------------------------------------------- transitions

  /**
   * Applies one update and acts on the transition. Whatever changed our table is queued for
   * gossip, including what a push-pull taught us (as memberlist does): that re-gossip is
   * what repairs the few members an epidemic round misses.
   */
  private applyUpdate (u: MemberUpdate): Transition['kind'] | undefined {
    const tr = this.memberList.apply(u, this.clock)
    if (tr === undefined) return undefined
    this.onTransition(tr, u)
    return tr.kind
  }

  private onTransition (tr: Transition, u: MemberUpdate): void {
    const t = this.clock
    switch (tr.kind) {
      case 'join':
        this.order.add(tr.member)
        this.reclaims.delete(tr.member.id)
        this.queue.enqueue(u)
        this.emit('member:join', tr.member, tr.previous)
        return
      case 'update':
        this.queue.enqueue(u)
        if (tr.changed) this.emit('member:update', tr.member, 'alive')
        return
      case 'alive':
        this.endSuspicion(tr.member.id)
        if (this.accused.delete(tr.member.id)) this.metrics.falseSuspicions++
        this.queue.enqueue(u)
        this.emit('member:alive', tr.member, 'suspect')
        return
      case 'suspect': {
        const c = this.config
        const n = this.memberList.liveCount
        const min = suspicionMinTimeoutMs(c.suspicionMult, n, c.probeIntervalMs)
        const max = suspicionMaxTimeoutMs(c.suspicionMaxTimeoutMult, min)
        const s = new Suspicion(tr.from, tr.member.incarnation, expectedConfirmations(c.suspicionMult, n), min, max, t)
        this.suspicions.set(tr.member.id, s)
        this.suspicionDeadlines.set(tr.member.id, s.deadline)
        if (tr.from === this.id) {
          this.metrics.suspicions++
          this.accused.add(tr.member.id)
        }
        this.queue.enqueue(u)
        this.emit('member:suspect', tr.member, tr.previous, tr.from)
        return
      }
      case 'confirm': {
        const s = this.suspicions.get(tr.member.id)
        if (s !== undefined && s.confirm(tr.from)) {
          this.suspicionDeadlines.set(tr.member.id, s.deadline)
          // Re-gossip: others learn of an independent confirmation too (Lifeguard §IV-B).
          this.queue.enqueue(u)
        }
        return
      }
      case 'dead':
        this.endSuspicion(tr.member.id)
        this.accused.delete(tr.member.id)
        this.metrics.deaths++
        this.queue.enqueue(u)
        this.reclaims.set(tr.member.id, t + this.config.deadMemberReclaimMs)
        this.emit('member:dead', tr.member, tr.previous, tr.from)
        return
      case 'left':
        this.endSuspicion(tr.member.id)
        this.accused.delete(tr.member.id)
        this.queue.enqueue(u)
        this.reclaims.set(tr.member.id, t + this.config.deadMemberReclaimMs)
        this.emit('member:leave', tr.member, tr.previous)
        return
      case 'refute':
        this.metrics.refutations++
        // Being suspected is a hint that we are the slow one (Lifeguard §IV-A).
        this.awareness.applyDelta(1)
        this.queue.enqueue(this.memberList.selfAlive())
    }
  }

  private endSuspicion (id: MemberId): void {
    this.suspicions.delete(id)
    this.suspicionDeadlines.delete(id)
  }

  private expireSuspicion (id: MemberId): void {
    const m = this.memberList.get(id)
    this.suspicions.delete(id)
    if (m === undefined || m.state !== 'suspect') return
    this.applyUpdate({ kind: 'dead', id, incarnation: m.incarnation, from: this.id })
  }

  private emit (type: MemberEventType, m: Member, previous?: Member['state'], from?: MemberId): void {
    const e: MemberEvent = { type, member: snapshot(m), at: this.clock }
    if (previous !== undefined) e.previous = previous
    if (from !== undefined) e.from = from
    this.events.push(e)
  }

  // ---------------------------------------------------------------- probing

  private runProbe (t: number): void {
    const probe = this.probe
    if (probe !== undefined) {
      if (probe.stage === 'direct' && t >= probe.directDeadline) this.startIndirect(probe, t)
      if (probe.stage === 'indirect' && t >= probe.endAt) this.failProbe(probe)
    }
    if (this.probe === undefined && this.lifecycle === 'running' && t >= this.nextProbeAt) this.startProbe(t)
  }

  private startProbe (t: number): void {
    const interval = this.awareness.scale(this.config.probeIntervalMs)
    this.nextProbeAt = t + interval
    const list = this.memberList
    const m = this.nextUrgent() ?? this.order.next(list.live, (member) => list.live.has(member))
    if (m === undefined) return
    const target = m.id
    const seq = this.nextSeq()
    const timeout = this.awareness.scale(this.config.probeTimeoutMs)
    this.probe = {
      target,
      seq,
      startedAt: t,
      directDeadline: t + timeout,
      endAt: t + interval,
      stage: 'direct',
      helpers: [],
      nacks: new Set()
    }
    this.metrics.probes++
    const first: MemberUpdate[] = []
    if (m.state === 'suspect') {
      // Buddy system (Lifeguard §IV-C): tell a suspect member it is suspected, so it can refute at once.
      const accuser = this.suspicions.get(target)?.accuser ?? this.id
      first.push({ kind: 'suspect', id: target, incarnation: m.incarnation, from: accuser })
    }
    this.sendProbeFrame(target, { type: 'ping', seq, target, updates: first })
  }

  /** The first hinted member that is still live, if any. */
  private nextUrgent (): Member | undefined {
    while (this.urgent.length > 0) {
      const m = this.memberList.get(this.urgent.shift() as MemberId)
      if (m !== undefined && this.memberList.live.has(m)) return m
    }
    return undefined
  }

  private startIndirect (probe: Probe, t: number): void {
    const c = this.config
    const target = probe.target
    const list = this.memberList
    const helpers = list.live.sample(c.indirectChecks, this.random, (m) => m.id !== target && m.state === 'alive').map((m) => m.id)
    probe.stage = 'indirect'
    probe.helpers = helpers
    // A stalled node must still give its helpers a whole indirect window.
    const window = this.awareness.scale(c.probeIntervalMs) - this.awareness.scale(c.probeTimeoutMs)
    probe.endAt = Math.max(probe.endAt, t + window)
    this.nextProbeAt = Math.max(this.nextProbeAt, probe.endAt)
    const targetAddrs = list.get(target)?.addrs ?? EMPTY_ADDRS
    for (const h of helpers) {
      this.metrics.pingReqs++
      this.sendProbeFrame(h, { type: 'ping-req', seq: probe.seq, target, targetAddrs, nack: true, updates: [] })
    }
  }

  private failProbe (probe: Probe): void {
    this.probe = undefined
    this.metrics.probesFailed++
    this.failedSeqs.add(probe.seq, probe.target)
    this.awareness.applyDelta(probeHealthDelta({ acked: false, late: false, expectedNacks: probe.helpers.length, nacks: probe.nacks.size }))
    const m = this.memberList.get(probe.target)
    if (m === undefined || (m.state !== 'alive' && m.state !== 'suspect')) return
    this.applyUpdate({ kind: 'suspect', id: m.id, incarnation: m.incarnation, from: this.id })
  }

  private runRelays (t: number): void {
    for (const [seq, r] of this.relays) {
      if (t >= r.nackAt) {
        this.metrics.nacksSent++
        this.sendProbeFrame(r.requester, { type: 'nack', seq: r.requesterSeq, updates: [] })
        r.nackAt = Infinity
      }
      if (t >= r.expiresAt) this.relays.delete(seq)
    }
  }

  // ---------------------------------------------------------------- dissemination

  private gossip (fanout: number): void {
    const list = this.memberList
    const t = this.clock
    const deadWindow = this.config.gossipToTheDeadMs
    const recentlyGone = (m: Member): boolean => t - m.stateChangedAt <= deadWindow
    const targets = list.live.sample(fanout, this.random).map((m) => m.id)
    // Now and then a recently dead member too: it learns of its death and can refute it.
    if (deadWindow > 0 && list.dead.size + list.left.size > 0) {
      const gone = list.dead.sample(1, this.random, recentlyGone)
      if (gone.length > 0 && (targets.length < fanout || this.random() < list.dead.size / (list.dead.size + list.live.size))) {
        if (targets.length >= fanout) targets.pop()
        targets.push(gone[0].id)
      }
    }
    const n = list.liveCount
    for (const to of targets) {
      const updates = this.queue.take(this.config.maxPacketBytes - FRAME_OVERHEAD, n)
      if (updates.length === 0) break
      this.metrics.gossipFrames++
      this.metrics.updatesSent += updates.length
      this.send(to, { type: 'gossip', updates }, false)
    }
  }

  private reconnect (): void {
    const list = this.memberList
    const dead = list.dead.size
    if (dead === 0) return
    // Serf's reconnect: try with probability dead/live, so the cluster as a whole makes
    // about one attempt per interval for a single dead member, and many after a partition.
    if (this.random() >= dead / list.liveCount) return
    const [peer] = list.dead.sample(1, this.random)
    if (peer !== undefined) this.sendPushPull(peer.id, false, false)
  }

  private sendPushPull (to: MemberId, join: boolean, reply: boolean, addrs?: readonly string[]): void {
    this.metrics.pushPulls++
    this.send(to, { type: 'push-pull', join, reply, members: this.memberList.records() }, true, addrs)
  }

  /** Sends a probe frame with as many queued updates piggybacked as the packet budget allows. */
  private sendProbeFrame (to: MemberId, frame: Exclude<SwimFrame, { type: 'push-pull' | 'gossip' }>, addrs?: readonly string[]): void {
    let overhead = FRAME_OVERHEAD + (frame.type === 'ping' || frame.type === 'ping-req' ? frame.target.length + 2 : 0)
    if (frame.type === 'ping-req') for (const a of frame.targetAddrs) overhead += a.length + 3
    for (const u of frame.updates) overhead += encodedUpdateSize(u)
    const piggyback = this.queue.take(this.config.maxPacketBytes - overhead, this.memberList.liveCount)
    if (piggyback.length > 0) {
      for (const u of piggyback) frame.updates.push(u)
      this.metrics.updatesSent += piggyback.length
    }
    this.send(to, frame, false, addrs)
  }

  private send (to: MemberId, frame: SwimFrame, reliable: boolean, addrs?: readonly string[]): void {
    const bytes = encodeFrame(frame)
    this.metrics.messagesSent++
    this.metrics.bytesSent += bytes.byteLength
    const known = addrs ?? this.memberList.get(to)?.addrs ?? EMPTY_ADDRS
    this.messages.push({ to, addrs: known, type: frame.type as FrameType, bytes, reliable })
  }

  // ---------------------------------------------------------------- plumbing

  private advance (now: number): number {
    if (typeof now !== 'number' || Number.isNaN(now)) throw new SwimArgumentError('now', 'expected a number of ms')
    if (now > this.clock) this.clock = now
    return this.clock
  }

  private nextSeq (): number {
    this.seq = (this.seq + 1) % SEQ_LIMIT
    return this.seq
  }

  private requireRunning (operation: string): void {
    if (this.lifecycle !== 'running') throw new SwimLifecycleError(operation, this.lifecycle === 'created' ? 'not started' : 'leaving')
  }

  private checkMeta (meta: unknown): void {
    if (!(meta instanceof Uint8Array) || meta.byteLength > this.config.maxMetaBytes) {
      throw new SwimArgumentError('meta', `expected at most ${this.config.maxMetaBytes} bytes`)
    }
  }

  private output (): SwimOutput {
    const out: SwimOutput = { messages: this.messages, events: this.events, wakeAt: this.wakeAt }
    this.messages = []
    this.events = []
    return out
  }

  /** The retransmit limit for the current cluster size (for tests and diagnostics). */
  get retransmitLimit (): number {
    return retransmitLimit(this.config.retransmitMult, this.memberList.liveCount)
  }
}
