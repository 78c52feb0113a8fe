/**
 * The agent's own key-value store (protocols/agent-abi/SPEC.md §7). Keys are strings
 * (stored as their UTF-8 bytes, 1 to 1024 of them); values are bytes, or helpers store
 * text and 64-bit integers. Writes are seen at once by later reads, and are committed
 * with the message being handled: if the node crashes first, the message is handled
 * again from the state before it. Writes from top-level code (the start function) are
 * refused with `KV_READ_ONLY`: write while handling messages.
 *
 * ```ts
 * import { kv } from '../../sdk'
 * const n = kv.getI64('count') + 1
 * kv.putI64('count', n)
 * ```
 */

// @ts-ignore: decorator
@external('env', 'kv_get')
declare function hostKvGet (keyPtr: usize, keyLen: i32, valPtr: usize, valCap: i32): i32

// @ts-ignore: decorator
@external('env', 'kv_put')
declare function hostKvPut (keyPtr: usize, keyLen: i32, valPtr: usize, valLen: i32): i32

// @ts-ignore: decorator
@external('env', 'kv_delete')
declare function hostKvDelete (keyPtr: usize, keyLen: i32): i32

// @ts-ignore: decorator
@external('env', 'kv_next')
declare function hostKvNext (prefixPtr: usize, prefixLen: i32, afterPtr: usize, afterLen: i32, outPtr: usize, outCap: i32): i32

/** Result: done. */
export const KV_OK: i32 = 0
/** Result: no such key. */
export const KV_NOT_FOUND: i32 = -1
/** Result: a pointer the SDK passed was outside memory (a bug in the SDK). */
export const KV_BOUNDS: i32 = -2
/** Result: the key is empty or longer than 1024 bytes (UTF-8). */
export const KV_BAD_KEY: i32 = -3
/** Result: the write would take the store past its quota; nothing was written. */
export const KV_QUOTA: i32 = -4
/** Result: a write from top-level code (the start function); write while handling messages. */
export const KV_READ_ONLY: i32 = -5

/** Longest key, bytes. */
export const KV_MAX_KEY_BYTES: i32 = 1024

// Values up to this size are read in one call; longer ones take a second, into their own buffer.
let scratch = new ArrayBuffer(256)
// kv_next copies keys here: a key is at most 1024 bytes, so one call always suffices.
const keyBuffer = new ArrayBuffer(KV_MAX_KEY_BYTES)

export namespace kv {
  /** The value of `key`, or null when it is absent. */
  export function get (key: string): Uint8Array | null {
    const k = String.UTF8.encode(key)
    const n = hostKvGet(changetype<usize>(k), k.byteLength, changetype<usize>(scratch), scratch.byteLength)
    if (n < 0) return null
    const out = new Uint8Array(n)
    if (n <= scratch.byteLength) {
      memory.copy(out.dataStart, changetype<usize>(scratch), <usize>n)
    } else {
      hostKvGet(changetype<usize>(k), k.byteLength, out.dataStart, n)
      // The next long value probably fits now.
      scratch = new ArrayBuffer(n)
    }
    return out
  }

  /** Whether `key` is present. */
  export function has (key: string): bool {
    const k = String.UTF8.encode(key)
    return hostKvGet(changetype<usize>(k), k.byteLength, 0, 0) >= 0
  }

  /** The value of `key` read as UTF-8 text, or null when it is absent. */
  export function getString (key: string): string | null {
    const v = get(key)
    if (v === null) return null
    return String.UTF8.decodeUnsafe(v.dataStart, <usize>v.length)
  }

  /** The value of `key` read as a little-endian i64 (as `putI64` writes it); `fallback` when absent or not 8 bytes. */
  export function getI64 (key: string, fallback: i64 = 0): i64 {
    const v = get(key)
    if (v === null || v.length != 8) return fallback
    return load<i64>(v.dataStart)
  }

  /** Sets `key` to `value`. Returns `KV_OK`, or `KV_BAD_KEY`, `KV_QUOTA`, `KV_READ_ONLY`. */
  export function put (key: string, value: Uint8Array): i32 {
    const k = String.UTF8.encode(key)
    return hostKvPut(changetype<usize>(k), k.byteLength, value.dataStart, value.length)
  }

  /** Sets `key` to `value` as UTF-8 text. */
  export function putString (key: string, value: string): i32 {
    return put(key, Uint8Array.wrap(String.UTF8.encode(value)))
  }

  /** Sets `key` to `value` as 8 little-endian bytes. */
  export function putI64 (key: string, value: i64): i32 {
    const v = new Uint8Array(8)
    store<i64>(v.dataStart, value)
    return put(key, v)
  }

  /** Deletes `key`. Returns `KV_OK`, `KV_NOT_FOUND` when it was absent, or `KV_BAD_KEY`, `KV_READ_ONLY`. */
  export function remove (key: string): i32 {
    const k = String.UTF8.encode(key)
    return hostKvDelete(changetype<usize>(k), k.byteLength)
  }

  /** The keys that start with `prefix`, in byte order, at most `limit` of them. */
  export function keys (prefix: string = '', limit: i32 = i32.MAX_VALUE): string[] {
    const p = String.UTF8.encode(prefix)
    const out = new Array<string>()
    let after = new ArrayBuffer(0)
    while (out.length < limit) {
      const n = hostKvNext(changetype<usize>(p), p.byteLength, changetype<usize>(after), after.byteLength, changetype<usize>(keyBuffer), KV_MAX_KEY_BYTES)
      if (n < 0) break
      out.push(String.UTF8.decodeUnsafe(changetype<usize>(keyBuffer), <usize>n))
      after = new ArrayBuffer(n)
      memory.copy(changetype<usize>(after), changetype<usize>(keyBuffer), <usize>n)
    }
    return out
  }
}
