/** The REST API's Prometheus metrics (`caxton_api_*`), registered once per server. */
import { Counter, Histogram, type MetricsRegistry } from '../observability/metrics.js'

/** The two series one kind of answer (method, route pattern, status) updates. */
interface Series {
  count: { inc: () => void }
  duration: { observe: (seconds: number) => void }
}

export class ApiMetrics {
  readonly count: Counter<'method' | 'route' | 'status'>
  readonly duration: Histogram<'method' | 'route'>
  /**
   * Pre-labelled children by `method route status`: prom-client checks and hashes a label
   * object on every `inc(labels)`; a child skips both. Bounded: methods, route patterns
   * and statuses are each a small set.
   */
  private readonly series = new Map<string, Series>()

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

  /** Counts one answered request and its duration (`seconds`). */
  answered (method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`
    let s = this.series.get(key)
    if (s === undefined) {
      s = { count: this.count.labels(method, route, String(status)), duration: this.duration.labels(method, route) }
      this.series.set(key, s)
    }
    s.count.inc()
    s.duration.observe(seconds)
  }
}
