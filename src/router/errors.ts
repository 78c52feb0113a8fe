import { CaxtonError } from '../../protocols/errors.js'

/** A message could not be handed to the peer that hosts its receiver. */
export class DeliveryError extends CaxtonError {
  readonly peer: string
  /** `timeout`, `unreachable`, `closed`, or the peer's negative ack status. */
  readonly reason: string
  constructor (peer: string, reason: string, detail: string, options?: { cause?: unknown }) {
    super('DELIVERY_FAILED', `delivery to node ${peer} failed (${reason}): ${detail}`, options)
    this.name = 'DeliveryError'
    this.peer = peer
    this.reason = reason
  }
}

/** `waitMs` passed without a reply in the conversation. */
export class ReplyTimeoutError extends CaxtonError {
  readonly messageId: string
  readonly conversationId: string
  readonly waitMs: number
  constructor (messageId: string, conversationId: string, waitMs: number) {
    super('REPLY_TIMEOUT', `no reply to message ${messageId} (conversation ${conversationId}) within ${waitMs} ms`)
    this.name = 'ReplyTimeoutError'
    this.messageId = messageId
    this.conversationId = conversationId
    this.waitMs = waitMs
  }
}
