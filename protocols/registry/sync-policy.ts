/**
 * When a registry replica syncs, and with whom, as a sans-I/O state machine: the host
 * (`ClusterRegistry` in `src/registry/` on libp2p and real timers, `RegistryProcess` in
 * `sim/registry/` in virtual time) tells it what membership reports and how exchanges
 * end, and runs what it returns. Both hosts run this one policy, so the simulator's
 * convergence figures measure the code the node ships. Rules: SPEC.md §6, "Sync policy".
 *
 * - **Anti-entropy**: every `antiEntropyIntervalMs` (±20% jitter) an exchange with one
 *   live member drawn uniformly at random; the next round is timed from the end of the
 *   last one's exchange, so rounds never overlap.
 * - **Maintenance**: every `maintenanceIntervalMs` (±20%) a round of tombstone acks and
 *   collection (the host's replica does the work).
 * - **(Re)connection**: both sides see a member come alive; the lower node id starts an
 *   exchange at once, the higher one after `connectSyncFallbackMs` unless an exchange with
 *   that peer completed meanwhile, so a reconnection costs one exchange, not two.
 * - **Cap**: at most `maxConcurrentSyncs` exchanges at once, started and answered
 *   together; a responder at the cap refuses.
 * - **Retry**: the exchange of a (re)connection that fails or is refused (after a healed
 *   partition every member reconnects to many at once) is retried while the peer is
 *   alive, up to {@link CONNECT_SYNC_ATTEMPTS} attempts, after
 *   `connectSyncFallbackMs × attempt × (1 + U[0, 1))`: growing, jittered so that refused
 *   initiators do not come back in step.
 * - At most one exchange started by this node per peer at a time: a round or a
 *   reconnection that picks a peer already being synced with rides on that exchange.
 */
import { DeadlineQueue } from '../deadline-queue.js'
import { InvalidRegistryTimingError } from './errors.js'
import type { RegistryTiming } from './timing.js'
import type { NodeId } from './types.js'

/** Attempts of the exchange started on a (re)connection. */
export const CONNECT_SYNC_ATTEMPTS = 4

/** Why the policy asks for an exchange. */
export type SyncReason = 'anti-entropy' | 'connect'

/**
 * What the host is to do:
 * - `sync`: start an anti-entropy exchange with `peer` (a slot is already reserved for it)
 *   and report its end with {@link SyncPolicy.ended} (role `initiator`), also when it
 *   could not even begin; `attempt` counts the tries of a (re)connection's exchange, 1 for a round;
 * - `maintain`: run a maintenance round (tombstone acks, then collection, with
 *   {@link SyncPolicy.members} as the live members).
 */
export type SyncAction =
  | { readonly type: 'sync', readonly peer: NodeId, readonly reason: SyncReason, readonly attempt: number }
  | { readonly type: 'maintain' }

/**
 * What a call returns: the actions to run now, in order, and `wakeAt`, the time by which
 * the host must call {@link SyncPolicy.tick} (Infinity: no timer needed).
 */
export interface SyncPolicyOutput {
  readonly actions: readonly SyncAction[]
  readonly wakeAt: number
}

/** Which side of an exchange this node is. */
export type SyncRole = 'initiator' | 'responder'

/** The answer to a host that wants to start an exchange of its own (`initiate`). */
export type InitiateDecision =
  /** A slot is reserved: run the exchange and report its end. */
  | 'start'
  /** An exchange this node started with that peer is running: wait for it instead. */
  | 'running'
  /** At the cap (or not running): do not start one. */
  | 'busy'

export interface SyncPolicyOptions {
  /** This node's id: compared with a peer's to decide who syncs first on a connection. */
  self: NodeId
  timing: RegistryTiming
  /** Uniform numbers in [0, 1): the only source of randomness (partner choice, jitter). */
  random: () => number
}

/** Counters since creation (mutated in place). */
export interface SyncPolicyStats {
  /** Exchanges asked for, by reason. */
  antiEntropyRounds: number
  connectSyncs: number
  /** Retries of a (re)connection's exchange scheduled after a failure or the cap. */
  connectRetries: number
  /** Exchanges not started or answered because the cap was reached. */
  refusedAtCap: number
  /** Exchanges refused because the peer that opened them is not a live member. */
  refusedNonMembers: number
}

