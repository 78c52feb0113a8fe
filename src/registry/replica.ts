/**
 * The registry replica's protocol logic, sans-I/O: what a node does with a local
 * operation, a gossip message, a tombstone-collection round and an anti-entropy exchange,
 * expressed as "persist this batch, then publish/send these bytes". The node's service
 * (`ClusterRegistry`, over libp2p and LevelDB) and the simulator (`sim/registry/`, over
 * the simulated network) both drive this class, so the simulator measures the code the
 * node runs.
 */
import {
  decodeGossip, encodeGossip, RegistryDecodeError,
  type AgentChange, type GcUpdate, type MergeUpdate, type NodeId, type Registry, type RegistryBatch, type RegistryOp
} from '../../protocols/registry/index.js'
import { SyncInitiator, SyncResponder, type SyncTally } from './session.js'

/** Counters of a replica since it was created (plain numbers: the service exports them as metrics). */
export interface ReplicaStats {
  /** Gossip deltas published / merged from peers. */
  deltasSent: number
  deltasReceived: number
  /** Gossip acknowledgements published / received. */
  acksSent: number
  acksReceived: number
  /** Gossip message bytes published / received (the message payload, without gossipsub's envelope). */
  gossipBytesSent: number
  gossipBytesReceived: number
  /**
   * Gossip messages refused: undecodable, a delta carrying versions not written by its
   * publisher, or a version whose signature does not verify.
   */
  gossipRejected: number
  /** Gossip messages ignored: published by a node that is not a live member, or carrying a version from the future. */
  gossipIgnored: number
  /** Anti-entropy exchanges started / answered / broken off. */
  syncInitiated: number
  syncAnswered: number
  syncFailed: number
  /** Anti-entropy frame bytes and entries sent / received. */
  syncBytesSent: number
  syncBytesReceived: number
  syncEntriesSent: number
  syncEntriesReceived: number
  /** Versions merged: new and kept / already superseded / local ones dropped / refused (bad signature, future timestamp). */
  versionsAccepted: number
  versionsStale: number
  versionsPruned: number
  versionsRejected: number
  /** Signatures checked on versions received. */
  signaturesVerified: number
  /** Tombstones collected. */
  tombstonesCollected: number
}

/** All counters at zero. */
export function zeroStats (): ReplicaStats {
  return {
    deltasSent: 0, deltasReceived: 0, acksSent: 0, acksReceived: 0, gossipBytesSent: 0, gossipBytesReceived: 0, gossipRejected: 0, gossipIgnored: 0,
    syncInitiated: 0, syncAnswered: 0, syncFailed: 0, syncBytesSent: 0, syncBytesReceived: 0, syncEntriesSent: 0, syncEntriesReceived: 0,
    versionsAccepted: 0, versionsStale: 0, versionsPruned: 0, versionsRejected: 0, signaturesVerified: 0, tombstonesCollected: 0
  }
}

/** What to do after a step: persist `batch`, then publish each of `publish` on `caxton/registry/2`. */
export interface ReplicaOutcome {
  readonly batch: RegistryBatch
  readonly publish: readonly Uint8Array[]
  readonly changes: readonly AgentChange[]
}

/**
 * What to tell gossipsub about a message (its topic validator's answer): `accept`
 * (deliver and forward), `ignore` (drop, the sender is not at fault), `reject` (drop
 * and penalise the peer that sent it: it forwarded something no honest node publishes).
 */
export type GossipVerdict = 'accept' | 'ignore' | 'reject'

/** A gossip message handled: the verdict, why (when not accepted), and what to persist and publish. */
export interface GossipOutcome extends ReplicaOutcome {
  readonly verdict: GossipVerdict
  readonly reason?: string
}

export class RegistryReplica {
  readonly stats: ReplicaStats = zeroStats()

  constructor (readonly registry: Registry) {}

  get nodeId (): NodeId {
    return this.registry.nodeId
  }

  /**
   * A local lifecycle change (deploy, state change, removal) at `now` (ms since the
   * epoch): the batch and the delta to publish once it is written.
   * @throws InvalidRegistryOpError, RegistryAgentNotFoundError (protocols/registry)
   */
  local (op: RegistryOp, now: number): ReplicaOutcome {
    const u = this.registry.apply(op, now)
    const publish: Uint8Array[] = []
    if (u.delta !== undefined) {
      const bytes = encodeGossip({ type: 'delta', delta: u.delta })
      publish.push(bytes)
      this.stats.deltasSent++
      this.stats.gossipBytesSent += bytes.byteLength
    }
    return { batch: u.batch, publish, changes: u.changes }
  }

