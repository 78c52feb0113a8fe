/**
 * Echo: answers REQUEST with INFORM carrying the same content (text stays text, bytes
 * stay bytes), in the same conversation, in-reply-to set. Anything else gets
 * NOT-UNDERSTOOD, except a report (FAILURE, NOT-UNDERSTOOD): an agent never answers a
 * report with a report, or two agents could answer each other for ever.
 */
import { Message, Performative, isReport, onMessage, reply, replyWithContent } from '../../sdk'
export { alloc, handle_message } from '../../sdk'

function handle (msg: Message): void {
  if (msg.performative == Performative.REQUEST) {
    replyWithContent(msg, Performative.INFORM)
  } else if (!isReport(msg)) {
    reply(msg, Performative.NOT_UNDERSTOOD, 'echo understands only REQUEST')
  }
}

onMessage(handle)
