/**
 * The membership events of a node, one type for whoever emits or listens (the SWIM
 * service here, the registry's `MembershipView`, test fakes): each a
 * `CustomEvent<MemberId>` whose detail is the member's PeerId string.
 *
 * - `member:join`: a member appeared: first seen, or back after being dead or gone;
 * - `member:alive`: a member is (again) alive: after it joined, or after it refuted a
 *   suspicion. Every `member:join` is followed by a `member:alive`;
 * - `member:suspect`: a member did not answer a probe and is suspected (it may refute);
 * - `member:dead`: the suspicion timed out: the member is taken for crashed;
 * - `member:leave`: the member left gracefully;
 * - `member:update`: a live member's addresses changed.
 */
import type { MemberEventType, MemberId } from '../../protocols/swim/index.js'

export type MembershipEventType = MemberEventType

/** The event map of a `TypedEventEmitter` (`@libp2p/interface`) of membership events. */
export type MembershipEvents = { [K in MembershipEventType]: CustomEvent<MemberId> }