  /**
   * A message of `caxton/registry/2` from `from` (gossipsub's signed publisher): a delta
   * is merged (and an ack of the tombstones it created is to be published), an ack is
   * recorded. Rejected, nothing merged: bytes that do not decode, a delta with a version
   * `from` did not write or with a context (a node publishes only its own writes, as its
   * local operations return them). A version whose signature does not verify is not
   * merged and the message is rejected; one from the future is not merged and the
   * message ignored (its writer's clock may be ahead).
   */
  receiveGossip (from: NodeId, bytes: Uint8Array, now: number): GossipOutcome {
    if (from === this.nodeId) return { ...NOTHING, verdict: 'ignore', reason: 'published by this node' }
    let msg
    try {
      msg = decodeGossip(bytes)
    } catch (err) {
      if (!(err instanceof RegistryDecodeError)) throw err
      return this.refuse(err.message)
    }
    this.stats.gossipBytesReceived += bytes.byteLength
    if (msg.type === 'ack') {
      this.stats.acksReceived++
      this.registry.acknowledge(from, msg.ack)
      return { ...NOTHING, verdict: 'accept' }
    }
    // a gossip delta is what a local write returns: the publisher's own versions, no context
    if (msg.delta.context !== undefined || msg.delta.complete !== undefined) return this.refuse(`a gossip delta from ${from} carries a context`)
    for (const e of msg.delta.entries) {
      const other = e.versions.find(v => v.by !== from)
      if (other !== undefined) return this.refuse(`a delta from ${from} carries a version written by ${other.by}`)
    }
    this.stats.deltasReceived++
    const m = this.registry.merge(msg.delta, { now, from })
    this.countMerge(m)
    const out = { batch: m.batch, publish: this.ackFor(m), changes: m.changes }
    const forged = m.rejected.find(r => r.reason === 'signature')
    if (forged !== undefined) {
      this.stats.gossipRejected++
      return { ...out, verdict: 'reject', reason: `the signature of ${forged.agentId} by ${forged.by} (write ${forged.seq}) does not verify` }
    }
    if (m.rejected.length > 0) {
      this.stats.gossipIgnored++
      return { ...out, verdict: 'ignore', reason: 'a version is timestamped too far in the future' }
    }
    return { ...out, verdict: 'accept' }
  }

  private refuse (reason: string): GossipOutcome {
    this.stats.gossipRejected++
    return { ...NOTHING, verdict: 'reject', reason }
  }

  /** A session to start an anti-entropy exchange with `peer`. */
  initiate (peer: NodeId): SyncInitiator {
    this.stats.syncInitiated++
    return new SyncInitiator(this.registry, peer)
  }

  /** A session to answer an exchange `peer` started. */
  answer (peer: NodeId): SyncResponder {
    this.stats.syncAnswered++
    return new SyncResponder(this.registry, peer)
  }

  /** Counts a finished (or broken) exchange; returns the acks to publish for tombstones its merge created. */
  settle (tally: SyncTally, merge: MergeUpdate | undefined, failed = false): Uint8Array[] {
    this.stats.syncBytesSent += tally.bytesSent
    this.stats.syncBytesReceived += tally.bytesReceived
    this.stats.syncEntriesSent += tally.entriesSent
    this.stats.syncEntriesReceived += tally.entriesReceived
    if (failed) this.stats.syncFailed++
    if (merge === undefined) return []
    this.countMerge(merge)
    return this.ackFor(merge)
  }

  /**
   * A maintenance round (SPEC §5): the ack of every tombstone held (published so peers
   * can collect), then collection of the tombstones every live member acknowledged (or
   * older than the TTL). `others`: the live members besides this node.
   *
   * With no other live member, "every live member acknowledged" would hold vacuously: a
   * node just restarted (acks are not persisted) or cut off would collect every tombstone
   * at once. Alone, a replica therefore collects only at the TTL.
   */
  maintain (now: number, others: Iterable<NodeId>): ReplicaOutcome & { collected: GcUpdate['collected'] } {
    const publish: Uint8Array[] = []
    const ack = this.registry.tombstoneAck()
    if (ack.tombstones.length > 0) publish.push(this.encodeAck(ack))
    const members = [this.nodeId, ...others]
    if (members.length === 1) members.push(NO_OTHER_MEMBER)
    const gc = this.registry.collectGarbage({ now, members })
    this.stats.tombstonesCollected += gc.collected.length
    return { batch: gc.batch, publish, changes: [], collected: gc.collected }
  }

  /** Marks a member's agents unreachable (dead, left) or reachable again. Local only. */
  setReachable (node: NodeId, reachable: boolean): AgentChange[] {
    return this.registry.setNodeReachable(node, reachable)
  }

  private ackFor (m: MergeUpdate): Uint8Array[] {
    return m.newTombstones.length === 0 ? [] : [this.encodeAck({ tombstones: m.newTombstones })]
  }

  private encodeAck (ack: Parameters<Registry['acknowledge']>[1]): Uint8Array {
    const bytes = encodeGossip({ type: 'ack', ack })
    this.stats.acksSent++
    this.stats.gossipBytesSent += bytes.byteLength
    return bytes
  }

  private countMerge (m: MergeUpdate): void {
    this.stats.versionsAccepted += m.accepted
    this.stats.versionsStale += m.stale
    this.stats.versionsPruned += m.pruned
    this.stats.versionsRejected += m.rejected.length
    this.stats.signaturesVerified += m.verified
    this.stats.tombstonesCollected += m.collected
  }
}

/** Stands for the members a lone replica cannot hear from: it never acknowledges anything. */
const NO_OTHER_MEMBER = '(no other live member)'

const EMPTY_BATCH: RegistryBatch = Object.freeze({ put: [], delete: [], knowledge: [] })
const NOTHING: ReplicaOutcome = Object.freeze({ batch: EMPTY_BATCH, publish: [], changes: [] })
