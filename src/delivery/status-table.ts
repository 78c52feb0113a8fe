/**
 * What became of recent messages on this node, per receiver (`GET /messages/:id`): bounded
 * to `max` message ids, the oldest-written evicted first. Insertion order is enough here (a
 * status is looked up rarely, and written a few times within seconds), and it costs one
 * `Map#set` per new message where lru-cache's recency bookkeeping was ~10% of the sending
 * node's delivery CPU (measured with 100,000 one-way messages, lru-cache 11).
 *
 * Kept in columns, not as objects: a status per message, alive for the last 100,000
 * messages, outlives every scavenge, so each one's objects were promoted and later
 * collected by the major collector, which marks all of them on each run. As objects (an
 * entry, its receivers array, a status of five to seven fields, copies of its strings) an
 * entry held ~330 B of the heap in ~5 objects; here it is its id (a string), its Map entry
 * and a slot in the columns. A status with fields the columns do not hold (a reason, a
 * cause, a dead letter's id) or a second receiver is kept as objects beside them: those
 * are the rare cases (dead letters, multi-receiver messages).
 */
import { ownCopy, StringPool, type AgentId } from '../../protocols/fipa/index.js'
import type { DeliveryState, ReceiverStatus } from './types.js'

export interface KnownStatus {
  sender?: AgentId
  receivers: ReceiverStatus[]
}

const STATES: readonly DeliveryState[] = ['queued', 'sent', 'delivered', 'handled', 'dead-lettered']
const STATE_CODE = new Map(STATES.map((s, i) => [s, i]))
/** State column value of a slot whose receivers are in {@link StatusTable.more}. */
const IN_OBJECTS = 255
/** `attempts` column value when the status has none. */
const NO_ATTEMPTS = -1

export class StatusTable {
  /** Message id → slot in the columns. */
  private readonly slots = new Map<string, number>()
  /** Ids in the order they were added, a ring: the slot to write next holds the oldest. */
  private readonly ids: string[] = []
  private readonly senders: Array<AgentId | undefined> = []
  private readonly receivers: AgentId[] = []
  private readonly peers: Array<string | undefined> = []
  private states = new Uint8Array(0)
  private times = new Float64Array(0)
  private attempts = new Int32Array(0)
  /** Slots whose receivers do not fit the columns (a second receiver, a reason, a dead letter). */
  private readonly more = new Map<number, ReceiverStatus[]>()
  /** Agent and peer ids, each kept once. */
  private readonly pool = new StringPool()
  private next = 0

  /** @param max most message ids kept, ≥ 1 */
  constructor (private readonly max: number) {
    if (!(max >= 1)) throw new RangeError(`a status table holds at least 1 entry, got ${max}`)
  }

  get size (): number {
    return this.slots.size
  }

  /** A copy of what is known of `messageId`. */
  get (messageId: string): KnownStatus | undefined {
    const slot = this.slots.get(messageId)
    if (slot === undefined) return undefined
    const sender = this.senders[slot]
    const receivers = this.states[slot] === IN_OBJECTS ? (this.more.get(slot) ?? []).map(r => ({ ...r })) : [this.status(slot)]
    return sender !== undefined ? { sender, receivers } : { receivers }
  }

  /**
   * Records where `status.receiver`'s copy of `messageId` stands, replacing what was known
   * of that receiver; `sender` is kept from the message's first status. Past `max` ids the
   * oldest-added one goes.
   */
  record (messageId: string, sender: AgentId | undefined, status: ReceiverStatus): void {
    const slot = this.slots.get(messageId)
    if (slot === undefined) {
      const s = this.claim(messageId)
      this.senders[s] = sender === undefined ? undefined : this.pool.get(sender)
      if (fitsColumns(status)) this.write(s, status)
      else this.toObjects(s, [{ ...status }])
      return
    }
    if (this.states[slot] === IN_OBJECTS) {
      const list = this.more.get(slot) as ReceiverStatus[]
      const i = list.findIndex(r => r.receiver === status.receiver)
      if (i < 0) list.push({ ...status })
      else list[i] = { ...status }
      return
    }
    if (this.receivers[slot] === status.receiver && fitsColumns(status)) {
      this.write(slot, status)
      return
    }
    // Most messages have one receiver: a short array beats a Map per message.
    this.toObjects(slot, this.receivers[slot] === status.receiver ? [{ ...status }] : [this.status(slot), { ...status }])
  }

  /** A free slot for a new id: the next one, or the oldest id's. */
  private claim (messageId: string): number {
    const id = ownCopy(messageId)
    let slot: number
    if (this.ids.length < this.max) {
      slot = this.ids.length
      this.ids.push(id)
      this.senders.push(undefined)
      this.receivers.push('')
      this.peers.push(undefined)
      if (slot >= this.states.length) this.grow()
    } else {
      slot = this.next
      this.slots.delete(this.ids[slot])
      this.more.delete(slot)
      this.ids[slot] = id
      this.next = (this.next + 1) % this.max
    }
    this.slots.set(id, slot)
    return slot
  }

  /** Doubles the numeric columns (up to `max`). */
  private grow (): void {
    const n = Math.min(this.max, Math.max(1024, this.states.length * 2))
    const states = new Uint8Array(n)
    states.set(this.states)
    const times = new Float64Array(n)
    times.set(this.times)
    const attempts = new Int32Array(n)
    attempts.set(this.attempts)
    this.states = states
    this.times = times
    this.attempts = attempts
  }

  private write (slot: number, s: ReceiverStatus): void {
    this.more.delete(slot)
    this.receivers[slot] = this.pool.get(s.receiver)
    this.peers[slot] = s.peer === undefined ? undefined : this.pool.get(s.peer)
    this.states[slot] = STATE_CODE.get(s.state) as number
    this.times[slot] = s.at
    this.attempts[slot] = s.attempts ?? NO_ATTEMPTS
  }

  private toObjects (slot: number, list: ReceiverStatus[]): void {
    this.states[slot] = IN_OBJECTS
    this.receivers[slot] = ''
    this.peers[slot] = undefined
    this.more.set(slot, list)
  }

  /** The status held in the columns of `slot`, as an object. */
  private status (slot: number): ReceiverStatus {
    const r: ReceiverStatus = { receiver: this.receivers[slot], state: STATES[this.states[slot]], at: this.times[slot] }
    const peer = this.peers[slot]
    if (peer !== undefined) r.peer = peer
    if (this.attempts[slot] !== NO_ATTEMPTS) r.attempts = this.attempts[slot]
    return r
  }
}

/** Whether a status is only the fields the columns hold. */
function fitsColumns (s: ReceiverStatus): boolean {
  return s.reason === undefined && s.cause === undefined && s.deadLetterId === undefined &&
    (s.attempts === undefined || (Number.isInteger(s.attempts) && s.attempts >= 0 && s.attempts <= 0x7fffffff))
}
