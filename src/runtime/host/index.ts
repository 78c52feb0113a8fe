/**
 * The host functions of ABI SPEC.md §6-§9 (time, randomness, the agent's key-value store,
 * timers, capabilities) for one agent instance, and what crosses to the node about them: the state an
 * instance is loaded with and the changes each handled message made.
 *
 * @example
 * ```ts
 * import { AgentHostState } from './runtime/host/index.js'
 *
 * const state = new AgentHostState(snapshot)              // from RuntimeHost.agentState
 * const env = { memory, ...state.imports({ memory: () => memory.buffer, charge }) }
 * // ... handle_message(ptr, len) ...
 * const changes = state.takeChanges()                     // { kv: [[key, value | null]], timers: [...] }
 * ```
 */
export { AgentHostState, DEFAULT_KV_QUOTA_BYTES, DEFAULT_MAX_TIMERS, type AgentHostStateOptions, type InstanceAccess } from './state.js'
export { KvStore, entryBytes } from './kv-store.js'
export { TimerBook } from './timer-book.js'
export { CapabilityBook } from './capability-book.js'
export { readChanges, writeChanges, type AgentStateSnapshot, type StateChanges, type TimerChange } from './changes.js'
export { osRandom, seededRandom, type RandomSource } from './random.js'
