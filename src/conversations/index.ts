/**
 * Conversations on this node: participants, protocol, last activity, awaited replies
 * (`reply-by` enforced with FAILURE), persisted with the messages that change them.
 *
 * @example
 * ```ts
 * const conversations = new ConversationService({ rows: storage.sublevel('conversations'), idleMs: 1_800_000, isLocal, accept, newId, limits })
 * await conversations.load()
 * conversations.start()
 * conversations.get('c-1')   // { id, initiator, participants, protocol, startedAt, lastActivity, messages, awaiting }
 * ```
 */
export { ConversationService, FLUSH_BATCH, MINTED_GENERATION, type ConversationServiceOptions } from './service.js'
export { ConversationNotFoundError } from './errors.js'
