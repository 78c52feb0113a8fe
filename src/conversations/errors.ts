import { CaxtonError } from '../../protocols/errors.js'

/** No conversation with this id is known to this node (never seen, or forgotten once idle). */
export class ConversationNotFoundError extends CaxtonError {
  constructor (readonly conversationId: string) {
    super('CONVERSATION_NOT_FOUND', `conversation ${conversationId} is not known to this node (never seen here, or forgotten once idle)`)
    this.name = 'ConversationNotFoundError'
  }
}
