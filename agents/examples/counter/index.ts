/**
 * Counter: keeps one count in its durable key-value store (key `count`), so the count
 * survives restarts of the node and of the agent. REQUEST with content
 *   `increment`  adds 1
 *   `add <n>`    adds the integer n (may be negative)
 *   `get`        changes nothing
 *   `reset`      sets it to 0
 * and answers INFORM with the count as decimal text. A REQUEST it cannot parse gets
 * FAILURE with the reason; any other performative gets NOT-UNDERSTOOD (but a report,
 * FAILURE or NOT-UNDERSTOOD, gets no answer).
 */
import { LogLevel, Message, Performative, isReport, kv, log, onMessage, reply } from '../../sdk'
export { alloc, handle_message } from '../../sdk'

const COUNT = 'count'

// AssemblyScript has no nullable i64: `parseInteger` reports success through `parsed`.
let parsed = false

/** Parses an optionally signed decimal integer (at most 18 digits); sets `parsed`. */
function parseInteger (s: string): i64 {
  parsed = false
  let i = 0
  let negative = false
  if (s.length > 0 && (s.charCodeAt(0) == 45 || s.charCodeAt(0) == 43)) {
    negative = s.charCodeAt(0) == 45
    i = 1
  }
  if (i >= s.length || s.length - i > 18) return 0
  let value: i64 = 0
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) return 0
    value = value * 10 + <i64>(c - 48)
  }
  parsed = true
  return negative ? -value : value
}

function handle (msg: Message): void {
  if (msg.performative != Performative.REQUEST) {
    // Never answer a report (FAILURE, NOT-UNDERSTOOD) with another.
    if (!isReport(msg)) reply(msg, Performative.NOT_UNDERSTOOD, 'counter understands only REQUEST')
    return
  }
  const command = msg.text.trim()
  let count = kv.getI64(COUNT)
  if (command == 'increment') {
    count += 1
  } else if (command.startsWith('add ')) {
    const n = parseInteger(command.substring(4).trim())
    if (!parsed) {
      reply(msg, Performative.FAILURE, 'add expects an integer, got "' + command.substring(4) + '"')
      return
    }
    count += n
  } else if (command == 'reset') {
    count = 0
    log(LogLevel.INFO, 'counter reset')
  } else if (command != 'get') {
    reply(msg, Performative.FAILURE, 'unknown command "' + command + '"; expected increment, add <n>, get or reset')
    return
  }
  // Committed with this message and the reply: a crash never loses one without the other.
  if (command != 'get') kv.putI64(COUNT, count)
  reply(msg, Performative.INFORM, count.toString())
}

onMessage(handle)