/** What happens when a peer's connection timer fires. */
interface ConnectPlan {
  attempt: number
  /** For the higher id's fallback: exchanges completed with the peer when it was set; any since cancels it. */
  unlessExchangedSince?: number
}

/** An exchange this node started, and what rides on it. */
interface Initiation {
  /** The attempt of a (re)connection's exchange that waits for this one (retried if it fails). */
  connectAttempt?: number
  /** The anti-entropy round waits for this one before timing the next. */
  round: boolean
}

/** Members in insertion order with O(1) add, delete and uniform pick. */
class MemberSet {
  private readonly items: NodeId[] = []
  private readonly index = new Map<NodeId, number>()

  get size (): number {
    return this.items.length
  }

  has (id: NodeId): boolean {
    return this.index.has(id)
  }

  add (id: NodeId): void {
    if (this.index.has(id)) return
    this.index.set(id, this.items.length)
    this.items.push(id)
  }

  delete (id: NodeId): void {
    const i = this.index.get(id)
    if (i === undefined) return
    const last = this.items.pop() as NodeId
    this.index.delete(id)
    if (last !== id) {
      this.items[i] = last
      this.index.set(last, i)
    }
  }

  pick (random: () => number): NodeId {
    return this.items[Math.min(this.items.length - 1, Math.floor(random() * this.items.length))]
  }

  toArray (): NodeId[] {
    return [...this.items]
  }

  clear (): void {
    this.items.length = 0
    this.index.clear()
  }
}

const NOTHING: SyncPolicyOutput = Object.freeze({ actions: Object.freeze([]), wakeAt: Infinity })

/** Checks a timing. @throws InvalidRegistryTimingError naming the first field out of range */
export function validateRegistryTiming (timing: RegistryTiming): void {
  for (const field of ['antiEntropyIntervalMs', 'maintenanceIntervalMs', 'syncTimeoutMs', 'connectSyncFallbackMs'] as const) {
    const v = timing[field]
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InvalidRegistryTimingError(field, 'expected a finite number of ms ≥ 0')
  }
  if (!Number.isInteger(timing.maxConcurrentSyncs) || timing.maxConcurrentSyncs < 1) {
    throw new InvalidRegistryTimingError('maxConcurrentSyncs', 'expected an integer ≥ 1')
  }
}

/**
 * The sync policy of one replica. Every method takes `now` (ms on the host's monotonic
 * clock; an earlier value than the last is taken as the last). Calls before `start` or
 * after `stop` do nothing (`initiate` answers `busy`, `answer` false).
 */
export class SyncPolicy {
  readonly self: NodeId
  readonly timing: Readonly<RegistryTiming>
  readonly stats: SyncPolicyStats = { antiEntropyRounds: 0, connectSyncs: 0, connectRetries: 0, refusedAtCap: 0, refusedNonMembers: 0 }

  private readonly random: () => number
  private state: 'created' | 'running' | 'stopped' = 'created'
  private clock = -Infinity
  private readonly live = new MemberSet()
  private readonly initiating = new Map<NodeId, Initiation>()
  private answering = 0
  /** Exchanges completed with each live peer, either side having started them. */
  private readonly completed = new Map<NodeId, number>()
  private readonly connectAt = new DeadlineQueue<NodeId>()
  private readonly connectPlans = new Map<NodeId, ConnectPlan>()
  private nextRoundAt = Infinity
  private nextMaintenanceAt = Infinity
  private actions: SyncAction[] = []

  /** @throws InvalidRegistryTimingError for a negative or non-finite period, or a cap below 1 */
  constructor (options: SyncPolicyOptions) {
    validateRegistryTiming(options.timing)
    this.self = options.self
    this.timing = Object.freeze({ ...options.timing })
    this.random = options.random
  }

