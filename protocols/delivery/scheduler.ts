/**
 * The sending side of durable delivery (protocols/delivery/SPEC.md §2): which outbox
 * entries go to which peer now, which wait, and which are given up. Pure and clock-driven,
 * like protocols/swim's `SwimNode`: the node (src/delivery) and tests drive it with real or
 * virtual time; it does no I/O and keeps no timers of its own (the driver asks
 * {@link OutboxScheduler.nextWakeAt} and calls back).
 *
 * Rules:
 * - FIFO per pair (sender, receiver): a pair's entries are sent in order, and an entry is
 *   never sent ahead of an earlier one of its pair that waits for a retry. Each entry goes
 *   out with `after`, the order of the nearest earlier entry of its pair still pending, so
 *   that the receiver can refuse it while that one has not arrived (§3).
 * - Retries with capped exponential backoff and full jitter ({@link backoffDelay}) after a
 *   transport failure, a timeout, or a retryable refusal (`mailbox-full`, `not-running`,
 *   `out-of-order`); a route that proved wrong (`no-such-agent`) is looked up again.
 * - A circuit breaker per peer ({@link CircuitBreaker}): while it is open, entries for that
 *   peer wait instead of being sent.
 * - At most `maxInFlightPerPeer` entries per peer await acks.
 * - An entry whose deadline passes while it waits is given up (dead-lettered by the driver);
 *   one in flight is given up only if its answer is not `ok`.
 */
import { MinHeap } from '../min-heap.js'
import { backoffDelay, type BackoffConfig } from './backoff.js'
import { CircuitBreaker, type BreakerConfig, type BreakerState } from './breaker.js'

/** Finished entries the deadline heap may hold beyond twice the pending ones before it is compacted. */
const DEADLINE_HEAP_SLACK = 1024

/** An outbox entry as the scheduler sees it (the message itself stays with the driver). */
export interface OutboxItem {
  /**
   * Unique on this node and increasing in the order the node accepted messages
   * (SPEC.md §1: run × 2^32 + n); it orders entries of a pair and names the entry.
   */
  order: number
  messageId: string
  sender: string
  receiver: string
  /** Give up after this time, ms since the epoch. */
  deadline: number
}

/** Where an entry should go now, as the driver's routing answers it. */
export type RouteAnswer =
  /** Send it to this peer (the driver may name itself for a local receiver). */
  | { peer: string }
  /** No usable route now (the hosting node is dead, or the lookup is under way): wait. `peer`, when known, wakes the wait when that peer comes back. */
  | { wait: string, peer?: string }
  /** No such receiver anywhere: give up now. */
  | { refuse: string }

/** What a receiving node answered for one entry (protocols/fipa/SPEC.md §4.2). */
export type AckAnswer = 'ok' | 'no-such-agent' | 'mailbox-full' | 'rejected' | 'not-running' | 'out-of-order' | 'expired'

export interface SchedulerConfig {
  backoff: BackoffConfig
  breaker: BreakerConfig
  /** Most entries awaiting acks per peer, ≥ 1. */
  maxInFlightPerPeer: number
}

/** One entry to write to a peer now. */
export interface Sendable {
  item: OutboxItem
  /** Order of the nearest earlier entry of the same pair still pending, or 0 (SPEC.md §3). */
  after: number
  /** 1 for the first try. */
  attempt: number
}

/** An entry the scheduler gave up: the driver dead-letters it and tells its sender. */
export interface GivenUp {
  item: OutboxItem
  reason: string
  /** `not-found`: no such receiver anywhere (the route refused it); `rejected`: the receiver refused it; `expired`: its deadline passed. */
  cause: 'not-found' | 'rejected' | 'expired'
  attempts: number
}

/** What became of an entry after its peer answered. */
export type AckVerdict =
  | { kind: 'delivered', item: OutboxItem, attempts: number }
  | { kind: 'retry', item: OutboxItem, reason: string }
  /** The route was wrong: the driver forgets it (`peer` does not host the receiver) before the retry. */
  | { kind: 'reroute', item: OutboxItem, peer: string, reason: string }
  | { kind: 'given-up', given: GivenUp }

