/**
 * The Caxton agent SDK for AssemblyScript. An agent registers one handler and re-exports
 * the two ABI entry points the host calls:
 *
 * ```ts
 * import { Message, Performative, onMessage, reply } from '../../sdk'
 * export { alloc, handle_message } from '../../sdk'
 *
 * onMessage((msg: Message): void => {
 *   reply(msg, Performative.INFORM, msg.text)
 * })
 * ```
 *
 * ABI (protocols/agent-abi/SPEC.md): exports `alloc(size) -> ptr` and
 * `handle_message(ptr, len) -> status`; imports `env.memory`, `env.send`, `env.log`,
 * `env.abort` (AssemblyScript's own), and those of the functions a module uses: `kv`
 * (`env.kv_*`, its durable key-value store), `now`, `randomBytes`, `schedule`, `cancel`,
 * `declareCapability` and `withdrawCapability`.
 */
import { Message, decodeMessage, encodeMessage, lastEncodedLength } from './message'
import { Performative, LogLevel } from './performative'
import { timerId } from './time'

export { Message, Performative, LogLevel }
export { parseUnsigned } from './text'
export { kv, KV_OK, KV_NOT_FOUND, KV_BAD_KEY, KV_QUOTA, KV_READ_ONLY, KV_MAX_KEY_BYTES } from './kv'
export {
  now, randomBytes, randomU32, randomFloat, schedule, cancel, timerId, TIMER_ONTOLOGY,
  TIMER_QUOTA, TIMER_READ_ONLY, TIMER_TOO_LARGE, TIMER_BAD_DELAY, TIMER_NOT_FOUND
} from './time'
export {
  declareCapability, withdrawCapability, CAPABILITY_OK, CAPABILITY_NOT_FOUND, CAPABILITY_QUOTA,
  CAPABILITY_READ_ONLY, CAPABILITY_TOO_LARGE, CAPABILITY_INVALID
} from './capabilities'

// @ts-ignore: decorator
@external('env', 'send')
declare function hostSend (ptr: usize, len: i32): i32

// @ts-ignore: decorator
@external('env', 'log')
declare function hostLog (level: i32, ptr: usize, len: i32): void

/** `handle_message` status: handled. */
export const STATUS_OK: i32 = 0
/** `handle_message` status: the host's bytes could not be decoded. */
export const STATUS_MALFORMED: i32 = 1
/** `handle_message` status: the agent registered no handler. */
export const STATUS_NO_HANDLER: i32 = 2

/** `send` result: the host rejected the bytes as malformed. */
export const SEND_MALFORMED: i32 = -1
/** `send` result: the message is larger than the host accepts. */
export const SEND_TOO_LARGE: i32 = -2
/** `send` result: the agent sent too many messages while handling one. */
export const SEND_QUOTA: i32 = -3
/** `send` result: the node's outbox is full; nothing was sent, try again later. */
export const SEND_OUTBOX_FULL: i32 = -4
/**
 * `send` result: over the agent's send budget (messages or bytes per second); nothing was
 * sent. Send less, or later: an agent over its budget for too long is suspended.
 */
export const SEND_OVER_BUDGET: i32 = -5

let handler: ((msg: Message) => void) | null = null
let timerHandler: ((id: i32, msg: Message) => void) | null = null

/** Registers the function called with every message delivered to the agent. */
export function onMessage (fn: (msg: Message) => void): void {
  handler = fn
}

/**
 * Registers the function called, instead of the `onMessage` one, when one of the agent's
 * timers fires (see `schedule`): with the timer's id, and its message (the payload is
 * `msg.content`, or `msg.text`).
 */
export function onTimer (fn: (id: i32, msg: Message) => void): void {
  timerHandler = fn
}

// One growable inbox: the host writes each message here (through `alloc`) and the SDK
// copies every field out while decoding, so the buffer is reused for the next message.
let inbox = new ArrayBuffer(1024)

/** ABI export: a pointer to `size` bytes the host may write the next message into. */
export function alloc (size: i32): usize {
  if (size > inbox.byteLength) inbox = new ArrayBuffer(max(size, inbox.byteLength << 1))
  return changetype<usize>(inbox)
}

