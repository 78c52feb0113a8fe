/**
 * Durable delivery (protocols/delivery/SPEC.md): the outbox, the agents' durable inboxes,
 * retries with backoff, circuit breakers, dead letters and message status, on the node's
 * LevelDB and the `/caxton/fipa/2.0.0` link.
 *
 * @example
 * ```ts
 * const link = new FipaLink({ libp2p, ackTimeoutMs: 10_000 })
 * const delivery = new DeliveryService({ self, storage, runtime, clients, routes, health, link, config, limits, newId })
 * await delivery.open()           // outbox and dead letters loaded
 * await delivery.restoreInbox()   // after agents are restored
 * await delivery.start()
 * await delivery.accept([message])  // durable once this resolves
 * ```
 */
export { DeliveryService, type DeliveryServiceOptions } from './service.js'
export { FipaLink, FIPA_PROTOCOL, type Ack, type FipaLinkOptions, type LinkHandlers, type OutgoingEntry } from './link.js'
export { GroupCommit, type GroupCommitOptions } from './commit.js'
export { DeadLetterQueue, type DeadLetterQuery } from './dead-letters.js'
export { MessageLog } from './message-log.js'
export { DeadLetterNotFoundError, MessageNotFoundError, OutboxFullError } from './errors.js'
export { Alarm } from './alarm.js'
export type {
  AgentRoutes, DeliveryConfig, DeliveryState, HandledEntry, LocalClients, MessageRecord, MessageStatus, PeerHealth, ReceiverStatus
} from './types.js'
