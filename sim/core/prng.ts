/**
 * A seeded pseudo-random source: sfc32 (Chris Doty-Humphrey's "small fast counting"
 * generator from PractRand, 128-bit state, 32-bit output), seeded through splitmix32 so
 * that nearby seeds give unrelated streams. Every random choice of a simulation comes from
 * one of these, so a run replays exactly from its seed.
 */

/** 32-bit FNV-1a of a string, the usual way to turn a label into a seed. */
export function hashString (s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** Mixes 32-bit integers into one well-distributed 32-bit value (murmur3's finaliser per step). */
export function mix32 (...parts: number[]): number {
  let h = 0x9e3779b9
  for (const p of parts) {
    let k = Math.imul(p | 0, 0xcc9e2d51)
    k = (k << 15) | (k >>> 17)
    h ^= Math.imul(k, 0x1b873593)
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

export class Prng {
  private a: number
  private b: number
  private c: number
  private d: number

  /** @param seed a number (its low 32 bits and the next 21 are used) or a label */
  constructor (seed: number | string) {
    let s = typeof seed === 'string' ? hashString(seed) : (seed >>> 0) ^ mix32(Math.floor(seed / 2 ** 32))
    const splitmix = (): number => {
      s = (s + 0x9e3779b9) | 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad)
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97)
      return (z ^ (z >>> 15)) >>> 0
    }
    this.a = splitmix()
    this.b = splitmix()
    this.c = splitmix()
    this.d = splitmix()
    for (let i = 0; i < 12; i++) this.uint32()
  }

  /** The next 32-bit unsigned integer. */
  uint32 (): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** Uniform in [0, 1). */
  next (): number {
    return this.uint32() / 4294967296
  }

  /** Uniform integer in [0, n). */
  int (n: number): number {
    return Math.floor(this.next() * n)
  }

  /** Standard normal (Box–Muller). */
  normal (): number {
    const u = 1 - this.next()
    const v = this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  /** Exponential with the given mean. */
  exponential (mean: number): number {
    return -mean * Math.log(1 - this.next())
  }

  /** An independent stream derived from this one's current state and a label (does not advance this one). */
  fork (label: string | number): Prng {
    const l = typeof label === 'string' ? hashString(label) : label >>> 0
    return new Prng(mix32(this.a, this.b, this.c, this.d, l))
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T> (items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const t = items[i]
      items[i] = items[j]
      items[j] = t
    }
    return items
  }
}
