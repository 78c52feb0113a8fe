import { CaxtonError } from '../../protocols/errors.js'

/** The node's outbox holds as many undelivered messages (or bytes) as it may: try later. */
export class OutboxFullError extends CaxtonError {
  constructor (readonly detail: string, readonly retryAfterMs: number) {
    super('OUTBOX_FULL', `the outbox is full (${detail}); retry in ${Math.ceil(retryAfterMs / 1000)} s`)
    this.name = 'OutboxFullError'
  }
}

/** No dead-letter entry with this id on this node. */
export class DeadLetterNotFoundError extends CaxtonError {
  constructor (readonly id: string) {
    super('DEAD_LETTER_NOT_FOUND', `no dead letter ${id} on this node`)
    this.name = 'DeadLetterNotFoundError'
  }
}

/** No message with this id is known to this node. */
export class MessageNotFoundError extends CaxtonError {
  constructor (readonly messageId: string) {
    super('MESSAGE_NOT_FOUND', `message ${messageId} is not known to this node (sent, received or dead-lettered here, and still remembered)`)
    this.name = 'MessageNotFoundError'
  }
}
