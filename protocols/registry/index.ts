/**
 * The cluster's agent registry as a pure CRDT: which node hosts each agent, its lifecycle
 * state and capabilities, replicated by deltas (gossipsub `caxton/registry/2`) and
 * anti-entropy (`/caxton/registry-sync/2.0.0`). Every version is signed by its writer,
 * the node hosting the agent, and only that node's later writes supersede it. No clock,
 * randomness or I/O: the caller passes `now`, its node id and its signing functions,
 * persists the returned batches and moves the bytes.
 * When to sync and with whom is the {@link SyncPolicy} (`sync-policy.ts`), clock-driven
 * the same way: the node's `ClusterRegistry` and the simulator both run it.
 * Rules and formats: `SPEC.md` beside this file.
 *
 * @example
 * ```ts
 * import { Registry, MemoryRegistryStore, encodeGossip, decodeGossip } from '../../protocols/registry/index.js'
 *
 * const store = new MemoryRegistryStore()
 * const reg = Registry.restore({ nodeId: me, signing }, await store.load())   // signing: { sign, verify }
 *
 * // a local lifecycle change: persist, then publish the delta
 * const { delta, batch } = reg.apply({ type: 'put', agentId: 'echo', node: me, state: 'running',
 *   capabilities: [{ name: 'echo', version: '1.0.0' }] }, Date.now())
 * await store.write(batch)
 * if (delta !== undefined) publish(encodeGossip({ type: 'delta', delta }))
 *
 * // a delta from a peer
 * const msg = decodeGossip(bytes)                       // throws RegistryDecodeError only
 * if (msg.type === 'delta') {
 *   const { changes, batch, rejected } = reg.merge(msg.delta, { now: Date.now(), from: peer })
 *   await store.write(batch)
 * }
 *
 * reg.findByCapability('echo')                          // RegisteredAgent[]
 *
 * // the sync policy: feed it membership and the ends of exchanges, run what it returns,
 * // and call tick(now) when the clock reaches wakeAt
 * const policy = new SyncPolicy({ self: me, timing: REGISTRY_TIMING.lan, random: Math.random })
 * let out = policy.start(performance.now(), aliveMembers)
 * out = policy.memberUp(peer, performance.now())        // { actions: [{ type: 'sync', peer, reason: 'connect', attempt: 1 }], wakeAt }
 * out = policy.ended(peer, 'initiator', true, performance.now())
 * ```
 */
export { Registry, DEFAULT_BUCKET_COUNT, DEFAULT_MAX_CLOCK_DRIFT_MS, DEFAULT_TOMBSTONE_TTL_MS } from './registry.js'
export type { RegistryOptions, LocalUpdate, MergeUpdate, MergeOptions, GcOptions, GcUpdate, RejectedVersion } from './registry.js'
export * from './types.js'
export { signedPayload, SIGNATURE_BYTES, SIGNATURE_DOMAIN } from './signing.js'
export type { RegistrySigning, UnsignedVersion } from './signing.js'
export { HybridLogicalClock, hlcTick, hlcReceive, compareHlc, maxHlc, HLC_ZERO } from './hlc.js'
export { mergeVersions, comparePriority, precedes, sameVersion, sameVersions, dotOf } from './versions.js'
export { CausalContext, compareNodeIds } from './context.js'
export { CapabilityIndex } from './capability-index.js'
export { bucketOf, differingBuckets, digestsEqual } from './digest.js'
export {
  REGISTRY_GOSSIP_TOPIC, REGISTRY_SYNC_PROTOCOL, REGISTRY_WIRE_VERSION,
  encodeDelta, decodeDelta, encodeDigest, decodeDigest, encodeAck, decodeAck, encodeEntry, decodeEntry,
  encodeKnowledge, decodeKnowledge, encodeHlc, decodeHlc, encodeGossip, decodeGossip, encodeSyncFrame, decodeSyncFrame,
  decodeNodeId
} from './codec.js'
export type { RegistryGossipMessage, RegistrySyncFrame } from './codec.js'
export { MemoryRegistryStore, createMemoryRegistryData, checkBatch, combineBatches, isEmptyBatch } from './store.js'
export type { RegistryStore, MemoryRegistryData } from './store.js'
export { AGENT_ID_PATTERN, LIMITS } from './validate.js'
export * from './errors.js'
export { REGISTRY_TIMING } from './timing.js'
export type { RegistryTiming } from './timing.js'
export { SyncPolicy, CONNECT_SYNC_ATTEMPTS, validateRegistryTiming } from './sync-policy.js'
export type { SyncAction, SyncPolicyOutput, SyncPolicyOptions, SyncPolicyStats, SyncReason, SyncRole, InitiateDecision } from './sync-policy.js'
