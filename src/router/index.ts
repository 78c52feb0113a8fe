/**
 * The message router: validation, stamping, local delivery, remote delivery over
 * `/caxton/fipa/1.0.0`, FAILURE / NOT-UNDERSTOOD reports, and the recent-message log.
 *
 * @example
 * ```ts
 * const link = new FipaLink({ libp2p, onMessage: (from, m) => router.receiveFromPeer(from, m), ackTimeoutMs: 10_000, maxBatch: 256 })
 * const router = new MessageRouter({ localPeer, runtime, locator, link: { send: (p, m) => link.send(peerIdFromString(p), m) } })
 * await router.sendFromClient({ to: 'echo', draft: { performative: 'REQUEST', content: 'hi' }, waitMs: 5000 })
 * ```
 */
export { MessageRouter, SYSTEM_AGENT, type RouterOptions, type RemoteLink } from './router.js'
export { FipaLink, FIPA_PROTOCOL, type Ack, type FipaLinkOptions } from './fipa-link.js'
export type { AgentLocator } from './locator.js'
export { MessageLog } from './message-log.js'
export { DedupeWindow } from './dedupe.js'
export { encodeBatch, createFrameDecoder } from './framing.js'
export { DeliveryError, ReplyTimeoutError } from './errors.js'
/** Re-exported: the router throws the runtime's error, with a cluster-wide detail. */
export { AgentNotFoundError } from '../runtime/errors.js'
