import { randomFillSync } from 'node:crypto'

/**
 * Cryptographically random bytes handed out from a refilled pool: one `randomFillSync`
 * per 4 KiB instead of one per trace id (a system call per message on the hot path).
 * Returned views are copies' worth of fresh bytes: no two calls share bytes.
 */
export function createRandomPool (poolBytes = 4096): (n: number) => Uint8Array {
  const pool = new Uint8Array(poolBytes)
  let offset = poolBytes
  return (n: number): Uint8Array => {
    if (n > poolBytes) return randomFillSync(new Uint8Array(n))
    if (offset + n > poolBytes) {
      randomFillSync(pool)
      offset = 0
    }
    const out = pool.slice(offset, offset + n)
    offset += n
    return out
  }
}
