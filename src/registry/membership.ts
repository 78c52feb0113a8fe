/**
 * What the registry needs from membership: who is alive when it starts, and when a member
 * (re)appears, dies or leaves (to mark its agents unreachable, and for the sync policy:
 * who syncs on a reconnection, who is a partner for anti-entropy, whose acks tombstone
 * collection waits for). The node's SWIM membership (`src/membership/`) implements
 * {@link MembershipView}; the events are its {@link MembershipEvents}.
 */
import { TypedEventEmitter, type TypedEventTarget } from '@libp2p/interface'
import type { MembershipEvents, MembershipEventType } from '../membership/events.js'

export interface MembershipView extends Pick<TypedEventTarget<MembershipEvents>, 'addEventListener' | 'removeEventListener'> {
  /** Node ids of the members alive now, this node excluded. */
  alive: () => string[]
}

/** A view with a fixed member list whose events the caller fires (a node alone, tests). */
export class StaticMembership extends TypedEventEmitter<MembershipEvents> implements MembershipView {
  constructor (private members: string[] = []) {
    super()
  }

  alive (): string[] {
    return [...this.members]
  }

  /** Changes the member list as the event says (join, alive: add; dead, leave: remove) and emits it (tests). */
  emit (type: MembershipEventType, member: string): void {
    if (type === 'member:alive' || type === 'member:join') {
      if (!this.members.includes(member)) this.members.push(member)
    } else if (type === 'member:dead' || type === 'member:leave') {
      this.members = this.members.filter(m => m !== member)
    }
    this.safeDispatchEvent(type, { detail: member })
  }
}
