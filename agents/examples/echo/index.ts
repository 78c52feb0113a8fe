/**
 * Echo: answers REQUEST with INFORM carrying the same content (text stays text, bytes
 * stay bytes), in the same conversation, in-reply-to set. Anything else gets
 * NOT-UNDERSTOOD.
 */
import { Message, Performative, onMessage, reply, replyWithContent } from '../../sdk'
export { alloc, handle_message } from '../../sdk'

function handle (msg: Message): void {
  if (msg.performative == Performative.REQUEST) {
    replyWithContent(msg, Performative.INFORM)
  } else {
    reply(msg, Performative.NOT_UNDERSTOOD, 'echo understands only REQUEST')
  }
}

onMessage(handle)