/** An entry's state, for status queries. */
export interface EntryStatus {
  state: 'queued' | 'sent'
  attempts: number
  /** The peer it was last sent to. */
  peer?: string
  /** Why the last attempt failed. */
  lastError?: string
  /** Earliest time of the next attempt, ms (0: now). */
  notBefore: number
}

/** A peer as the scheduler sees it, for `GET /cluster/peers` and metrics. */
export interface PeerDelivery {
  peer: string
  breaker: BreakerState
  consecutiveFailures: number
  inFlight: number
  /** Entries waiting for this peer (its window is full or its breaker open). */
  parked: number
  trips: number
}

class Entry {
  state: 'pending' | 'inflight' | 'done' = 'pending'
  attempts = 0
  peer: string | undefined
  lastError: string | undefined
  /** Its deadline passed while it was in flight: give up unless the answer is ok. */
  overdue = false

  constructor (readonly item: OutboxItem, readonly pair: Pair, readonly pos: number) {}
}

/**
 * One (sender, receiver) pair's entries. `queue[i]` has position `offset + i`; the live
 * entries are `queue[head..]` (finished ones at the front are skipped, then compacted).
 */
class Pair {
  queue: Entry[] = []
  head = 0
  offset = 0
  /** Position of the first entry that may still need sending. */
  cursor = 0
  /** The next send waits for this time (backoff), ms. */
  waitUntil = 0
  /** Where the pair is scheduled: at most one place at a time. */
  where: 'idle' | 'ready' | 'timer' | 'parked' = 'idle'
  /** The time of its valid timer, when `where` is 'timer' (heap entries are dropped lazily). */
  timerAt = 0
  parkedAt: PeerState | undefined

  constructor (readonly key: string) {}

  at (pos: number): Entry | undefined {
    return this.queue[pos - this.offset]
  }

  get first (): number {
    return this.offset + this.head
  }

  get end (): number {
    return this.offset + this.queue.length
  }

  get empty (): boolean {
    return this.head >= this.queue.length
  }
}

class PeerState {
  readonly breaker: CircuitBreaker
  inFlight = 0
  readonly parked = new Set<Pair>()
  /** A wake-up for this peer's parked pairs is in the timer heap. */
  timerSet = false

  constructor (readonly id: string, config: BreakerConfig) {
    this.breaker = new CircuitBreaker(config)
  }
}

type Timer = { at: number, pair: Pair, peer?: undefined } | { at: number, peer: PeerState, pair?: undefined }

/** FIPA agent ids contain no newline, so it separates the two ids of a pair key. */
function pairKey (sender: string, receiver: string): string {
  return sender + '\n' + receiver
}

export class OutboxScheduler {
  private readonly entries = new Map<number, Entry>()
  private readonly pairs = new Map<string, Pair>()
  private readonly peers = new Map<string, PeerState>()
  /** Pairs whose next entry may be sent now, round-robin by insertion order. */
  private readonly ready = new Set<Pair>()
  private readonly timers = new MinHeap<Timer>((a, b) => a.at < b.at)
  private readonly deadlines = new MinHeap<Entry>((a, b) => a.item.deadline < b.item.deadline)
  /** Pairs waiting for a route, by the peer whose return would give them one. */
  private readonly waitingFor = new Map<string, Set<Pair>>()

  constructor (private readonly config: SchedulerConfig, private readonly random: () => number) {
    if (!(config.maxInFlightPerPeer >= 1)) throw new RangeError('maxInFlightPerPeer must be ≥ 1')
  }

  /** Entries not yet delivered or given up. */
  get size (): number {
    return this.entries.size
  }

