/**
 * A running 64-bit hash (two independent 32-bit FNV-1a lanes) of everything a simulation
 * does: two runs with the same seed must end with the same digest.
 */
const f64 = new Float64Array(1)
const u32 = new Uint32Array(f64.buffer)

export class TraceHash {
  private h1 = 0x811c9dc5
  private h2 = 0x050c5d1f
  /** Items added. */
  count = 0

  /** Adds a number (its exact IEEE-754 bits). */
  number (x: number): void {
    f64[0] = x
    this.word(u32[0])
    this.word(u32[1])
    this.count++
  }

  string (s: string): void {
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i))
    this.word(s.length)
    this.count++
  }

  bytes (b: Uint8Array): void {
    let h1 = this.h1
    let h2 = this.h2
    for (let i = 0; i < b.length; i++) {
      h1 = Math.imul(h1 ^ b[i], 0x01000193)
      h2 = Math.imul(h2 ^ b[i], 0x01000193) ^ (h2 >>> 13)
    }
    this.h1 = h1
    this.h2 = h2
    this.word(b.length)
    this.count++
  }

  /** The digest, 16 hex digits. */
  digest (): string {
    return (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0')
  }

  private word (w: number): void {
    this.h1 = Math.imul(this.h1 ^ (w & 0xffff), 0x01000193)
    this.h1 = Math.imul(this.h1 ^ (w >>> 16), 0x01000193)
    this.h2 = Math.imul(this.h2 ^ w, 0x01000193) ^ (this.h2 >>> 13)
  }
}
