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

  /**
   * Counts one answered request and its duration (`seconds`), ~0.6 µs. Label objects, not
   * pre-labelled children: prom-client 15 validates and hashes the labels on every call of
   * a child too, so a Map of children by `method route status` only added its lookup
   * (0.75 against 0.6 µs a call, measured).
   */
  answered (method: string, route: string, status: number, seconds: number): void {
    this.count.inc({ method, route, status: String(status) })
    this.duration.observe({ method, route }, seconds)
  }
}