  /**
   * Adds an entry. Entries of one pair must be added in increasing `order`.
   * @throws RangeError when `order` is already present or not above its pair's last one
   */
  add (item: OutboxItem): void {
    if (this.entries.has(item.order)) throw new RangeError(`entry ${item.order} is already in the outbox`)
    const key = pairKey(item.sender, item.receiver)
    let pair = this.pairs.get(key)
    if (pair === undefined) {
      pair = new Pair(key)
      this.pairs.set(key, pair)
    }
    const last = pair.queue[pair.queue.length - 1]
    if (!pair.empty && last.item.order >= item.order) throw new RangeError(`entry ${item.order} is out of order for its pair (last ${last.item.order})`)
    const e = new Entry(item, pair, pair.end)
    pair.queue.push(e)
    this.entries.set(item.order, e)
    this.deadlines.push(e)
    if (pair.where === 'idle') this.makeReady(pair)
  }

  /** Whether an entry with this order is pending. */
  has (order: number): boolean {
    return this.entries.has(order)
  }

  status (order: number): EntryStatus | undefined {
    const e = this.entries.get(order)
    if (e === undefined) return undefined
    const s: EntryStatus = { state: e.state === 'inflight' ? 'sent' : 'queued', attempts: e.attempts, notBefore: e.pair.waitUntil }
    if (e.peer !== undefined) s.peer = e.peer
    if (e.lastError !== undefined) s.lastError = e.lastError
    return s
  }

  /** Every pending entry, in order of acceptance. */
  * pending (): Generator<OutboxItem> {
    for (const e of this.entries.values()) yield e.item
  }

  /**
   * The entries to send now, grouped by peer, at most `max` in all; and those given up
   * on the way (no such receiver, deadline passed). Marks the sent ones in flight.
   * @param route where a receiver is now (called once per entry considered)
   */
  take (now: number, route: (receiver: string) => RouteAnswer, max = Infinity): { batches: Map<string, Sendable[]>, givenUp: GivenUp[] } {
    this.runTimers(now)
    const batches = new Map<string, Sendable[]>()
    const givenUp: GivenUp[] = []
    let taken = 0
    while (taken < max) {
      const pair = first(this.ready)
      if (pair === undefined) break
      this.ready.delete(pair)
      pair.where = 'idle'
      const e = this.nextUnsent(pair)
      if (e === undefined) {
        this.dropIfEmpty(pair)
        continue
      }
      if (pair.waitUntil > now) {
        this.schedule(pair, pair.waitUntil)
        continue
      }
      if (e.item.deadline <= now) {
        givenUp.push(this.giveUp(e, 'expired', this.expiredReason(e), now))
        continue
      }
      const r = route(e.item.receiver)
      if ('refuse' in r) {
        givenUp.push(this.giveUp(e, 'not-found', r.refuse, now))
        continue
      }
      if ('wait' in r) {
        e.lastError = r.wait
        e.attempts++
        this.backOff(pair, e, now)
        if (r.peer !== undefined) this.waitFor(r.peer, pair)
        continue
      }
      const peer = this.peer(r.peer)
      if (peer.inFlight >= this.config.maxInFlightPerPeer) {
        this.park(peer, pair)
        continue
      }
      if (!peer.breaker.allows(now)) {
        this.park(peer, pair)
        // Half-open with its probe out: the probe's answer unparks; open: wake at the cool-down's end.
        if (peer.breaker.state(now) === 'open') this.wakePeerAt(peer, peer.breaker.reopensAt() ?? now)
        continue
      }
      e.state = 'inflight'
      e.peer = peer.id
      e.attempts++
      peer.inFlight++
      pair.cursor = e.pos + 1
      let batch = batches.get(peer.id)
      if (batch === undefined) {
        batch = []
        batches.set(peer.id, batch)
      }
      batch.push({ item: e.item, after: this.after(e), attempt: e.attempts })
      taken++
      this.makeReady(pair)
    }
    return { batches, givenUp }
  }

