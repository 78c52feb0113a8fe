/**
 * The message router: validation and stamping of what clients and agents send,
 * NOT-UNDERSTOOD for what is malformed; everything else goes to durable delivery
 * (src/delivery) through {@link MessageSink}.
 *
 * @example
 * ```ts
 * const router = new MessageRouter({ localPeer, runtime, locator, sink: delivery, clients: sessions })
 * const message = await router.prepareFromClient('echo', { performative: 'REQUEST', content: 'hi' })
 * await router.submit(message)   // durable once this resolves
 * ```
 */
export { MessageRouter, SYSTEM_AGENT, type ClientRegistry, type MessageSink, type RouterOptions } from './router.js'
export type { AgentLocator } from './locator.js'
export { RandomPool } from './random-pool.js'
/** Re-exported: the router throws the runtime's error, with a cluster-wide detail. */
export { AgentNotFoundError } from '../runtime/errors.js'
