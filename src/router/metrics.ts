/** The router's Prometheus metrics, registered once per node. */
import { Counter, type MetricsRegistry } from '../observability/metrics.js'

export class RouterMetrics {
  /** Validated and handed to delivery. */
  readonly accepted: { inc: (value?: number) => void }
  /** Malformed: answered with NOT-UNDERSTOOD. */
  readonly rejected: { inc: (value?: number) => void }

  constructor (registry: MetricsRegistry) {
    const routed = new Counter({
      name: 'caxton_router_messages_total',
      help: 'Messages the router took in, by outcome: accepted (validated and handed to delivery), rejected (malformed: NOT-UNDERSTOOD)',
      labelNames: ['outcome'],
      registers: [registry]
    })
    // Pre-labelled children: no label hashing per message.
    this.accepted = routed.labels({ outcome: 'accepted' })
    this.rejected = routed.labels({ outcome: 'rejected' })
  }
}
