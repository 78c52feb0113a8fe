/**
 * The cluster registry on a node: which node hosts each agent, in what state,
 * offering what capabilities, answered from this node's own LevelDB and kept in step with
 * every other member by gossip (`caxton/registry/2`) and anti-entropy
 * (`/caxton/registry-sync/2.0.0`), without coordination. Every write is signed with the
 * node's key, and only members are heard. The CRDT and its wire formats
 * are `protocols/registry/` (SPEC.md there); this folder runs them on real I/O.
 *
 * - `ClusterRegistry`: the service (start/stop): local changes, gossip, anti-entropy,
 *   tombstone collection, unreachable members; the host of the sync policy
 *   (`protocols/registry/sync-policy.ts`: when to sync and with whom), on one timer.
 *   A `TypedEventEmitter` of `change` events.
 * - `LevelRegistryStore`: the replica in the node's sublevel `registry`.
 * - `RegistryReplica`, `SyncInitiator`, `SyncResponder`: the protocol logic, sans-I/O
 *   (the simulator in `sim/registry/` runs them too, with the same sync policy).
 * - `ed25519Signing(privateKey)`: the registry's signing with the node's libp2p key;
 *   other writers' keys are read out of their PeerIds (`ed25519Verifier`).
 * - `MembershipView`: what the registry needs from membership (the node passes its SWIM
 *   membership, `src/membership/`); `StaticMembership` for a fixed list (tests).
 * - `registerRegistryMetrics`: `caxton_registry_*`, read at scrape time.
 * - `parseCapabilities`: capability declarations checked (zod + ajv).
 *
 * @example
 * ```ts
 * const registry = new ClusterRegistry({
 *   nodeId: libp2p.peerId.toString(),
 *   signing: ed25519Signing(privateKey),             // the node's libp2p key (loadOrCreateIdentity)
 *   store: LevelRegistryStore.fromStorage(storage),
 *   gossip: new GossipsubRegistryGossip(libp2p.services.pubsub),
 *   sync: new Libp2pSyncNetwork(libp2p),
 *   membership,                                      // SwimMembership (src/membership)
 *   timing: REGISTRY_TIMING.lan
 * })
 * await registry.start()
 * await registry.commit({ type: 'put', agentId: 'echo', node: registry.nodeId, state: 'running',
 *   capabilities: parseCapabilities([{ name: 'echo', version: '1.0.0' }]) }, { with: agentRows })
 * registry.list({ capability: 'echo' })   // RegisteredAgent[]
 * await registry.stop()
 * ```
 */
export { REGISTRY_TIMING, type RegistryTiming } from '../../protocols/registry/timing.js'
export {
  ClusterRegistry,
  type ClusterRegistryOptions, type ClusterRegistryEvents, type SyncOutcome, type RegistryQuery, type RegistrySummary, type AgentLocation
} from './cluster-registry.js'
export { registerRegistryMetrics, type RegistryMetricsSource } from './metrics.js'
export { LevelRegistryStore, REGISTRY_SUBLEVEL, type AtomicRegistryStore } from './level-store.js'
export { RegistryReplica, zeroStats, type ReplicaStats, type ReplicaOutcome, type GossipOutcome, type GossipVerdict } from './replica.js'
export { ed25519Signing, ed25519Verifier } from './signing.js'
export { SyncInitiator, SyncResponder, type SyncTally } from './session.js'
export {
  GossipsubRegistryGossip, Libp2pSyncNetwork, FrameInbox, DEFAULT_MAX_SYNC_FRAME_BYTES, REGISTRY_TOPIC_SCORE,
  type RegistryGossip, type SyncChannel, type SyncNetwork
} from './transport.js'
export { StaticMembership, type MembershipView } from './membership.js'
export { parseCapabilities, parseCapabilityRef, formatCapability } from './capabilities.js'
export { InvalidCapabilityError, RegistryPersistError, RegistryNotRunningError, RegistrySyncError, REGISTRY_ERROR_STATUS } from './errors.js'