  /** Starts the timers; `members` are the ones alive now (no exchange is started for them). */
  start (now: number, members: Iterable<NodeId> = []): SyncPolicyOutput {
    if (this.state !== 'created') return NOTHING
    this.state = 'running'
    const t = this.advance(now)
    for (const m of members) if (m !== this.self) this.live.add(m)
    this.nextRoundAt = this.jittered(t, this.timing.antiEntropyIntervalMs)
    this.nextMaintenanceAt = this.jittered(t, this.timing.maintenanceIntervalMs)
    return this.output()
  }

  /** Stops: no more actions or timers. Exchanges still running need not be reported. */
  stop (): void {
    this.state = 'stopped'
    this.live.clear()
    this.initiating.clear()
    this.answering = 0
    this.completed.clear()
    this.connectPlans.clear()
    for (const peer of this.connectAt.popDue(Infinity)) this.connectPlans.delete(peer)
    this.nextRoundAt = Infinity
    this.nextMaintenanceAt = Infinity
    this.actions = []
  }

  /**
   * Membership reports `peer` alive: first seen, back after a death or a partition, or a
   * refuted suspicion. Each report is a (re)connection: the lower id syncs now, the
   * higher one later unless an exchange completes meanwhile.
   */
  memberUp (peer: NodeId, now: number): SyncPolicyOutput {
    if (this.state !== 'running' || peer === this.self) return NOTHING
    const t = this.advance(now)
    this.live.add(peer)
    this.cancelConnect(peer)
    if (this.self < peer) this.connect(peer, 1, t)
    else this.connectLater(peer, t + this.timing.connectSyncFallbackMs, { attempt: 1, unlessExchangedSince: this.completed.get(peer) ?? 0 })
    return this.output()
  }

  /** Membership reports `peer` dead or gone: no more exchanges are asked for with it. */
  memberDown (peer: NodeId, now: number): SyncPolicyOutput {
    if (this.state !== 'running') return NOTHING
    this.advance(now)
    this.live.delete(peer)
    this.cancelConnect(peer)
    this.completed.delete(peer)
    return this.output()
  }

  /** Runs what is due at `now`: connection timers, the anti-entropy round, maintenance. */
  tick (now: number): SyncPolicyOutput {
    if (this.state !== 'running') return NOTHING
    const t = this.advance(now)
    for (const peer of this.connectAt.popDue(t)) {
      const plan = this.connectPlans.get(peer) as ConnectPlan
      this.connectPlans.delete(peer)
      if (!this.live.has(peer)) continue
      if (plan.unlessExchangedSince !== undefined && (this.completed.get(peer) ?? 0) !== plan.unlessExchangedSince) continue
      this.connect(peer, plan.attempt, t)
    }
    if (t >= this.nextRoundAt) {
      this.nextRoundAt = Infinity
      this.round(t)
    }
    if (t >= this.nextMaintenanceAt) {
      this.actions.push({ type: 'maintain' })
      this.nextMaintenanceAt = this.jittered(t, this.timing.maintenanceIntervalMs)
    }
    return this.output()
  }

  /**
   * The host wants an exchange with `peer` of its own accord (an operator, a test).
   * On `start`, a slot is reserved: report the end with {@link SyncPolicy.ended}.
   */
  initiate (peer: NodeId, now: number): InitiateDecision {
    if (this.state !== 'running') return 'busy'
    this.advance(now)
    if (this.initiating.has(peer)) return 'running'
    if (this.atCap()) {
      this.stats.refusedAtCap++
      return 'busy'
    }
    this.initiating.set(peer, { round: false })
    return 'start'
  }

  /**
   * `peer` opened an exchange: answer it (true: a slot is reserved, report the end with
   * {@link SyncPolicy.ended}) or refuse it (false: not a live member, at the cap, or not
   * running). Only members get the registry and may send entries into it.
   */
  answer (peer: NodeId, now: number): boolean {
    if (this.state !== 'running') return false
    this.advance(now)
    if (!this.live.has(peer)) {
      this.stats.refusedNonMembers++
      return false
    }
    if (this.atCap()) {
      this.stats.refusedAtCap++
      return false
    }
    this.answering++
    return true
  }

