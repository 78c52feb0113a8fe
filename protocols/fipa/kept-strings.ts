/**
 * Strings kept long after the message they came in: copies that do not hold the message's
 * text alive, and one shared copy per agent id.
 */

/**
 * `s` in storage of its own, for a string kept long after its message. A string that
 * msgpackr's native decoder read from a message is a slice of one string holding all the
 * message's text, its content included, so a conversation keeping only its id kept that
 * whole text alive: ~380 B for a UUID of a message with 200 B of content, ~90 B copied,
 * for ~0.2 µs a copy (node 20; a conversation of an echo round trip held 910-960 B on
 * each node, 415-470 B copied). V8 copies substrings shorter than 13 characters instead
 * of slicing them: those are returned as they are. (The slice of the concatenation is a
 * slice of a new flat string of its own.)
 */
export function ownCopy (s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1)
}

/**
 * One kept copy ({@link ownCopy}) per distinct string, for values that repeat across many
 * kept records (agent ids, node ids): a few agents send and receive most messages, so a
 * table of 100,000 records names a handful of strings instead of copying two per record
 * (~90 B each for ids of 13 characters or more). Bounded: past `max` distinct strings
 * the pool starts again (a busy node with many one-off API client ids still copies each).
 */
export class StringPool {
  private readonly kept = new Map<string, string>()

  /** @param max distinct strings kept before the pool starts again, ≥ 1 */
  constructor (private readonly max = 4096) {
    if (!(max >= 1)) throw new RangeError(`a string pool holds at least 1 string, got ${max}`)
  }

  /** The pool's copy of `s` (made now if it has none). */
  get (s: string): string {
    let copy = this.kept.get(s)
    if (copy === undefined) {
      if (this.kept.size >= this.max) this.kept.clear()
      copy = ownCopy(s)
      this.kept.set(copy, copy)
    }
    return copy
  }
}
