/**
 * Durable delivery, the pure part (SPEC.md): the sender's outbox policy (per-pair FIFO,
 * retries with backoff and jitter, a circuit breaker per peer, deadlines), the receiver's
 * ordering and duplicate rules, and the stored records. `src/delivery` runs it on LevelDB
 * and libp2p.
 *
 * @example
 * ```ts
 * const scheduler = new OutboxScheduler({ backoff: { baseMs: 100, factor: 2, capMs: 5000 },
 *   breaker: { threshold: 5, coolDownMs: 2000 }, maxInFlightPerPeer: 1024 }, Math.random)
 * scheduler.add({ order, messageId, sender: 'a', receiver: 'b', deadline: now + 30_000 })
 * const { batches } = scheduler.take(now, receiver => ({ peer: 'QmPeer' }))
 * scheduler.acked(order, 'ok', undefined, now)
 * ```
 */
export { backoffCeiling, backoffDelay, type BackoffConfig } from './backoff.js'
export { CircuitBreaker, type BreakerConfig, type BreakerState } from './breaker.js'
export {
  OutboxScheduler, type AckAnswer, type AckVerdict, type EntryStatus, type GivenUp, type OutboxItem, type PeerDelivery,
  type RouteAnswer, type SchedulerConfig, type Sendable
} from './scheduler.js'
export { admit, DELIVER_FLAGS, MAX_RUN, ORDERS_PER_RUN, OrderCounter, orderKey, parseOrderKey, type Admission } from './order.js'
export {
  DEAD_LETTER_CAUSES, RECORD_VERSION, decodeDeadLetter, decodeInboxRecord, decodeOutboxRecord, decodePairRecord,
  encodeDeadLetter, encodeInboxRecord, encodeOutboxRecord, encodePairRecord,
  type DeadLetterCause, type DeadLetterRecord, type InboxRecord, type OutboxRecord, type PairRecord
} from './records.js'
export { RecordDecodeError } from './errors.js'
export { CLIENT_ID_RANDOM_CHARS, clientIdPrefix, clientTag, clientTagIn, newClientId, senderProblem, type SenderFacts } from './senders.js'
