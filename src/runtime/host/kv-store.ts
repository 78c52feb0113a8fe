/**
 * An agent's key-value store as its instance sees it (ABI SPEC.md §7): every entry in
 * memory, so `kv_get` answers synchronously inside a handler, with the keys kept sorted
 * for `kv_next`, the bytes counted against the quota, and the writes of the message being
 * handled collected for the host to commit with it.
 *
 * Keys are byte strings held as latin1 JavaScript strings (one char per byte): comparing
 * two such strings compares their bytes unsigned, which is the order SPEC.md §7 gives.
 */
import { HOST_RESULT, KV_ENTRY_OVERHEAD_BYTES } from '../../../protocols/agent-abi/index.js'

/** What one entry costs against the quota, bytes. */
export function entryBytes (key: string, value: Uint8Array): number {
  return key.length + value.length + KV_ENTRY_OVERHEAD_BYTES
}

export class KvStore {
  private readonly values = new Map<string, Uint8Array>()
  /** The keys in byte order. Inserting is O(n) (a copy of pointers): stores are bounded by their quota. */
  private readonly keys: string[] = []
  private used = 0
  /** The current message's writes: key → its new value, or null when deleted (the last write of each key). */
  private changed = new Map<string, Uint8Array | null>()

  /**
   * @param quotaBytes what the entries may add up to (see {@link entryBytes})
   * @param entries the store as committed (latin1 keys); taken as they are, even past the quota
   */
  constructor (readonly quotaBytes: number, entries: Iterable<readonly [string, Uint8Array]> = []) {
    for (const [key, value] of entries) {
      if (!this.values.has(key)) this.keys.push(key)
      else this.used -= entryBytes(key, this.values.get(key) as Uint8Array)
      this.values.set(key, value)
      this.used += entryBytes(key, value)
    }
    this.keys.sort()
  }

  /** Sets `key` as committed state: no quota check, not reported by {@link takeChanges} (a test seeding the store). */
  set (key: string, value: Uint8Array): void {
    const old = this.values.get(key)
    if (old === undefined) this.keys.splice(this.lowerBound(key), 0, key)
    else this.used -= entryBytes(key, old)
    this.values.set(key, value)
    this.used += entryBytes(key, value)
  }

  /** Bytes the entries count for against the quota. */
  get bytes (): number {
    return this.used
  }

  get (key: string): Uint8Array | undefined {
    return this.values.get(key)
  }

  /**
   * Sets `key` to `value` (kept as given: pass a copy).
   * @returns `HOST_RESULT.ok`, or `HOST_RESULT.quota` (nothing written) when the store would pass its quota
   */
  put (key: string, value: Uint8Array): number {
    const old = this.values.get(key)
    const used = this.used - (old === undefined ? 0 : entryBytes(key, old)) + entryBytes(key, value)
    if (used > this.quotaBytes && used > this.used) return HOST_RESULT.quota
    this.used = used
    if (old === undefined) this.keys.splice(this.lowerBound(key), 0, key)
    this.values.set(key, value)
    this.changed.set(key, value)
    return HOST_RESULT.ok
  }

  /** Deletes `key`; false when it was absent. */
  delete (key: string): boolean {
    const old = this.values.get(key)
    if (old === undefined) return false
    this.values.delete(key)
    this.keys.splice(this.lowerBound(key), 1)
    this.used -= entryBytes(key, old)
    this.changed.set(key, null)
    return true
  }

  /** The smallest key that starts with `prefix` and, given `after`, is greater than it. */
  next (prefix: string, after?: string): string | undefined {
    let i = this.lowerBound(prefix)
    if (after !== undefined && after >= prefix) {
      i = this.lowerBound(after)
      if (this.keys[i] === after) i++
    }
    const key = this.keys[i]
    return key !== undefined && key.startsWith(prefix) ? key : undefined
  }

  /** Every entry, in key order. */
  * entries (): IterableIterator<[string, Uint8Array]> {
    for (const key of this.keys) yield [key, this.values.get(key) as Uint8Array]
  }

  /** The writes since the last call (the message just handled), and forgets them. */
  takeChanges (): Map<string, Uint8Array | null> {
    const changed = this.changed
    if (changed.size > 0) this.changed = new Map()
    return changed
  }

  /** Index of the first key ≥ `key`. */
  private lowerBound (key: string): number {
    let lo = 0
    let hi = this.keys.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.keys[mid] < key) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
