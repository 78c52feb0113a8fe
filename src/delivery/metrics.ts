/** Durable delivery's Prometheus metrics, `caxton_delivery_*`, registered once per node. */
import { Counter, Gauge, Histogram, type MetricsRegistry } from '../observability/metrics.js'
import type { PeerDelivery } from '../../protocols/delivery/index.js'

export interface DeliveryGauges {
  outboxMessages: () => number
  outboxBytes: () => number
  inboxMessages: () => number
  deadLetters: () => number
  peers: () => PeerDelivery[]
}

/** A counter child with its labels bound once: no label hashing per message. */
interface Child { inc: (value?: number) => void }

export class DeliveryMetrics {
  readonly accepted: Counter<'path'>
  readonly delivered: Counter<'path'>
  readonly retries: Counter<'reason'>
  /** Pre-labelled children of the hot counters. */
  readonly acceptedBy: { inbox: Child, outbox: Child, client: Child }
  readonly deliveredBy: { local: Child, remote: Child }
  readonly duplicates: Counter
  readonly forgedSenders: Counter
  readonly deadLettered: Counter<'cause'>
  readonly deadLettersEvicted: Counter
  readonly handled: Counter
  readonly commitSeconds: Histogram
  readonly commitRows: Histogram

  constructor (registry: MetricsRegistry, gauges: DeliveryGauges) {
    const registers = [registry]
    this.accepted = new Counter({ name: 'caxton_delivery_accepted_total', help: 'Message copies (one per receiver) accepted durably, by path: inbox (a local agent, directly), outbox (to be sent), client (an API client here, in memory)', labelNames: ['path'], registers })
    this.delivered = new Counter({ name: 'caxton_delivery_delivered_total', help: 'Outbox entries delivered (acked by the receiving node, or put in a local inbox), by path: local, remote', labelNames: ['path'], registers })
    this.retries = new Counter({ name: 'caxton_delivery_retries_total', help: 'Outbox entries sent again, by what failed: transport, refused (mailbox-full, not-running, out-of-order), reroute', labelNames: ['reason'], registers })
    this.duplicates = new Counter({ name: 'caxton_delivery_duplicates_total', help: 'Messages from peers acked but not accepted again (already accepted)', registers })
    this.forgedSenders = new Counter({ name: 'caxton_delivery_forged_senders_total', help: 'Messages from peers refused because the peer does not host their sender (nor is it its API client or AMS)', registers })
    this.deadLettered = new Counter({ name: 'caxton_delivery_dead_lettered_total', help: 'Message copies dead-lettered, by cause', labelNames: ['cause'], registers })
    this.deadLettersEvicted = new Counter({ name: 'caxton_delivery_dead_letters_evicted_total', help: 'Dead letters dropped, oldest first, past delivery.deadLetterMax', registers })
    this.handled = new Counter({ name: 'caxton_delivery_handled_total', help: 'Inbox entries removed after their agent handled them', registers })
    this.commitSeconds = new Histogram({ name: 'caxton_delivery_commit_seconds', help: 'Duration of one group commit (LevelDB batch)', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers })
    this.acceptedBy = { inbox: this.accepted.labels({ path: 'inbox' }), outbox: this.accepted.labels({ path: 'outbox' }), client: this.accepted.labels({ path: 'client' }) }
    this.deliveredBy = { local: this.delivered.labels({ path: 'local' }), remote: this.delivered.labels({ path: 'remote' }) }
    this.commitRows = new Histogram({ name: 'caxton_delivery_commit_rows', help: 'Rows written by one group commit', buckets: [1, 4, 16, 64, 256, 1024, 4096, 16384], registers })
    new Gauge({ name: 'caxton_delivery_outbox_messages', help: 'Entries in the outbox (undelivered message copies)', registers, collect () { this.set(gauges.outboxMessages()) } })
    new Gauge({ name: 'caxton_delivery_outbox_bytes', help: 'Bytes of the messages in the outbox', registers, collect () { this.set(gauges.outboxBytes()) } })
    new Gauge({ name: 'caxton_delivery_inbox_messages', help: 'Messages in local agents\' durable inboxes, not yet handled', registers, collect () { this.set(gauges.inboxMessages()) } })
    new Gauge({ name: 'caxton_delivery_dead_letters', help: 'Entries in the dead-letter queue', registers, collect () { this.set(gauges.deadLetters()) } })
    new Gauge({
      name: 'caxton_delivery_breaker_open',
      help: 'Per peer: 1 while its circuit breaker is open or half-open',
      labelNames: ['peer'],
      registers,
      collect () {
        this.reset()
        for (const p of gauges.peers()) this.set({ peer: p.peer }, p.breaker === 'closed' ? 0 : 1)
      }
    })
    new Gauge({
      name: 'caxton_delivery_breaker_trips',
      help: 'Per peer: times its circuit breaker opened',
      labelNames: ['peer'],
      registers,
      collect () {
        this.reset()
        for (const p of gauges.peers()) this.set({ peer: p.peer }, p.trips)
      }
    })
  }
}

/** The FIPA link's metrics (`caxton_fipa_*`). */
export class LinkMetrics {
  readonly sent: Counter
  readonly received: Counter
  readonly ackLatency: Histogram

  constructor (registry: MetricsRegistry) {
    const registers = [registry]
    this.sent = new Counter({ name: 'caxton_fipa_frames_sent_total', help: 'Deliver frames written to peers', registers })
    this.received = new Counter({ name: 'caxton_fipa_frames_received_total', help: 'Deliver frames read from peers', registers })
    this.ackLatency = new Histogram({
      name: 'caxton_fipa_ack_seconds',
      help: 'Time from writing a deliver frame to its ack',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers
    })
  }
}
