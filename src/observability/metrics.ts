/**
 * Prometheus metrics (prom-client). Each node owns one registry (never prom-client's
 * global one, so several nodes can live in one process under test); components receive
 * it and register metrics named `caxton_<area>_<what>_<unit>`.
 */
import { Registry as MetricsRegistry, collectDefaultMetrics } from 'prom-client'

/** prom-client's registry, named apart from the cluster registry (the CRDT). */
export { MetricsRegistry }
export { Counter, Gauge, Histogram } from 'prom-client'

/** A node's registry; with `processMetrics`, also Node's process and event-loop metrics. */
export function createMetricsRegistry (options: { processMetrics?: boolean } = {}): MetricsRegistry {
  const registry = new MetricsRegistry()
  if (options.processMetrics === true) {
    collectDefaultMetrics({ register: registry, prefix: 'caxton_' })
  }
  return registry
}