  /**
   * The peer answered for entry `order`. Unknown orders (answered twice, or given up
   * meanwhile) give undefined.
   */
  acked (order: number, answer: AckAnswer, reason: string | undefined, now: number): AckVerdict | undefined {
    const e = this.entries.get(order)
    if (e === undefined || e.state !== 'inflight') return undefined
    const peer = this.peer(e.peer as string)
    this.release(peer, e)
    peer.breaker.success()
    let verdict: AckVerdict
    if (answer === 'ok') {
      this.finish(e)
      verdict = { kind: 'delivered', item: e.item, attempts: e.attempts }
    } else {
      const why = reason ?? `node ${peer.id} answered ${answer}`
      if (answer === 'rejected') {
        verdict = { kind: 'given-up', given: this.giveUp(e, 'rejected', why, now) }
      } else if (answer === 'expired') {
        verdict = { kind: 'given-up', given: this.giveUp(e, 'expired', why, now) }
      } else {
        e.lastError = why
        if (e.overdue || e.item.deadline <= now) {
          verdict = { kind: 'given-up', given: this.giveUp(e, 'expired', this.expiredReason(e), now) }
        } else {
          this.retry(e, now)
          verdict = answer === 'no-such-agent'
            ? { kind: 'reroute', item: e.item, peer: peer.id, reason: why }
            : { kind: 'retry', item: e.item, reason: why }
        }
      }
    }
    this.unpark(peer)
    return verdict
  }

  /**
   * The deliveries of `orders` to `peer` failed without an answer (the stream or
   * connection broke, or no ack came in time): they are retried, and the peer's breaker
   * counts one failure.
   * @returns entries given up because their deadline passed meanwhile
   */
  failed (peerId: string, orders: readonly number[], reason: string, now: number): GivenUp[] {
    const peer = this.peers.get(peerId)
    if (peer === undefined) return []
    const givenUp: GivenUp[] = []
    let any = false
    for (const order of orders) {
      const e = this.entries.get(order)
      if (e === undefined || e.state !== 'inflight' || e.peer !== peerId) continue
      any = true
      this.release(peer, e)
      e.lastError = reason
      if (e.overdue || e.item.deadline <= now) givenUp.push(this.giveUp(e, 'expired', this.expiredReason(e), now))
      else this.retry(e, now)
    }
    if (any && peer.breaker.failure(now)) this.wakePeerAt(peer, peer.breaker.reopensAt() ?? now)
    if (peer.breaker.state(now) === 'closed') this.unpark(peer)
    return givenUp
  }

  /**
   * Gives up the waiting entries whose deadline is at or before `now`; entries in flight
   * are marked to be given up unless their answer is `ok`.
   */
  expire (now: number): GivenUp[] {
    const out: GivenUp[] = []
    for (;;) {
      const e = this.deadlines.peek()
      if (e === undefined || e.item.deadline > now) break
      this.deadlines.pop()
      if (e.state === 'done') continue
      if (e.state === 'inflight') {
        e.overdue = true
        continue
      }
      out.push(this.giveUp(e, 'expired', this.expiredReason(e), now))
    }
    return out
  }

  /**
   * Removes a pending entry (e.g. an operator purged it). One in flight only with
   * `inFlight` (e.g. its row failed to be written while it was being sent): its slot is
   * freed, and its answer, should one come, is ignored.
   * @returns whether it was removed
   */
  remove (order: number, now: number, options: { inFlight?: boolean } = {}): boolean {
    const e = this.entries.get(order)
    if (e === undefined) return false
    if (e.state === 'inflight') {
      if (options.inFlight !== true) return false
      const peer = this.peer(e.peer as string)
      this.release(peer, e)
      this.finishPending(e, now)
      this.unpark(peer)
      return true
    }
    this.finishPending(e, now)
    return true
  }

  /**
   * Membership says `peer` is back (alive again, or rejoined): its breaker goes half-open
   * now, and the entries that waited for it are tried again at once.
   */
  peerBack (peerId: string, now: number): void {
    const peer = this.peers.get(peerId)
    if (peer !== undefined) {
      peer.breaker.halfOpen(now)
      this.unpark(peer)
    }
    const waiting = this.waitingFor.get(peerId)
    if (waiting !== undefined) {
      this.waitingFor.delete(peerId)
      for (const pair of waiting) this.wakePair(pair, now)
    }
  }

