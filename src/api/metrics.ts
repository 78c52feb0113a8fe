/** The REST API's Prometheus metrics (`caxton_api_*`), registered once per server. */
import { Counter, Histogram, type MetricsRegistry } from '../observability/metrics.js'

export class ApiMetrics {
  readonly count: Counter<'method' | 'route' | 'status'>
  readonly duration: Histogram<'method' | 'route'>

  constructor (registry: MetricsRegistry) {
    this.count = new Counter({
      name: 'caxton_api_requests_total',
      help: 'REST API requests answered, by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry]
    })
    this.duration = new Histogram({
      name: 'caxton_api_request_duration_seconds',
      help: 'Time to answer a REST API request, seconds',
      labelNames: ['method', 'route'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 300],
      registers: [registry]
    })
  }
}