  /**
   * An exchange ended: `ok` when it completed, false when it failed, timed out, was
   * refused or could not begin. A report without a matching start is ignored.
   */
  ended (peer: NodeId, role: SyncRole, ok: boolean, now: number): SyncPolicyOutput {
    if (this.state !== 'running') return NOTHING
    const t = this.advance(now)
    if (role === 'responder') {
      if (this.answering === 0) return this.output()
      this.answering--
    } else {
      const ini = this.initiating.get(peer)
      if (ini === undefined) return this.output()
      this.initiating.delete(peer)
      if (ini.round) this.nextRoundAt = this.jittered(t, this.timing.antiEntropyIntervalMs)
      if (!ok && ini.connectAttempt !== undefined) this.retry(peer, ini.connectAttempt, t)
    }
    if (ok && this.live.has(peer)) this.completed.set(peer, (this.completed.get(peer) ?? 0) + 1)
    return this.output()
  }

  /** The live members as reported (this node excluded), in the order they were first reported. */
  members (): NodeId[] {
    return this.live.toArray()
  }

  /** Whether `peer` is a live member as reported. */
  isMember (peer: NodeId): boolean {
    return this.live.has(peer)
  }

  /** Exchanges running now, started and answered. */
  get active (): number {
    return this.initiating.size + this.answering
  }

  /** The time by which `tick` must be called (Infinity: none). */
  get wakeAt (): number {
    if (this.state !== 'running') return Infinity
    return Math.min(this.nextRoundAt, this.nextMaintenanceAt, this.connectAt.peekAt())
  }

  // ---- rules ----

  private round (t: number): void {
    if (this.live.size === 0) {
      this.nextRoundAt = this.jittered(t, this.timing.antiEntropyIntervalMs)
      return
    }
    const peer = this.live.pick(this.random)
    const running = this.initiating.get(peer)
    if (running !== undefined) {
      running.round = true
      return
    }
    if (this.atCap()) {
      this.stats.refusedAtCap++
      this.nextRoundAt = this.jittered(t, this.timing.antiEntropyIntervalMs)
      return
    }
    this.stats.antiEntropyRounds++
    this.initiating.set(peer, { round: true })
    this.actions.push({ type: 'sync', peer, reason: 'anti-entropy', attempt: 1 })
  }

  private connect (peer: NodeId, attempt: number, t: number): void {
    const running = this.initiating.get(peer)
    if (running !== undefined) {
      running.connectAttempt ??= attempt
      return
    }
    if (this.atCap()) {
      this.stats.refusedAtCap++
      this.retry(peer, attempt, t)
      return
    }
    this.stats.connectSyncs++
    this.initiating.set(peer, { connectAttempt: attempt, round: false })
    this.actions.push({ type: 'sync', peer, reason: 'connect', attempt })
  }

  private retry (peer: NodeId, attempt: number, t: number): void {
    if (attempt >= CONNECT_SYNC_ATTEMPTS || !this.live.has(peer)) return
    this.stats.connectRetries++
    this.connectLater(peer, t + this.timing.connectSyncFallbackMs * attempt * (1 + this.random()), { attempt: attempt + 1 })
  }

  private connectLater (peer: NodeId, at: number, plan: ConnectPlan): void {
    this.connectPlans.set(peer, plan)
    this.connectAt.set(peer, at)
  }

  private cancelConnect (peer: NodeId): void {
    this.connectPlans.delete(peer)
    this.connectAt.delete(peer)
  }

  private atCap (): boolean {
    return this.active >= this.timing.maxConcurrentSyncs
  }

  /** `t + interval × U[0.8, 1.2)`, or Infinity when the interval is 0 (disabled). */
  private jittered (t: number, intervalMs: number): number {
    return intervalMs > 0 ? t + intervalMs * (0.8 + 0.4 * this.random()) : Infinity
  }

  private advance (now: number): number {
    if (now > this.clock) this.clock = now
    return this.clock
  }

  private output (): SyncPolicyOutput {
    const actions = this.actions
    this.actions = []
    return { actions, wakeAt: this.wakeAt }
  }
}
