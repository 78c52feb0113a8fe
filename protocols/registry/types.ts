/**
 * The registry's data model: what is replicated (entries made of versions), what a
 * reader sees (registered agents), and what crosses the wire (deltas, digests, acks).
 * See `SPEC.md` beside this file for the rules that tie them together.
 */
import type { AgentId } from '../fipa/types.js'
import type { HlcTimestamp } from './hlc.js'

export type { AgentId, HlcTimestamp }

/**
 * A node of the cluster: its libp2p PeerId as a string. A writer's node id is also how
 * its signatures are checked: an Ed25519 PeerId embeds the public key (SPEC.md §7).
 */
export type NodeId = string

/**
 * An agent's lifecycle state as its hosting node publishes it; the same states as the
 * runtime's `AgentState`, repeated here because `protocols/` imports
 * nothing from `src/`.
 */
export const AGENT_STATES = ['loaded', 'running', 'draining', 'stopped', 'suspended', 'failed'] as const
export type AgentState = typeof AGENT_STATES[number]

/**
 * What a reader sees: the published state, or `unreachable` while the hosting node is
 * marked unreachable (declared dead by membership). Unreachability is a local overlay,
 * not a replicated write: see SPEC.md, "Unreachable agents".
 */
export type AgentStatus = AgentState | 'unreachable'

/** A JSON value (what a capability's schema may be). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/**
 * Something an agent can do (the FIPA Directory Facilitator's service description).
 * `name` is what discovery matches on, exactly.
 */
export interface Capability {
  /** 1-100 characters, no control characters. Unique per agent together with `version`. */
  readonly name: string
  /** Up to 1,000 characters. */
  readonly description?: string
  /** Up to 64 characters, e.g. a semver. */
  readonly version?: string
  /** Optional JSON Schema of the content the agent accepts (any JSON value, keys sorted). */
  readonly schema?: JsonValue
}

/** The replicated facts about a live agent, as its host published them. */
export interface AgentRecord {
  /** The hosting node: always the version's writer (a node registers only the agents it hosts). */
  readonly node: NodeId
  readonly state: AgentState
  readonly capabilities: readonly Capability[]
  /** When the writer made this version, ms since the epoch (the writer's `now`). */
  readonly updatedAt: number
  /**
   * When the host registered the agent, ms since the epoch: the `updatedAt` of the first
   * version of this registration, kept by later writes. Between two hosts registering the
   * same agent id, the earlier registration is the one readers see (SPEC.md §3).
   */
  readonly registeredAt: number
  /**
   * The agent's version on its host: 1 at deploy, one more at each in-place upgrade or
   * rollback (SPEC.md §1). Absent from records of hosts that do not number versions.
   */
  readonly agentVersion?: number
}

/**
 * One write of an entry, signed by its writer. Its *dot* is `(by, seq)`: `by`'s
 * node-wide write sequence number, unique per write. `record === null` is a tombstone
 * (the writer no longer hosts the agent).
 */
export interface Version {
  /** The node that wrote it (and hosts the agent, unless this is a tombstone). */
  readonly by: NodeId
  /** The writer's write sequence number: 1, 2, 3, ... across all entries. */
  readonly seq: number
  /** The writer's hybrid logical clock at the write. */
  readonly hlc: HlcTimestamp
  readonly record: AgentRecord | null
  /** Ed25519 signature (64 bytes) by `by` of {@link signedPayload} of this version and its agent id. */
  readonly signature: Uint8Array
}

/**
 * An entry as replicated and stored: the agent id and, per writer, the latest version of
 * that writer (normally one writer), sorted winner first (SPEC.md §3).
 */
export interface RegistryEntry {
  readonly agentId: AgentId
  readonly versions: readonly Version[]
}

/** What readers see for an agent whose winning version is not a tombstone. */
export interface RegisteredAgent {
  readonly agentId: AgentId
  readonly node: NodeId
  /** As published by the hosting node. */
  readonly state: AgentState
  /** `state`, or `unreachable` while `node` is marked unreachable. */
  readonly status: AgentStatus
  readonly reachable: boolean
  readonly capabilities: readonly Capability[]
  /** ms since the epoch. */
  readonly updatedAt: number
  /** When `node` registered the agent, ms since the epoch. */
  readonly registeredAt: number
  /** The agent's version on its host (1, 2, 3...), when the host publishes one. */
  readonly agentVersion?: number
  /** The winning version's writer, sequence number and HLC timestamp. */
  readonly version: { readonly by: NodeId, readonly seq: number, readonly hlc: HlcTimestamp }
  /** Other nodes that also publish a live registration of this agent id (0 normally). */
  readonly conflicts: number
}

