/**
 * The order of the turns in one worker batch, and where the worker posts results early.
 *
 * A batch holds turns of several agents (each up to its quantum, see `agent-runtime.ts`).
 * The worker runs them in order and posts their results at the end of the batch, so an
 * agent with one cheap message placed behind another agent's run of expensive ones waited
 * for all of them twice: in the worker, and for the results of the whole batch. In the
 * isolation bench (echo, one REQUEST in flight, beside issue 10's flood agent on the same
 * worker) 1.75% of echo's batches held flood messages before echo's, and those round trips
 * took 349 µs at the median against 82 µs for the rest: they made echo's p99.
 *
 * So turns go cheapest first (the estimated handler time of the turn: its messages × the
 * agent's estimate per message; ties keep their round-robin order), and the results of the
 * cheap turns at the front are posted as soon as they are done, before the rest of the
 * batch runs: one more `postMessage` (~12 µs on this machine) for a batch that mixes cheap
 * turns with more than {@link EARLY_RESULTS_MS} of other work, none for the others. Which
 * agents get a turn, and how many messages each, is unchanged: this is fairness within a
 * batch, not across batches.
 */

/** For their results to go back early, the cheap turns at the front of a batch are at most this much estimated work, and what follows them more than this much, ms. */
export const EARLY_RESULTS_MS = 0.05

/**
 * Sorts `turns` in place, cheapest first by `cost` (estimated ms; stable for ties), and
 * returns the index of the turn after which the worker should post the results written so
 * far: the last turn of the longest prefix whose cost is at most {@link EARLY_RESULTS_MS}
 * when the turns after it cost more than that; -1 when there is no such point.
 */
export function planBatch<T> (turns: T[], cost: (turn: T) => number): number {
  if (turns.length < 2) return -1
  turns.sort((x, y) => cost(x) - cost(y))
  let total = 0
  for (const t of turns) total += cost(t)
  let before = 0
  let at = -1
  for (let k = 0; k < turns.length - 1; k++) {
    before += cost(turns[k])
    if (before > EARLY_RESULTS_MS) break
    if (total - before > EARLY_RESULTS_MS) at = k
  }
  return at
}
