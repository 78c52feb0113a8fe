/**
 * Agents' timers (ABI SPEC.md §8) on the node: persisted in sublevel `timers`, fired at
 * their due time through the node's accept path as a message from the agent to itself,
 * once, across restarts; cancellable.
 *
 * @example
 * ```ts
 * const timers = new TimerService({
 *   rows: delivery.sublevel('timers'),
 *   accept: async (messages, ops) => { await delivery.accept(messages, ops) },
 *   limits, newId: randomUUID
 * })
 * await timers.load(id => stored.has(id))     // before agents are restored
 * const ops = timers.apply('scheduler', changes.timers)   // written with the handled message
 * timers.start()                              // once delivery runs
 * ```
 */
export { TimerService, type TimerServiceOptions } from './timer-service.js'
export type { TimerRecord } from './records.js'
