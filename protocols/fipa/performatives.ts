/**
 * The 22 performatives of FIPA SC00037J: parsing the spellings people write, and the
 * stable numeric codes the msgpack form and the agent ABI carry.
 */
import { UnknownPerformativeError } from './errors.js'
import { PERFORMATIVES, type Performative } from './types.js'

const SET: ReadonlySet<string> = new Set(PERFORMATIVES)
const CODES: ReadonlyMap<string, number> = new Map(PERFORMATIVES.map((p, i) => [p, i]))

/** Whether `x` is a performative in canonical spelling (`'NOT-UNDERSTOOD'`, not `'not_understood'`). */
export function isPerformative (x: unknown): x is Performative {
  return typeof x === 'string' && SET.has(x)
}

/**
 * Reads a performative as people write it: case-insensitive, `_` accepted for `-`, and
 * surrounding whitespace ignored (`'Request'`, `'not_understood'`, `'QUERY-IF'`).
 * @returns the canonical spelling (an element of `PERFORMATIVES`)
 * @throws UnknownPerformativeError `{ input }`, listing the valid names
 */
export function parsePerformative (input: string): Performative {
  if (typeof input === 'string') {
    if (SET.has(input)) return input as Performative
    // Bounded: the longest name is 16 characters, so longer input is rejected without work.
    if (input.length <= 64) {
      const canonical = input.trim().toUpperCase().replaceAll('_', '-')
      if (SET.has(canonical)) return canonical as Performative
    }
  }
  throw new UnknownPerformativeError(typeof input === 'string' ? input : String(input), PERFORMATIVES)
}

/**
 * The stable wire code of a performative: its index in `PERFORMATIVES` (0 = ACCEPT-PROPOSAL,
 * 21 = SUBSCRIBE). Independent of any agent ABI; never renumbered, only appended to.
 * @throws UnknownPerformativeError when `p` is not canonical
 */
export function performativeCode (p: Performative): number {
  const code = CODES.get(p)
  if (code === undefined) throw new UnknownPerformativeError(String(p), PERFORMATIVES)
  return code
}

/**
 * The performative with wire code `n` (inverse of {@link performativeCode}).
 * @throws UnknownPerformativeError `{ input: n }` when `n` is not an integer in 0..21
 */
export function performativeFromCode (n: number): Performative {
  const p = Number.isInteger(n) ? PERFORMATIVES[n] : undefined
  if (p === undefined) throw new UnknownPerformativeError(n, PERFORMATIVES)
  return p
}
