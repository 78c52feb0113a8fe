/**
 * Prometheus metrics of the cluster registry (`caxton_registry_*`), read when scraped from
 * the replica's counters (`ReplicaStats`), its size, and the sync policy's counters
 * (`SyncPolicyStats`): nothing is counted twice and the hot path pays nothing.
 */
import type { SyncPolicyStats } from '../../protocols/registry/index.js'
import { Counter, Gauge, type MetricsRegistry } from '../observability/metrics.js'
import type { ReplicaStats } from './replica.js'

/** What the metrics read (each zero, or undefined, before the registry starts). */
export interface RegistryMetricsSource {
  /** The replica's counters since it was loaded. */
  stats: () => ReplicaStats | undefined
  /** The sync policy's counters since the registry started. */
  policy: () => SyncPolicyStats | undefined
  /** Live agents, entries held (tombstones included), and tombstones. */
  size: () => { agents: number, entries: number, tombstones: number }
  /** Anti-entropy exchanges running now, started and answered. */
  activeSyncs: () => number
}

/** Labelled counters: name, help, label, and the counter each label value mirrors. */
const STATS_COUNTERS: Array<[string, string, string, Record<string, keyof ReplicaStats>]> = [
  ['gossip_bytes_total', 'Registry gossip message bytes (payload), by direction', 'direction', { sent: 'gossipBytesSent', received: 'gossipBytesReceived' }],
  ['deltas_total', 'Registry deltas published and merged from gossip, by direction', 'direction', { sent: 'deltasSent', received: 'deltasReceived' }],
  ['acks_total', 'Tombstone acknowledgements published and received, by direction', 'direction', { sent: 'acksSent', received: 'acksReceived' }],
  ['sync_bytes_total', 'Anti-entropy frame bytes, by direction', 'direction', { sent: 'syncBytesSent', received: 'syncBytesReceived' }],
  ['sync_entries_total', 'Entries carried by anti-entropy frames, by direction', 'direction', { sent: 'syncEntriesSent', received: 'syncEntriesReceived' }],
  ['sync_rounds_total', 'Anti-entropy exchanges, by role (initiated, answered) and failures', 'outcome', { initiated: 'syncInitiated', answered: 'syncAnswered', failed: 'syncFailed' }],
  ['versions_merged_total', 'Versions received, by outcome (accepted, stale, pruned, rejected: a signature that does not verify or a future timestamp)', 'outcome', { accepted: 'versionsAccepted', stale: 'versionsStale', pruned: 'versionsPruned', rejected: 'versionsRejected' }]
]

/** Unlabelled counters: name, help, and how to read the number from the source. */
const COUNTERS: Array<[string, string, (s: RegistryMetricsSource) => number | undefined]> = [
  ['tombstones_collected_total', 'Tombstones collected', s => s.stats()?.tombstonesCollected],
  ['gossip_rejected_total', 'Registry gossip messages rejected: undecodable, carrying another node\'s writes, or a forged signature', s => s.stats()?.gossipRejected],
  ['gossip_ignored_total', 'Registry gossip messages ignored: published by a non-member, or timestamped too far in the future', s => s.stats()?.gossipIgnored],
  ['signatures_verified_total', 'Signatures of received registry versions checked', s => s.stats()?.signaturesVerified],
  ['sync_refused_total', 'Anti-entropy exchanges not started or not answered because maxConcurrentSyncs were running', s => s.policy()?.refusedAtCap],
  ['sync_refused_non_members_total', 'Anti-entropy exchanges not answered because the peer is not a live member', s => s.policy()?.refusedNonMembers],
  ['connect_sync_retries_total', 'Retries of a (re)connection\'s anti-entropy exchange after a failure or a refusal', s => s.policy()?.connectRetries]
]

const SIZE_GAUGES: Array<[string, string, 'agents' | 'entries' | 'tombstones']> = [
  ['agents', 'Live agents in this node\'s registry replica', 'agents'],
  ['entries', 'Registry entries held, tombstones included', 'entries'],
  ['tombstones', 'Registry entries that are tombstones awaiting collection', 'tombstones']
]

/** Registers the registry's metrics on a node's metrics registry. */
export function registerRegistryMetrics (registry: MetricsRegistry, source: RegistryMetricsSource): void {
  for (const [suffix, help, key] of SIZE_GAUGES) {
    new Gauge({
      name: `caxton_registry_${suffix}`,
      help,
      registers: [registry],
      collect () { this.set(source.size()[key]) }
    })
  }
  new Gauge({
    name: 'caxton_registry_syncs_active',
    help: 'Anti-entropy exchanges running now, started and answered',
    registers: [registry],
    collect () { this.set(source.activeSyncs()) }
  })
  for (const [suffix, help, label, values] of STATS_COUNTERS) {
    new Counter({
      name: `caxton_registry_${suffix}`,
      help,
      labelNames: [label],
      registers: [registry],
      collect () {
        const stats = source.stats()
        this.reset()
        for (const [value, key] of Object.entries(values)) this.inc({ [label]: value }, stats?.[key] ?? 0)
      }
    })
  }
  for (const [suffix, help, read] of COUNTERS) {
    new Counter({
      name: `caxton_registry_${suffix}`,
      help,
      registers: [registry],
      collect () {
        this.reset()
        this.inc(read(source) ?? 0)
      }
    })
  }
}
