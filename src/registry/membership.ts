/**
 * What the registry needs from membership: who is alive now (for tombstone collection and
 * the choice of an anti-entropy partner) and when a member dies, leaves or (re)appears
 * (to mark its agents unreachable, and to sync at once on a reconnection). The node's
 * SWIM membership (`src/membership/`) implements {@link MembershipView}.
 */

/** Membership events: the detail is the member's node id (PeerId string). */
export type MembershipEventType = 'member:alive' | 'member:dead' | 'member:leave'

export interface MembershipView {
  /** Node ids of the members alive now, this node excluded. */
  alive: () => string[]
  addEventListener: (type: MembershipEventType, listener: (evt: CustomEvent<string>) => void) => void
  removeEventListener: (type: MembershipEventType, listener: (evt: CustomEvent<string>) => void) => void
}

/** A view with a fixed member list whose events the caller fires (a node alone, tests). */
export class StaticMembership implements MembershipView {
  private readonly events = new MemberEvents()

  constructor (private members: string[] = []) {}

  alive (): string[] {
    return [...this.members]
  }

  /** Changes the member list and emits the event (tests). */
  emit (type: MembershipEventType, member: string): void {
    if (type === 'member:alive') {
      if (!this.members.includes(member)) this.members.push(member)
    } else {
      this.members = this.members.filter(m => m !== member)
    }
    this.events.emit(type, member)
  }

  addEventListener (type: MembershipEventType, listener: (evt: CustomEvent<string>) => void): void {
    this.events.on(type, listener)
  }

  removeEventListener (type: MembershipEventType, listener: (evt: CustomEvent<string>) => void): void {
    this.events.off(type, listener)
  }
}

/** Typed membership events over an EventTarget. */
class MemberEvents {
  private readonly target = new EventTarget()

  on (type: MembershipEventType, listener: (evt: CustomEvent<string>) => void): void {
    this.target.addEventListener(type, listener as EventListener)
  }

  off (type: MembershipEventType, listener: (evt: CustomEvent<string>) => void): void {
    this.target.removeEventListener(type, listener as EventListener)
  }

  emit (type: MembershipEventType, member: string): void {
    this.target.dispatchEvent(new CustomEvent(type, { detail: member }))
  }
}
