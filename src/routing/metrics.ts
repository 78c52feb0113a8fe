/** Agent resolution's Prometheus metrics (`caxton_routing_*`), registered once per node. */
import { Counter, type MetricsRegistry } from '../observability/metrics.js'

export class RoutingMetrics {
  readonly provides: Counter<'outcome'>
  readonly lookups: Counter<'outcome'>

  constructor (registry: MetricsRegistry) {
    this.provides = new Counter({ name: 'caxton_routing_dht_provides_total', help: 'kad-dht provider records published, by outcome', labelNames: ['outcome'], registers: [registry] })
    this.lookups = new Counter({ name: 'caxton_routing_dht_lookups_total', help: 'kad-dht provider lookups, by outcome (found, none)', labelNames: ['outcome'], registers: [registry] })
  }
}
