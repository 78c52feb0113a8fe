/**
 * Lower-case hex digits of a byte, as lookup tables: shared by the trace ids of
 * `fipa/trace.ts` and the router's random ids, which write them without `toString(16)`.
 */

/** Byte b's two lower-case hex digits, e.g. `HEX[0x0f] === '0f'`. */
export const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Byte b's two lower-case hex digits as character codes, at 2b and 2b + 1. */
export const HEX_CODES: Uint8Array = new Uint8Array(512).map((_, i) => HEX[i >> 1].charCodeAt(i & 1))
