/**
 * Prometheus metrics (prom-client). Each node owns one registry (never prom-client's
 * global one, so several nodes can live in one process under test); components receive
 * it and register metrics named `caxton_<area>_<what>_<unit>`.
 */
import { Registry, collectDefaultMetrics } from 'prom-client'

export { Registry }
export { Counter, Gauge, Histogram } from 'prom-client'

/** A node's registry; with `processMetrics`, also Node's process and event-loop metrics. */
export function createMetricsRegistry (options: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry()
  if (options.processMetrics === true) {
    collectDefaultMetrics({ register: registry, prefix: 'caxton_' })
  }
  return registry
}
