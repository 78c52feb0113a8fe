/**
 * The runtime's Prometheus metrics, registered on the node's registry when one is given.
 */
import { Counter, Gauge, Histogram, type MetricsRegistry } from '../observability/metrics.js'
import type { AgentState } from './types.js'
import type { FailureKind } from './worker-protocol.js'

export const AGENT_STATES: readonly AgentState[] = ['loaded', 'running', 'draining', 'stopped', 'suspended', 'failed']

export class RuntimeMetrics {
  readonly handled: Counter<'result'>
  readonly failures: Counter<'kind'>
  readonly duration: Histogram
  /** `duration` without labels, made once (an unlabelled `observe` makes a closure per call). */
  readonly handlerSeconds: Histogram.Internal<string>
  readonly restarts: Counter
  readonly deploys: Histogram<'result'>
  readonly metered: Counter<'source'>
  readonly sendsRejected: Counter
  readonly sendsOverBudget: Counter
  readonly suspensions: Counter<'by'>

  constructor (registry: MetricsRegistry, agentsByState: () => Record<AgentState, number>) {
    const registers = [registry]
    this.handled = new Counter({
      name: 'caxton_runtime_messages_handled_total',
      help: 'handle_message calls that returned, by result (ok: status 0; error: any other status)',
      labelNames: ['result'],
      registers
    })
    this.failures = new Counter({
      name: 'caxton_runtime_message_failures_total',
      help: 'Messages an agent failed on, by kind (status: non-zero return; trap, fuel, memory, abort, stack, timeout, crash, host: the agent was stopped)',
      labelNames: ['kind'],
      registers
    })
    this.duration = new Histogram({
      name: 'caxton_runtime_handler_duration_seconds',
      help: 'Time in one handle_message call (alloc and copy included), seconds',
      buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers
    })
    this.handlerSeconds = this.duration.labels()
    this.restarts = new Counter({
      name: 'caxton_runtime_agent_restarts_total',
      help: 'Agents restarted from their module (state lost) because their worker was terminated',
      registers
    })
    this.deploys = new Histogram({
      name: 'caxton_runtime_deploy_duration_seconds',
      help: 'Time to deploy an agent (policy check, fuel pass, compile, instantiate), seconds, by result',
      labelNames: ['result'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers
    })
    this.metered = new Counter({
      name: 'caxton_runtime_modules_metered_total',
      help: 'Modules made ready to run, by where their metered form came from (policy: checked and metered by the policy worker; kept: read back from the node\'s database, metered by this build before)',
      labelNames: ['source'],
      registers
    })
    this.sendsRejected = new Counter({
      name: 'caxton_runtime_sends_rejected_total',
      help: 'env.send calls refused (malformed, too large, over the per-message quota)',
      registers
    })
    this.sendsOverBudget = new Counter({
      name: 'caxton_runtime_sends_over_budget_total',
      help: 'env.send calls refused because the agent was over its send budget (messages or bytes per second)',
      registers
    })
    this.suspensions = new Counter({
      name: 'caxton_runtime_agent_suspensions_total',
      help: 'Agents suspended, by who suspended them (budget: over the send budget past the grace period; operator)',
      labelNames: ['by'],
      registers
    })
    new Gauge({
      name: 'caxton_runtime_agents',
      help: 'Agents on this runtime, by lifecycle state',
      labelNames: ['state'],
      registers,
      collect () {
        const counts = agentsByState()
        for (const state of AGENT_STATES) this.set({ state }, counts[state])
      }
    })
  }

  failure (kind: FailureKind | 'status'): void {
    this.failures.inc({ kind })
  }

  /** Counts `ok` and `error` handled messages at once; the errors are failures of kind `status`. */
  countHandled (ok: number, error: number): void {
    if (ok > 0) this.handled.inc({ result: 'ok' }, ok)
    if (error > 0) {
      this.handled.inc({ result: 'error' }, error)
      this.failures.inc({ kind: 'status' }, error)
    }
  }
}