  /** Every waiting pair is tried again now (e.g. routes changed). */
  wakeAll (now: number): void {
    this.waitingFor.clear()
    for (const pair of this.pairs.values()) this.wakePair(pair, now)
  }

  /**
   * When the driver should next call {@link take} and {@link expire}, ms since the epoch:
   * `-Infinity` when entries are ready now, undefined when nothing is pending.
   */
  nextWakeAt (): number | undefined {
    if (this.ready.size > 0) return -Infinity
    const t = this.timers.peek()?.at
    // Finished entries at the top would only make the driver wake up for nothing.
    while (this.deadlines.peek()?.state === 'done') this.deadlines.pop()
    const d = this.deadlines.peek()?.item.deadline
    if (t === undefined) return d
    if (d === undefined) return t
    return Math.min(t, d)
  }

  /** Every peer entries were ever sent to. */
  peerStates (now: number): PeerDelivery[] {
    return [...this.peers.values()].map(p => this.describePeer(p, now))
  }

  /** One peer's delivery state, or undefined when nothing was ever sent to it. */
  peerState (peerId: string, now: number): PeerDelivery | undefined {
    const p = this.peers.get(peerId)
    return p === undefined ? undefined : this.describePeer(p, now)
  }

  // --- internals ---

  private describePeer (p: PeerState, now: number): PeerDelivery {
    return { peer: p.id, breaker: p.breaker.state(now), consecutiveFailures: p.breaker.consecutiveFailures, inFlight: p.inFlight, parked: p.parked.size, trips: p.breaker.trips }
  }

  private peer (id: string): PeerState {
    let p = this.peers.get(id)
    if (p === undefined) {
      p = new PeerState(id, this.config.breaker)
      this.peers.set(id, p)
    }
    return p
  }

  /** The first entry of `pair` at or after its cursor that waits to be sent. */
  private nextUnsent (pair: Pair): Entry | undefined {
    for (let pos = Math.max(pair.cursor, pair.first); pos < pair.end; pos++) {
      const e = pair.at(pos) as Entry
      if (e.state === 'pending') {
        pair.cursor = pos
        return e
      }
    }
    pair.cursor = pair.end
    return undefined
  }

  /** Order of the nearest earlier entry of `e`'s pair not yet done, or 0. */
  private after (e: Entry): number {
    const pair = e.pair
    for (let pos = e.pos - 1; pos >= pair.first; pos--) {
      const prev = pair.at(pos) as Entry
      if (prev.state !== 'done') return prev.item.order
    }
    return 0
  }

  private retry (e: Entry, now: number): void {
    const pair = e.pair
    if (e.pos < pair.cursor) pair.cursor = e.pos
    this.backOff(pair, e, now)
  }

  /** The pair waits (full jitter, by `e`'s attempts) before its next send. */
  private backOff (pair: Pair, e: Entry, now: number): void {
    const at = now + backoffDelay(Math.max(1, e.attempts), this.config.backoff, this.random)
    pair.waitUntil = Math.max(pair.waitUntil, at)
    this.schedule(pair, pair.waitUntil)
  }

  private release (peer: PeerState, e: Entry): void {
    peer.inFlight--
    e.state = 'pending'
  }

  private giveUp (e: Entry, cause: GivenUp['cause'], reason: string, now: number): GivenUp {
    this.finishPending(e, now)
    return { item: e.item, reason, cause, attempts: e.attempts }
  }

  private expiredReason (e: Entry): string {
    const tries = e.attempts === 1 ? '1 attempt' : `${e.attempts} attempts`
    return e.lastError !== undefined
      ? `not delivered before its deadline (${tries}; last error: ${e.lastError})`
      : `not delivered before its deadline (${tries})`
  }

  /** Removes a waiting entry; what waited behind it goes now. */
  private finishPending (e: Entry, now: number): void {
    this.finish(e)
    const pair = e.pair
    if (pair.empty) return
    pair.waitUntil = Math.min(pair.waitUntil, now)
    this.wakePair(pair, now)
  }

