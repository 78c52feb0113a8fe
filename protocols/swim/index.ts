/**
 * SWIM membership with Lifeguard, as pure code: no I/O, no timers, no clock, no global
 * randomness. A host (the simulator in `sim/`, the libp2p binding in `src/membership/`)
 * drives a {@link SwimNode}:
 *
 * - `start(now)` once; `join(seeds, now)` to contact seed members;
 * - `handle(from, bytes, now)` for every frame received (`from`: the sender's id as the
 *   transport authenticated it);
 * - `tick(now)` whenever the clock reaches the last returned `wakeAt`;
 * - `leave(now)` to go, then stop once `leaveComplete`;
 * - optionally `reportLoad(eventLoopDelayMs)` every second.
 *
 * Each call returns a {@link SwimOutput}: `messages` to send (`to`, `addrs`, `bytes`,
 * `reliable`), membership `events` (`member:join|suspect|alive|dead|leave|update`), and
 * `wakeAt`. The host keeps one timer, re-armed to the latest `wakeAt` after every call.
 * Protocol and wire format: SPEC.md in this folder.
 *
 * @example
 * ```ts
 * import { createSwimNode } from '../../protocols/swim/index.js'
 *
 * const node = createSwimNode({ id: peerId.toString(), addrs, preset: 'lan', random: Math.random })
 * let timer: NodeJS.Timeout | undefined
 * const drive = (out: SwimOutput): void => {
 *   for (const m of out.messages) transport.send(m.to, m.addrs, m.bytes)
 *   for (const e of out.events) events.dispatchEvent(new CustomEvent(e.type, { detail: e }))
 *   clearTimeout(timer)
 *   if (Number.isFinite(out.wakeAt)) {
 *     timer = setTimeout(() => drive(node.tick(performance.now())), Math.max(0, out.wakeAt - performance.now()))
 *   }
 * }
 * drive(node.start(performance.now()))
 * drive(node.join([{ id: seedPeerId, addrs: seedAddrs }], performance.now()))
 * transport.onFrame((from, bytes) => drive(node.handle(from, bytes, performance.now())))
 * ```
 */
import { SwimNode } from './swim-node.js'
import type { SwimNodeOptions } from './swim-node.js'

export { SwimNode, NON_MEMBER_MAX_FRAME_BYTES } from './swim-node.js'
export type { SwimNodeOptions, SeedMember } from './swim-node.js'
export * from './types.js'
export * from './errors.js'
export { swimConfig, validateSwimConfig, scaledPushPullIntervalMs, SWIM_PRESETS, LAN_CONFIG, WAN_CONFIG, LOCAL_CONFIG } from './config.js'
export type { SwimConfig, SwimPreset } from './config.js'
export { remainingSuspicionTime, suspicionMinTimeoutMs, suspicionMaxTimeoutMs, expectedConfirmations, Suspicion } from './suspicion.js'
export { Awareness, probeHealthDelta } from './awareness.js'
export type { ProbeOutcome } from './awareness.js'
export { BroadcastQueue, retransmitLimit } from './broadcast-queue.js'
export { encodeFrame, decodeFrame, encodedUpdateSize, SWIM_WIRE_VERSION, WIRE_LIMITS } from './codec.js'
export type { DecodeOptions } from './codec.js'
export { MemberList, MAX_INCARNATION, MAX_INCARNATION_STEP } from './members.js'
export type { Member, Transition, ClaimRejection } from './members.js'

/**
 * Creates a SWIM member (not yet started).
 * @throws {SwimArgumentError} for malformed options
 * @throws {SwimConfigError} for a bad preset or config field
 */
export function createSwimNode (options: SwimNodeOptions): SwimNode {
  return new SwimNode(options)
}
