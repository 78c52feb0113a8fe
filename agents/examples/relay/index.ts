/**
 * Relay: a REQUEST whose content is an agent id is passed on to that agent as an INFORM,
 * in the same conversation (content: the id again). Anything else (a FAILURE about a
 * relayed message, a NOT-UNDERSTOOD) is taken and not answered: an agent never answers a
 * report with a report. Used by the chaos runs (agent-to-agent traffic across nodes).
 */
import { Message, Performative, onMessage, send } from '../../sdk'
export { alloc, handle_message } from '../../sdk'

function handle (msg: Message): void {
  if (msg.performative != Performative.REQUEST) return
  const target = msg.text
  if (target.length == 0) return
  const out = Message.to(target, Performative.INFORM)
  out.conversationId = msg.conversationId
  out.traceparent = msg.traceparent
  out.setText(target)
  send(out)
}

onMessage(handle)
