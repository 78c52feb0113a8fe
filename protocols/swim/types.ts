/**
 * Shapes shared by the SWIM modules: members, the updates gossiped about them, the frames
 * on the wire, the events a host observes, and what a host gets back from each call.
 *
 * Times are milliseconds on the host's own monotonic clock (whatever `now` the host passes
 * in); sizes are bytes.
 */

/** A member's identity, unique in the cluster (over libp2p: the PeerId as a string). */
export type MemberId = string

/**
 * A member's state as one node sees it (SWIM §4.2; `left` is memberlist's graceful leave).
 * `alive` and `suspect` members are "live": probed, gossiped to, counted in N.
 */
export type MemberState = 'alive' | 'suspect' | 'dead' | 'left'

/** The states in wire order: the index is the number on the wire. Never reorder. */
export const MEMBER_STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left']

/** A read-only copy of what one node knows about a member. */
export interface MemberSnapshot {
  id: MemberId
  /** Opaque addresses the transport can dial (over libp2p: multiaddr strings). */
  addrs: readonly string[]
  /** Opaque application metadata carried with the member's alive update, at most `maxMetaBytes`. */
  meta?: Uint8Array
  state: MemberState
  /** The member's incarnation number (SWIM §4.2): only the member itself raises it. */
  incarnation: number
  /** When this node last saw the state change, ms on this node's clock. */
  stateChangedAt: number
}

/**
 * A membership update as gossiped (SWIM §4.1 "infection-style dissemination"): the newest
 * claim one node makes about one member. `from` names the node that made the claim (the
 * suspicion's accuser, the node that declared the death).
 */
export type MemberUpdate =
  | { kind: 'alive', id: MemberId, incarnation: number, addrs: readonly string[], meta?: Uint8Array }
  | { kind: 'suspect', id: MemberId, incarnation: number, from: MemberId }
  | { kind: 'dead', id: MemberId, incarnation: number, from: MemberId }
  | { kind: 'left', id: MemberId, incarnation: number }

/** One entry of a push-pull full-state exchange. */
export interface MemberRecord {
  id: MemberId
  incarnation: number
  state: MemberState
  addrs: readonly string[]
  meta?: Uint8Array
}

/** The frame types, in wire order. */
export const FRAME_TYPES = ['ping', 'ping-req', 'ack', 'nack', 'gossip', 'push-pull'] as const
export type FrameType = typeof FRAME_TYPES[number]

/**
 * A SWIM frame. Probe frames (ping, ping-req, ack, nack) and gossip frames carry
 * piggybacked updates; push-pull carries the sender's whole member table.
 * See SPEC.md for the wire layout.
 */
export type SwimFrame =
  | { type: 'ping', seq: number, target: MemberId, updates: MemberUpdate[] }
  | { type: 'ping-req', seq: number, target: MemberId, targetAddrs: readonly string[], nack: boolean, updates: MemberUpdate[] }
  | { type: 'ack', seq: number, updates: MemberUpdate[] }
  | { type: 'nack', seq: number, updates: MemberUpdate[] }
  | { type: 'gossip', updates: MemberUpdate[] }
  | { type: 'push-pull', join: boolean, reply: boolean, members: MemberRecord[] }

/** The events a node reports, in the order the transitions happened. */
export const MEMBER_EVENT_TYPES = [
  'member:join', 'member:suspect', 'member:alive', 'member:dead', 'member:leave', 'member:update'
] as const
export type MemberEventType = typeof MEMBER_EVENT_TYPES[number]

/**
 * What a membership event says. `member:join`: first seen, or back from dead/left with a
 * higher incarnation; `member:alive`: a suspect member refuted; `member:update`: a live
 * member's addrs or meta changed.
 */
export interface MemberEventDetail {
  member: MemberSnapshot
  /** The state before the transition; undefined for a member seen for the first time. */
  previous?: MemberState
  /** Who made the claim that caused the transition (the accuser, the declarer). */
  from?: MemberId
  /** When, ms on this node's clock. */
  at: number
}

/** A membership event: a discriminated union on `type`. */
export type MemberEvent = { type: MemberEventType } & MemberEventDetail

/**
 * The event map a host's typed event emitter can declare, e.g. libp2p's
 * `TypedEventEmitter<SwimEvents>`.
 */
export type SwimEvents = { [K in MemberEventType]: CustomEvent<MemberEventDetail> }

/** A frame the host must deliver. */
export interface OutboundMessage {
  to: MemberId
  /** The addresses this node knows for `to` (may be empty: reply on the connection the request came in on). */
  addrs: readonly string[]
  /** The frame type, for the host's metrics and logs. */
  type: FrameType
  /** The encoded frame (msgpack, see SPEC.md); the host adds its own framing (length prefix). */
  bytes: Uint8Array
  /**
   * true for push-pull: the host should deliver it in order and without loss (a stream);
   * false for probe and gossip frames, which may be dropped under load (SWIM tolerates loss).
   */
  reliable: boolean
}

/** What every call into a node returns: frames to send, events, when to call `tick` next. */
export interface SwimOutput {
  messages: OutboundMessage[]
  events: MemberEvent[]
  /** The earliest time (ms, host clock) at which the host must call `tick(now)`. */
  wakeAt: number
  /** Set when `handle` received bytes that are not a valid frame (the frame was ignored). */
  rejected?: Error
}

/** A source of uniform random numbers in [0, 1) (a seeded PRNG in the simulator). */
export type RandomSource = () => number

/** Counters kept by a node (monotonic since creation). */
export interface SwimMetrics {
  /** Probes started (SWIM §3.1). */
  probes: number
  /** Probes that ended with no ack, direct or indirect. */
  probesFailed: number
  /** ping-req frames sent (indirect probes requested). */
  pingReqs: number
  /** ping-req frames this node served for others. */
  pingReqsServed: number
  nacksSent: number
  nacksReceived: number
  /** Acks that came after this node's probe timeout (Lifeguard: a sign of local slowness). */
  lateAcks: number
  /** Members this node began to suspect because its own probe failed. */
  suspicions: number
  /** Times this node refuted a suspicion or death claim about itself (SWIM §4.2). */
  refutations: number
  /** Suspicions this node raised that the member later refuted (known false positives). */
  falseSuspicions: number
  /** Members this node marked dead (its own suspicion timeout, or gossip). */
  deaths: number
  messagesSent: number
  bytesSent: number
  messagesReceived: number
  bytesReceived: number
  /** Frames rejected by the decoder (from a non-member: larger than 64 KiB, too). */
  decodeErrors: number
  /**
   * Claims received and not obeyed: a non-member's claims about others, claims at the
   * largest incarnation or too far ahead (SPEC.md §2).
   */
  claimsRejected: number
  pushPulls: number
  gossipFrames: number
  /** Piggybacked or gossiped updates sent. */
  updatesSent: number
}
