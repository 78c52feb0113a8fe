/**
 * mulberry32 (Tommy Ettinger's 32-bit generator, public domain): a small seeded source of
 * uniform numbers in [0, 1), for things that must come out the same for the same seed (a
 * generated module, a test run that replays). Not for anything secret.
 */

/** A generator of uniform numbers in [0, 1) from `seed` (its low 32 bits). */
export function mulberry32 (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
