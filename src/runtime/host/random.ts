/**
 * Where an agent's `random` bytes come from (ABI SPEC.md §6): the operating system's
 * CSPRNG on a node, or a generator seeded for a test, so that a run replays exactly.
 */
import { createCipheriv, createHash, randomFillSync } from 'node:crypto'

/** Fills `dest` with random bytes. */
export type RandomSource = (dest: Uint8Array) => void

/** The operating system's CSPRNG. */
export const osRandom: RandomSource = (dest) => { randomFillSync(dest) }

/**
 * A deterministic stream of bytes from `seed`: the ChaCha20 keystream (RFC 8439, Node's
 * OpenSSL cipher) under the key SHA-256(`seed`) with a zero nonce. The same seed gives the
 * same bytes, in the same order, however the calls split them.
 */
export function seededRandom (seed: string): RandomSource {
  const key = createHash('sha256').update(seed).digest()
  const cipher = createCipheriv('chacha20', key, Buffer.alloc(16))
  return (dest) => {
    // Encrypting zeros yields the keystream itself.
    dest.set(cipher.update(new Uint8Array(dest.length)))
  }
}
