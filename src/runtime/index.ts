/**
 * The WebAssembly agent runtime: sandboxed agents (protocols/agent-abi/SPEC.md) in a pool
 * of worker threads, each with host-owned, capped linear memory and a fuel budget per
 * message; a bounded mailbox per agent; policy checks with binaryen on deploy.
 *
 * @example
 * ```ts
 * import { createAgentRuntime } from './runtime/index.js'
 *
 * const runtime = createAgentRuntime({
 *   host: {
 *     onAgentSend: (agentId, outbound) => router.sendFromAgent(agentId, outbound),
 *     onAgentLog: (agentId, level, text) => log[level]({ agentId }, text),
 *     onAgentFailed: (agentId, reason) => log.warn({ agentId, reason }, 'agent failed')
 *   },
 *   logger, metrics, defaults: { maxMemoryPages: 64 }
 * })
 * await runtime.start()
 * await runtime.deploy('echo', wasmBytes)          // InvalidModuleError { reason } if it breaks the policy
 * runtime.deliver('echo', message)                 // 'queued' | 'mailbox-full' | 'no-such-agent' | 'not-running'
 * await runtime.stop()                             // drains mailboxes, then terminates workers
 * ```
 */
import { WasmAgentRuntime, type AgentRuntimeOptions } from './agent-runtime.js'
import type { AgentRuntime } from './types.js'

export type * from './types.js'
export type { AgentRuntimeOptions } from './agent-runtime.js'
export { DEFAULT_AGENT_LIMITS, resolveLimits, pickLimits, MAX_FUEL_PER_MESSAGE, MAX_MEMORY_PAGES } from './limits.js'
export { policyWarmUpModule } from './policy-warm-up.js'
export {
  InvalidModuleError, AgentExistsError, AgentNotFoundError, AgentStateError, InvalidAgentIdError, InvalidLimitsError,
  RuntimeNotRunningError
} from './errors.js'
export { WasmAgentRuntime }

/**
 * Creates the agent runtime. Nothing runs until `start()`; binaryen (for the policy
 * check) is loaded in its own worker on the first `deploy` or `inspect`.
 * @throws InvalidLimitsError when `defaults` are out of range
 */
export function createAgentRuntime (options: AgentRuntimeOptions): AgentRuntime {
  return new WasmAgentRuntime(options)
}
