/**
 * Agents' durable state on the node: key-value stores (sublevel `agent-kv`), timers
 * (sublevel `timers`, see src/timers) and the capabilities they declared (sublevel
 * `agent-capabilities`), committed with the messages that change them.
 *
 * @example
 * ```ts
 * const state = new AgentStateService({ kvRows: delivery.sublevel('agent-kv'), capabilityRows: delivery.sublevel('agent-capabilities'), timers, kvQuotaBytes: 1 << 20, maxTimers: 1000, write: ops => delivery.write(ops) })
 * await state.load(new Set(storedAgentIds))             // before agents are restored
 * runtimeHost.agentState = id => state.snapshot(id)
 * runtimeHost.onHandled = (id, token, sends, changes) =>
 *   router.handled(id, token, sends, changes === undefined ? undefined : state.commit(id, changes))
 * await state.drop('counter')                           // once the agent is removed
 * ```
 */
export { AgentStateService, type AgentStateOptions } from './service.js'
export { AgentKvRows } from './kv-rows.js'
export { AgentCapabilityRows } from './capability-rows.js'
