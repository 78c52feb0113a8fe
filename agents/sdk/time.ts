/**
 * Time, randomness and timers (protocols/agent-abi/SPEC.md §6, §8).
 *
 * ```ts
 * import { now, schedule, cancel, timerId } from '../../sdk'
 * const id = schedule(60_000, 'remind me')   // in a minute, a message from the agent to itself
 * // later, in the handler: timerId(msg) == id, msg.text == 'remind me'
 * ```
 */
import { Message } from './message'

// @ts-ignore: decorator
@external('env', 'now')
declare function hostNow (): f64

// @ts-ignore: decorator
@external('env', 'random')
declare function hostRandom (ptr: usize, len: i32): i32

// @ts-ignore: decorator
@external('env', 'schedule')
declare function hostSchedule (delayMs: f64, ptr: usize, len: i32): i32

// @ts-ignore: decorator
@external('env', 'cancel')
declare function hostCancel (id: i32): i32

/** `schedule` result: the agent already has the most pending timers the node allows. */
export const TIMER_QUOTA: i32 = -4
/** `schedule`/`cancel` result: called from top-level code (the start function). */
export const TIMER_READ_ONLY: i32 = -5
/** `schedule` result: the payload is longer than 65536 bytes. */
export const TIMER_TOO_LARGE: i32 = -6
/** `schedule` result: the delay is negative, not a number, or longer than 365 days. */
export const TIMER_BAD_DELAY: i32 = -7
/** `cancel` result: no such pending timer (never set, already delivered, or cancelled). */
export const TIMER_NOT_FOUND: i32 = -1

/** Ontology of the message a timer delivers. */
export const TIMER_ONTOLOGY = 'caxton-timer'
const TIMER_PREFIX = 'timer:'

/** The node's wall clock, ms since the Unix epoch. Not monotonic: the machine's clock may be stepped. */
export function now (): f64 {
  return hostNow()
}

/** `n` random bytes (at most 65536): the OS's CSPRNG on a node, a seeded generator in the test kit. */
export function randomBytes (n: i32): Uint8Array {
  const out = new Uint8Array(n)
  hostRandom(out.dataStart, n)
  return out
}

/** A random u32. */
export function randomU32 (): u32 {
  const b = randomBytes(4)
  return load<u32>(b.dataStart)
}

/** A random f64 in [0, 1), from 53 random bits. */
export function randomFloat (): f64 {
  const b = randomBytes(8)
  return <f64>(load<u64>(b.dataStart) >> 11) / 9007199254740992.0
}

/**
 * Sets a timer: in `delayMs` ms the agent gets a message from itself (INFORM, ontology
 * `caxton-timer`) carrying `payload`, a `string` or a `Uint8Array`, as its content. The
 * timer survives restarts of the node. Returns its id (> 0), or `TIMER_QUOTA`,
 * `TIMER_READ_ONLY`, `TIMER_TOO_LARGE`, `TIMER_BAD_DELAY`. Like a kv write, it takes effect
 * when the message being handled is committed.
 */
export function schedule<T> (delayMs: f64, payload: T): i32 {
  if (isString<T>()) {
    const bytes = String.UTF8.encode(changetype<string>(payload))
    return hostSchedule(delayMs, changetype<usize>(bytes), bytes.byteLength)
  } else if (payload instanceof Uint8Array) {
    const bytes = changetype<Uint8Array>(payload)
    return hostSchedule(delayMs, bytes.dataStart, bytes.length)
  } else {
    ERROR('schedule: payload must be a string or a Uint8Array')
    return 0
  }
}

/**
 * Cancels pending timer `id`: its message will not reach the handler, even if it already
 * fired. Returns 0, or `TIMER_NOT_FOUND`, `TIMER_READ_ONLY`.
 */
export function cancel (id: i32): i32 {
  return hostCancel(id)
}

/** The id of the timer whose message `msg` is, or 0 when it is not a timer's message. */
export function timerId (msg: Message): i32 {
  if (msg.ontology != TIMER_ONTOLOGY || !msg.inReplyTo.startsWith(TIMER_PREFIX)) return 0
  if (msg.receivers.length == 0 || msg.receivers[0] != msg.sender) return 0
  const digits = msg.inReplyTo.substring(TIMER_PREFIX.length)
  if (digits.length == 0 || digits.length > 10) return 0
  let id: i64 = 0
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i)
    if (c < 48 || c > 57) return 0
    id = id * 10 + <i64>(c - 48)
  }
  return id > 0 && id <= <i64>i32.MAX_VALUE ? <i32>id : 0
}
