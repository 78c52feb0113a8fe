/**
 * Scheduler: reminders on durable timers. REQUEST with content
 *   `in <ms> <text>`  in ms milliseconds, sends INFORM <text> to whoever asked (reply-to,
 *                     else the sender), in the asker's conversation; answers AGREE `<id>`
 *   `cancel <id>`     cancels reminder id: INFORM `cancelled <id>`
 *   `list`            INFORM with the pending reminders, `<id> <text>` per line
 * The reminder (asker, conversation, text) is kept in the agent's store under
 * `r/<id, 10 digits>` and the timer carries nothing: both are committed with the request,
 * survive restarts of the node, and go when the reminder is sent or cancelled. A bad
 * command or an unknown id gets FAILURE; another performative NOT-UNDERSTOOD (a report
 * gets no answer).
 */
import {
  Message, Performative, TIMER_QUOTA, cancel, isReport, kv, makeReply, onMessage, onTimer, parseUnsigned, reply, schedule, send
} from '../../sdk'
export { alloc, handle_message } from '../../sdk'

function key (id: i32): string {
  let digits = id.toString()
  while (digits.length < 10) digits = '0' + digits
  return 'r/' + digits
}

/** A stored reminder's four lines: receiver, conversation-id, in-reply-to, then the text (which may hold newlines). */
function fields (stored: string): string[] {
  const out = new Array<string>()
  let from = 0
  for (let i = 0; i < 3; i++) {
    const nl = stored.indexOf('\n', from)
    out.push(stored.substring(from, nl))
    from = nl + 1
  }
  out.push(stored.substring(from))
  return out
}

function remind (msg: Message, rest: string): void {
  const space = rest.indexOf(' ')
  const ms = parseUnsigned(space < 0 ? rest : rest.substring(0, space), 12)
  if (ms < 0 || space < 0) {
    reply(msg, Performative.FAILURE, 'expected in <ms> <text>')
    return
  }
  const id = schedule(<f64>ms, '')
  if (id <= 0) {
    reply(msg, Performative.FAILURE, id == TIMER_QUOTA ? 'too many reminders pending' : 'cannot set a timer (' + id.toString() + ')')
    return
  }
  // Who to tell, in which conversation, and what: the reply this request would get.
  const r = makeReply(msg, Performative.INFORM)
  kv.putString(key(id), r.receivers[0] + '\n' + r.conversationId + '\n' + r.inReplyTo + '\n' + rest.substring(space + 1))
  reply(msg, Performative.AGREE, id.toString())
}

function fired (id: i32, timer: Message): void {
  const stored = kv.getString(key(id))
  if (stored === null) return
  kv.remove(key(id))
  const f = fields(stored)
  const m = Message.to(f[0], Performative.INFORM)
  m.conversationId = f[1]
  m.inReplyTo = f[2]
  send(m.setText(f[3]))
}

function handle (msg: Message): void {
  if (msg.performative != Performative.REQUEST) {
    if (!isReport(msg)) reply(msg, Performative.NOT_UNDERSTOOD, 'scheduler understands only REQUEST')
    return
  }
  const text = msg.text
  if (text.startsWith('in ')) {
    remind(msg, text.substring(3))
  } else if (text.startsWith('cancel ')) {
    const id = parseUnsigned(text.substring(7), 12)
    if (id > 0 && id <= <i64>i32.MAX_VALUE && cancel(<i32>id) == 0) {
      kv.remove(key(<i32>id))
      reply(msg, Performative.INFORM, 'cancelled ' + id.toString())
    } else {
      reply(msg, Performative.FAILURE, 'no pending reminder ' + text.substring(7))
    }
  } else if (text == 'list') {
    const keys = kv.keys('r/')
    const lines = new Array<string>()
    for (let i = 0; i < keys.length; i++) {
      const stored = kv.getString(keys[i])
      if (stored === null) continue
      lines.push(parseUnsigned(keys[i].substring(2), 12).toString() + ' ' + fields(stored)[3])
    }
    reply(msg, Performative.INFORM, lines.join('\n'))
  } else {
    reply(msg, Performative.FAILURE, 'unknown command; expected in <ms> <text>, cancel <id> or list')
  }
}

onMessage(handle)
onTimer(fired)