/** A visible change, for events and indexes. */
export type AgentChange =
  | { readonly kind: 'added', readonly agentId: AgentId, readonly after: RegisteredAgent }
  | { readonly kind: 'updated', readonly agentId: AgentId, readonly before: RegisteredAgent, readonly after: RegisteredAgent }
  | { readonly kind: 'removed', readonly agentId: AgentId, readonly before: RegisteredAgent }

/** What one origin's writes a replica has incorporated: every seq ≤ `upTo`, and `extra`. */
export interface OriginKnowledge {
  readonly node: NodeId
  /** Every write sequence 1..upTo of `node` is incorporated. */
  readonly upTo: number
  /** Further incorporated sequence numbers, ascending, each > upTo + 1. */
  readonly extra: readonly number[]
}

/**
 * A causal context: which writes (dots) a replica has incorporated, whether it still
 * holds them or has seen them superseded. Sorted by node.
 */
export type ContextSummary = readonly OriginKnowledge[]

/**
 * A set of versions to merge. Gossip deltas carry only `entries` (the versions just
 * written). Anti-entropy replies and snapshots also carry the sender's `context` and
 * `complete`: for the listed buckets, `entries` is everything the sender holds, so the
 * receiver may drop what the sender wrote and has since superseded (SPEC.md §6).
 */
export interface RegistryDelta {
  readonly entries: readonly RegistryEntry[]
  readonly context?: ContextSummary
  readonly complete?: { readonly bucketCount: number, readonly buckets: readonly number[] }
}

/**
 * Anti-entropy digest: an 8-byte hash per bucket of entries (bucket = FNV-1a of the agent
 * id mod `bucketCount`) and of the causal context. `root` hashes all of them.
 */
export interface RegistryDigest {
  readonly bucketCount: number
  /** `bucketCount` × 8 bytes: XOR of the entry hashes of each bucket. */
  readonly buckets: Uint8Array
  /** 8 bytes. */
  readonly contextHash: Uint8Array
  /** 8 bytes: hash of `buckets` and `contextHash`; equal roots mean nothing to exchange. */
  readonly root: Uint8Array
}

/** The tombstones a member holds, identified by agent id and dot. */
export interface RegistryAck {
  readonly tombstones: ReadonlyArray<{ readonly agentId: AgentId, readonly by: NodeId, readonly seq: number }>
}

/** A local operation on the registry. */
export type RegistryOp =
  /** Registers an agent hosted by this node (`node` must be this replica's node id), or replaces what this node published about it. */
  | { readonly type: 'put', readonly agentId: AgentId, readonly node: NodeId, readonly state: AgentState, readonly capabilities?: readonly Capability[], readonly agentVersion?: number }
  /** Changes some fields of an agent this node registered. @throws RegistryAgentNotFoundError */
  | { readonly type: 'update', readonly agentId: AgentId, readonly node?: NodeId, readonly state?: AgentState, readonly capabilities?: readonly Capability[], readonly agentVersion?: number }
  /** Removes this node's registration of an agent: writes a tombstone. A no-op when this node has none live. */
  | { readonly type: 'remove', readonly agentId: AgentId }

/**
 * What to persist after a change, atomically. `knowledge` lists origins whose knowledge
 * changed (replace the stored row of each); `hlc` is the clock to persist.
 */
export interface RegistryBatch {
  readonly put: readonly RegistryEntry[]
  readonly delete: readonly AgentId[]
  readonly knowledge: readonly OriginKnowledge[]
  readonly hlc?: HlcTimestamp
}

/** A registry as loaded from a store. */
export interface StoredRegistry {
  readonly entries: readonly RegistryEntry[]
  readonly knowledge: readonly OriginKnowledge[]
  readonly hlc?: HlcTimestamp
}
