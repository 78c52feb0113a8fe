/**
 * The smallest module the sandbox policy accepts, for warming the policy worker up: the
 * worker checks, instruments and compiles it before it reports ready, and a node inspects
 * it at start (`runtime.inspect`), so that its first deploy finds binaryen loaded and the
 * code paths of a check (read, validate, imports and exports, fuel pass, emit) already run
 * once. Without it, a node's first deploy waited for binaryen's load (0.3-0.5 s), and its
 * check cost about three times what it does after this module's (docs/performance.md,
 * "First deploy after start").
 *
 * No binaryen in this file: it is imported on the node's main thread. The loop in
 * `handle_message` is there for the fuel pass, which meters loop headers as well as
 * function entries.
 */

/** The module as WAT; {@link policyWarmUpModule} is it assembled by binaryen with the sandbox's features (a test checks that). */
export const POLICY_WARM_UP_WAT = `(module
 (import "env" "memory" (memory 1))
 (func (export "alloc") (param i32) (result i32) (local.get 0))
 (func (export "handle_message") (param i32 i32) (result i32)
  (loop $l (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
  (i32.const 0)))`

const BASE64 = 'AGFzbQEAAAABDAJgAX8Bf2ACf38BfwIPAQNlbnYGbWVtb3J5AgABAwMCAAEHGgIFYWxsb2MAAA5oYW5kbGVfbWVzc2FnZQABChcCBAAgAAsQAANAIABBAWsiAA0AC0EACw=='

/** A fresh copy of the warm-up module's bytes (a copy: a caller may transfer or detach it). */
export function policyWarmUpModule (): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(BASE64, 'base64'))
}