  /** Removes an entry for good, and skips its pair's finished head. */
  private finish (e: Entry): void {
    e.state = 'done'
    this.entries.delete(e.item.order)
    // A finished entry stays in the deadline heap until its deadline reaches the top (up to
    // the TTL, 30 s by default): every delivered message was kept that long, and aged into
    // the old generation. Dropped once finished ones are most of the heap (amortized O(1)).
    if (this.deadlines.size > 2 * this.entries.size + DEADLINE_HEAP_SLACK) this.deadlines.retain(x => x.state !== 'done')
    const pair = e.pair
    while (pair.head < pair.queue.length && pair.queue[pair.head].state === 'done') pair.head++
    if (pair.head > 64 && pair.head * 2 > pair.queue.length) {
      pair.queue = pair.queue.slice(pair.head)
      pair.offset += pair.head
      pair.head = 0
    }
    if (pair.cursor < pair.first) pair.cursor = pair.first
    this.dropIfEmpty(pair)
  }

  private dropIfEmpty (pair: Pair): void {
    if (!pair.empty) return
    if (pair.where === 'ready') this.ready.delete(pair)
    if (pair.where === 'parked') pair.parkedAt?.parked.delete(pair)
    pair.where = 'idle'
    pair.parkedAt = undefined
    if (this.pairs.get(pair.key) === pair) this.pairs.delete(pair.key)
  }

  private makeReady (pair: Pair): void {
    if (pair.empty) {
      this.dropIfEmpty(pair)
      return
    }
    if (pair.where === 'ready' || pair.where === 'parked') return
    pair.where = 'ready'
    this.ready.add(pair)
  }

  private schedule (pair: Pair, at: number): void {
    if (pair.where === 'ready') this.ready.delete(pair)
    if (pair.where === 'parked') {
      pair.parkedAt?.parked.delete(pair)
      pair.parkedAt = undefined
    }
    if (pair.where === 'timer' && pair.timerAt === at) return
    pair.where = 'timer'
    pair.timerAt = at
    this.timers.push({ at, pair })
  }

  private park (peer: PeerState, pair: Pair): void {
    pair.where = 'parked'
    pair.parkedAt = peer
    peer.parked.add(pair)
  }

  private unpark (peer: PeerState): void {
    if (peer.parked.size === 0 || peer.inFlight >= this.config.maxInFlightPerPeer) return
    const parked = [...peer.parked]
    peer.parked.clear()
    for (const pair of parked) {
      pair.where = 'idle'
      pair.parkedAt = undefined
      this.makeReady(pair)
    }
  }

  private wakePeerAt (peer: PeerState, at: number): void {
    if (peer.timerSet) return
    peer.timerSet = true
    this.timers.push({ at, peer })
  }

  private waitFor (peerId: string, pair: Pair): void {
    let set = this.waitingFor.get(peerId)
    if (set === undefined) {
      set = new Set()
      this.waitingFor.set(peerId, set)
    }
    set.add(pair)
  }

  private wakePair (pair: Pair, now: number): void {
    pair.waitUntil = Math.min(pair.waitUntil, now)
    if (pair.where === 'parked' || pair.where === 'ready') return // its peer wakes it / it goes now
    pair.where = 'idle'
    this.makeReady(pair)
  }

  private runTimers (now: number): void {
    for (;;) {
      const t = this.timers.peek()
      if (t === undefined || t.at > now) break
      this.timers.pop()
      if (t.peer !== undefined) {
        t.peer.timerSet = false
        this.unpark(t.peer)
        continue
      }
      const pair = t.pair
      // A stale heap entry: the pair was woken, parked or rescheduled since.
      if (pair.where !== 'timer' || pair.timerAt !== t.at) continue
      pair.where = 'idle'
      this.makeReady(pair)
    }
  }
}

function first<T> (set: Set<T>): T | undefined {
  for (const x of set) return x
  return undefined
}
