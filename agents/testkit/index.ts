/**
 * The Caxton agent test kit: runs a `.wasm` agent in process, with a host whose clock,
 * random source, key-value store, capabilities and outgoing messages the test controls. Deliver a
 * message, move the clock, then assert what the agent sent and stored. The module goes
 * through the node's own sandbox check and fuel metering, and the store, clock and timer
 * functions are the node's own code (src/runtime/host).
 *
 * @example
 * ```ts
 * import { TestAgent } from '../../testkit/index.js'
 *
 * const counter = await TestAgent.fromSource(new URL('./index.ts', import.meta.url))
 * assert.equal(counter.request('add 42').sent[0].content, '42')
 * assert.equal(counter.kv.getI64('count'), 42n)
 * counter.restart()                                  // as after a node restart
 * assert.equal(counter.request('increment').sent[0].content, '43')
 *
 * const scheduler = await TestAgent.fromFile('dist/agents/scheduler.wasm')
 * scheduler.request('in 1000 tea')                   // AGREE, timer set
 * const [fired] = scheduler.advance(1000)            // the timer's message is handled
 * assert.equal(fired.sent[0].content, 'tea')
 * ```
 */
export { TestAgent, closeTestKit, type TestAgentOptions, type Handled, type PendingTimer } from './test-agent.js'