// The minimal runtime has no automatic collection and no shadow stack: collecting is
// safe only when no managed reference lives on the stack, which is true between messages.
const COLLECT_EVERY: i32 = 64
let sinceCollect: i32 = 0

/** ABI export: decodes the message at `ptr` and calls the registered handler. */
export function handle_message (ptr: usize, len: i32): i32 {
  const msg = decodeMessage(ptr, len)
  if (msg === null) return STATUS_MALFORMED
  const onTimerFn = timerHandler
  const timer = onTimerFn === null ? 0 : timerId(msg)
  if (timer > 0) {
    changetype<(id: i32, msg: Message) => void>(onTimerFn)(timer, msg)
  } else {
    const fn = handler
    if (fn === null) return STATUS_NO_HANDLER
    fn(msg)
  }
  if (ASC_RUNTIME == 1 && ++sinceCollect >= COLLECT_EVERY) {
    sinceCollect = 0
    __collect()
  }
  return STATUS_OK
}

/**
 * Sends a message; the router sets its sender, message-id and created-at.
 * Returns 0 when the host accepted it, or a negative `SEND_*` code.
 */
export function send (msg: Message): i32 {
  const ptr = encodeMessage(msg)
  return hostSend(ptr, lastEncodedLength)
}

/**
 * A reply to `to`, not yet sent: receivers are its reply-to agents (FIPA) or else its
 * sender; the conversation-id, protocol, ontology and language are kept; in-reply-to is
 * its reply-with, or its message-id when it has none. Set the content, then `send` it.
 */
export function makeReply (to: Message, performative: Performative): Message {
  const r = new Message()
  r.performative = performative
  if (to.replyTo.length > 0) {
    r.receivers = to.replyTo.slice(0)
  } else {
    r.receivers.push(to.sender)
  }
  r.conversationId = to.conversationId
  r.inReplyTo = to.replyWith.length > 0 ? to.replyWith : to.messageId
  r.protocol = to.protocol
  r.ontology = to.ontology
  r.language = to.language
  // The reply belongs to the request's trace; the router gives it a span id of its own.
  r.traceparent = to.traceparent
  r.tracestate = to.tracestate
  return r
}

/**
 * Whether `msg` reports a problem (FAILURE, NOT-UNDERSTOOD). FIPA agents do not answer a
 * report with NOT-UNDERSTOOD or FAILURE: two agents doing so would answer each other for ever.
 */
export function isReport (msg: Message): bool {
  return msg.performative == Performative.FAILURE || msg.performative == Performative.NOT_UNDERSTOOD
}

/**
 * Replies to `to` (see `makeReply`) with `content`: a `string` (sent as text) or a
 * `Uint8Array` (sent as bytes). Returns what `send` returns.
 */
export function reply<T> (to: Message, performative: Performative, content: T): i32 {
  const r = makeReply(to, performative)
  if (isString<T>()) {
    r.setText(changetype<string>(content))
  } else if (content instanceof Uint8Array) {
    r.setBytes(changetype<Uint8Array>(content))
  } else {
    ERROR('reply: content must be a string or a Uint8Array')
  }
  return send(r)
}

/** Replies to `to` with its own content, carried as it came (text or bytes). */
export function replyWithContent (to: Message, performative: Performative): i32 {
  const r = makeReply(to, performative)
  r.content = to.content
  r.contentIsText = to.contentIsText
  return send(r)
}

let logBuffer = new ArrayBuffer(256)

/** Writes a line to the node's log under the agent's id. */
export function log (level: LogLevel, text: string): void {
  const n = String.UTF8.byteLength(text)
  if (n > logBuffer.byteLength) logBuffer = new ArrayBuffer(max(n, logBuffer.byteLength << 1))
  String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, changetype<usize>(logBuffer), false, String.UTF8.ErrorMode.REPLACE)
  hostLog(<i32>level, changetype<usize>(logBuffer), n)
}
