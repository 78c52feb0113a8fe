/**
 * The registry's data model: what is replicated (entries made of versions), what a
 * reader sees (registered agents), and what crosses the wire (deltas, digests, acks).
 * See `SPEC.md` beside this file for the rules that tie them together.
 */
import type { AgentId } from '../fipa/types.js'
import type { HlcTimestamp } from './hlc.js'
import type { NodeId, VectorClock } from './vector-clock.js'

export type { AgentId, NodeId, VectorClock, HlcTimestamp }

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

/** The replicated facts about a live agent. */
export interface AgentRecord {
  /** The hosting node. */
  readonly node: NodeId
  readonly state: AgentState
  readonly capabilities: readonly Capability[]
  /** When the writer made this version, ms since the epoch (the writer's `now`). */
  readonly updatedAt: number
}

/**
 * One write of an entry. Its *dot* is `(by, clock[by])`: `by`'s node-wide write sequence
 * number, unique per write. `record === null` is a tombstone (a removal).
 */
export interface Version {
  /** The entry's vector clock after this write: `[node, write sequence]` pairs. */
  readonly clock: VectorClock
  /** The node that wrote it. */
  readonly by: NodeId
  /** The writer's hybrid logical clock at the write: the tie-break between concurrent versions. */
  readonly hlc: HlcTimestamp
  readonly record: AgentRecord | null
}

/**
 * An entry as replicated and stored: the agent id and its maximal versions (normally
 * one; several while concurrent writes have not been superseded), sorted winner first.
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
  /** The winning version's writer, sequence number and HLC timestamp. */
  readonly version: { readonly by: NodeId, readonly seq: number, readonly hlc: HlcTimestamp }
  /** Concurrent versions not yet superseded, beyond the winner (0 normally). */
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
 * receiver may drop what the sender has seen superseded (SPEC.md, "Anti-entropy").
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
  /** Registers an agent, or replaces everything known about it. */
  | { readonly type: 'put', readonly agentId: AgentId, readonly node: NodeId, readonly state: AgentState, readonly capabilities?: readonly Capability[] }
  /** Changes some fields of a registered agent. @throws RegistryAgentNotFoundError */
  | { readonly type: 'update', readonly agentId: AgentId, readonly node?: NodeId, readonly state?: AgentState, readonly capabilities?: readonly Capability[] }
  /** Removes an agent: writes a tombstone. A no-op when no live version is known. */
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
