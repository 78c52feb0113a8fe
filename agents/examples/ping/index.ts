/**
 * Ping: drives round trips with another agent (the pong, e.g. echo), with no API client
 * in the loop; the agent-to-agent benchmark (`npm run bench -- agents`) runs it.
 *
 * A REQUEST with content `<target> <total> <window> [<size>]` starts a run: ping sends
 * `window` REQUESTs to agent `<target>` (content: `size` bytes of text, default 200), in
 * the starting REQUEST's conversation; each answer lets it send the next, until `total`
 * have been sent. An answer is any message from the target (normally an INFORM; anything
 * else counts as failed) or a FAILURE from `ams` (the node could not deliver a REQUEST).
 * When all `total` are answered, it answers the starting REQUEST with INFORM
 * `<answered> <failed>` (answered counts the failed ones).
 *
 * A malformed start, or one while a run is going on, gets FAILURE with the reason. At most
 * 1000 may be in flight (`window`): the node refuses more than 1000 sends while handling
 * one message. Anything else gets NOT-UNDERSTOOD, except a report (never a report to a
 * report).
 *
 * The run's state is in module globals, not in the store: a restart of the agent ends a
 * run (its starter then waits in vain), which a benchmark can afford.
 */
import { Message, Performative, isReport, onMessage, parseUnsigned, reply, send } from '../../sdk'
export { alloc, handle_message } from '../../sdk'

/** The node's cap on sends while handling one message (agent-runtime `maxSendsPerMessage`). */
const MAX_WINDOW: i32 = 1000
const DEFAULT_SIZE: i32 = 200
const MAX_SIZE: i32 = 1 << 20

let starter: Message | null = null
let target = ''
let payload = new Uint8Array(0)
let total: i32 = 0
let sent: i32 = 0
let answered: i32 = 0
let failed: i32 = 0

function sendNext (): void {
  const out = Message.to(target, Performative.REQUEST)
  out.conversationId = (<Message>starter).conversationId
  out.setBytes(payload)
  out.contentIsText = true
  send(out)
  sent++
}

function start (msg: Message): void {
  if (starter !== null) {
    reply(msg, Performative.FAILURE, 'a run is going on: ' + sent.toString() + ' of ' + total.toString() + ' sent')
    return
  }
  const parts = msg.text.trim().split(' ')
  if (parts.length < 3 || parts.length > 4) {
    reply(msg, Performative.FAILURE, 'expected "<target> <total> <window> [<size>]"')
    return
  }
  const n = <i32>parseUnsigned(parts[1], 9)
  const window = <i32>parseUnsigned(parts[2], 9)
  const size = parts.length == 4 ? <i32>parseUnsigned(parts[3], 9) : DEFAULT_SIZE
  if (parts[0].length == 0 || n < 1 || window < 1 || window > MAX_WINDOW || size < 0 || size > MAX_SIZE) {
    reply(msg, Performative.FAILURE, 'expected a target, total ≥ 1, 1 ≤ window ≤ ' + MAX_WINDOW.toString() + ', 0 ≤ size ≤ ' + MAX_SIZE.toString())
    return
  }
  starter = msg
  target = parts[0]
  total = n
  sent = 0
  answered = 0
  failed = 0
  payload = new Uint8Array(size).fill(120) // 'x'
  const first = min(window, total)
  for (let i = 0; i < first; i++) sendNext()
}

function handle (msg: Message): void {
  const run = starter
  if (run !== null && (msg.sender == target || (msg.sender == 'ams' && msg.performative == Performative.FAILURE))) {
    answered++
    if (msg.performative != Performative.INFORM) failed++
    if (sent < total) {
      sendNext()
    } else if (answered == total) {
      starter = null
      reply(run, Performative.INFORM, answered.toString() + ' ' + failed.toString())
    }
    return
  }
  if (msg.performative == Performative.REQUEST) {
    start(msg)
  } else if (!isReport(msg)) {
    reply(msg, Performative.NOT_UNDERSTOOD, 'ping understands only REQUEST')
  }
}

onMessage(handle)
