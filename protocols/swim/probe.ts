/**
 * The failure detector's bookkeeping (SWIM §3.1, §4.3; Lifeguard §IV-A): which member to
 * probe next (randomised round-robin), the one probe in flight (direct ping → ping-req
 * through k members → suspect), and the indirect probes this node runs for others
 * (relaying their acks, sending nacks). Holds state and deadlines only; the node sends.
 */
import type { DenseSet, Slotted } from './dense-set.js'
import type { MemberId, RandomSource } from './types.js'

/** The probe in flight. */
export interface Probe {
  target: MemberId
  /** Sequence number of the ping and of the ping-reqs sent for it. */
  seq: number
  startedAt: number
  /** End of the direct phase: no ack by then → ping-req. */
  directDeadline: number
  /** End of the probe: no ack by then → suspect. Pushed back if the indirect phase starts late. */
  endAt: number
  stage: 'direct' | 'indirect'
  /** Members asked to probe indirectly, each expected to nack if the target stays silent. */
  helpers: MemberId[]
  nacks: Set<MemberId>
}

/** An indirect probe run for another member (the ping-req's receiver side). */
export interface Relay {
  requester: MemberId
  requesterSeq: number
  target: MemberId
  /** When to nack if the target has not acked (Infinity: the requester asked for no nack). */
  nackAt: number
  expiresAt: number
}

/**
 * Round-robin probe order over live members, reshuffled at the end of every round, with
 * new members inserted at a random place in the rest of the round (SWIM §4.3): every
 * member is probed once per round, so detection time is bounded, while the order stays
 * unpredictable.
 */
export class ProbeOrder<T extends Slotted> {
  private order: T[] = []
  private index = 0
  private readonly random: RandomSource

  constructor (random: RandomSource) {
    this.random = random
  }

  /** Inserts a newly live member at a uniformly random place among those not yet probed this round. */
  add (member: T): void {
    const n = this.order.length
    const pos = this.index + Math.floor(this.random() * (n - this.index + 1))
    this.order.push(member)
    const displaced = this.order[pos]
    this.order[pos] = member
    this.order[n] = displaced
  }

  /**
   * The next member to probe: the next entry of this round that is still probeable; a new
   * shuffled round of `live` when this one is over. undefined if no member is probeable.
   */
  next (live: DenseSet<T>, probeable: (member: T) => boolean): T | undefined {
    let reshuffled = false
    for (;;) {
      while (this.index < this.order.length) {
        const member = this.order[this.index++]
        if (probeable(member)) return member
      }
      if (reshuffled) return undefined
      this.reshuffle(live)
      reshuffled = true
    }
  }

  private reshuffle (live: DenseSet<T>): void {
    const order = live.values().slice()
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1))
      const t = order[i]
      order[i] = order[j]
      order[j] = t
    }
    this.order = order
    this.index = 0
  }
}

/**
 * Recent probes that ended without a timely direct ack (failed, or answered only through a
 * helper): a direct ack for one of them from its target is a late ack.
 */
export class RecentSeqs {
  private readonly targets = new Map<number, MemberId>()
  private readonly capacity: number

  constructor (capacity = 8) {
    this.capacity = capacity
  }

  add (seq: number, target: MemberId): void {
    this.targets.set(seq, target)
    if (this.targets.size > this.capacity) {
      const oldest = this.targets.keys().next().value as number
      this.targets.delete(oldest)
    }
  }

  /** Removes `seq` if it was recorded for `target`; returns whether it was. */
  take (seq: number, target: MemberId): boolean {
    if (this.targets.get(seq) !== target) return false
    this.targets.delete(seq)
    return true
  }
}
