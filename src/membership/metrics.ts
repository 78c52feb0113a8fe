/**
 * Prometheus metrics of membership (`caxton_membership_*`), read from the protocol's own
 * counters (`SwimNode.metrics`, SPEC.md §9) when scraped: nothing is counted twice and
 * the hot path pays nothing.
 */
import type { MemberState, SwimMetrics } from '../../protocols/swim/index.js'
import { Counter, Gauge, type MetricsRegistry } from '../observability/metrics.js'

/** What the metrics read. */
export interface MembershipMetricsSource {
  /** The protocol's counters, or undefined before start. */
  counters: () => SwimMetrics | undefined
  /** Members by state, this node included (it counts as alive). */
  countByState: () => Record<MemberState, number>
  healthScore: () => number
  incarnation: () => number
  /** The last event-loop delay reported to the protocol, ms. */
  loadMs: () => number
  /** Frames the transport dropped (unreachable member, full queue). */
  framesDropped: () => number
}

/** Exported counters: metric suffix, help, and the protocol counter it mirrors. */
const COUNTERS: Array<[string, string, keyof SwimMetrics]> = [
  ['probes_total', 'Probes started (SWIM §3.1)', 'probes'],
  ['probes_failed_total', 'Probes that got no ack, direct or indirect', 'probesFailed'],
  ['ping_reqs_total', 'Indirect probes requested (ping-req frames sent)', 'pingReqs'],
  ['ping_reqs_served_total', 'Indirect probes served for other members', 'pingReqsServed'],
  ['nacks_sent_total', 'Nacks sent for indirect probes whose target stayed silent (Lifeguard §IV-A)', 'nacksSent'],
  ['nacks_received_total', 'Nacks received from helpers', 'nacksReceived'],
  ['late_acks_total', 'Acks that arrived after the probe timeout', 'lateAcks'],
  ['suspicions_total', 'Members this node began to suspect after its own failed probe', 'suspicions'],
  ['refutations_total', 'Suspicions or death claims about this node that it refuted (SWIM §4.2)', 'refutations'],
  ['false_suspicions_total', 'Suspicions raised by this node that the member refuted', 'falseSuspicions'],
  ['deaths_total', 'Members this node marked dead (its own suspicion timeout, or gossip)', 'deaths'],
  ['push_pulls_total', 'Full-state push-pull exchanges started or answered', 'pushPulls'],
  ['gossip_frames_total', 'Gossip frames sent', 'gossipFrames'],
  ['frames_sent_total', 'SWIM frames sent', 'messagesSent'],
  ['frames_received_total', 'SWIM frames received', 'messagesReceived'],
  ['sent_bytes_total', 'SWIM frame bytes sent', 'bytesSent'],
  ['received_bytes_total', 'SWIM frame bytes received', 'bytesReceived'],
  ['decode_errors_total', 'Frames rejected by the decoder', 'decodeErrors'],
  ['claims_rejected_total', 'Claims about members not obeyed: a non-member speaking for others, at the largest incarnation or too far ahead', 'claimsRejected']
]

/** Registers the membership metrics on a node's registry. */
export function registerMembershipMetrics (registry: MetricsRegistry, source: MembershipMetricsSource): void {
  for (const [suffix, help, key] of COUNTERS) {
    new Counter({
      name: `caxton_membership_${suffix}`,
      help,
      registers: [registry],
      collect () {
        const value = source.counters()?.[key] ?? 0
        this.reset()
        this.inc(value)
      }
    })
  }
  new Counter({
    name: 'caxton_membership_frames_dropped_total',
    help: 'SWIM frames dropped by the transport (member unreachable, queue full)',
    registers: [registry],
    collect () {
      this.reset()
      this.inc(source.framesDropped())
    }
  })
  new Gauge({
    name: 'caxton_membership_members',
    help: 'Members this node knows, by state (itself included, as alive)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect () {
      for (const [state, n] of Object.entries(source.countByState())) this.set({ state }, n)
    }
  })
  new Gauge({
    name: 'caxton_membership_health_score',
    help: 'Local health score (Lifeguard §IV-A): 0 healthy; timeouts are stretched by score + 1',
    registers: [registry],
    collect () { this.set(source.healthScore()) }
  })
  new Gauge({
    name: 'caxton_membership_incarnation',
    help: "This node's incarnation number (raised to refute suspicions)",
    registers: [registry],
    collect () { this.set(source.incarnation()) }
  })
  new Gauge({
    name: 'caxton_membership_event_loop_delay_seconds',
    help: 'The event-loop delay last fed to the local health score, seconds',
    registers: [registry],
    collect () { this.set(source.loadMs() / 1000) }
  })
}
