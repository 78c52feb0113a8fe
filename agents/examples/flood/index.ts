/**
 * Flood: a hostile agent, for tests and `npm run bench -- isolation`. For every message it
 * receives it calls `env.send` 1,000 times with the very bytes it received (a message to
 * itself, as the host delivered it), and ignores what the host answers. Without send
 * budgets this floods its node for good (issue 10); with them, it is refused
 * (`SEND_OVER_BUDGET`) and, past the grace period, suspended.
 *
 * Written against the raw ABI (protocols/agent-abi/SPEC.md), not the SDK: it never
 * decodes what it receives.
 */

// @ts-ignore: decorator
@external('env', 'send')
declare function hostSend (ptr: usize, len: i32): i32

const COPIES: i32 = 1000

let inbox = new ArrayBuffer(1024)

/** ABI export: where the host writes the next message. */
export function alloc (size: i32): usize {
  if (size > inbox.byteLength) inbox = new ArrayBuffer(max(size, inbox.byteLength << 1))
  return changetype<usize>(inbox)
}

/** ABI export: sends the message back to the flood, COPIES times. */
export function handle_message (ptr: usize, len: i32): i32 {
  for (let i = 0; i < COPIES; i++) hostSend(ptr, len)
  return 0
}
