/**
 * What `dlq list` and `dlq purge` share: the filter options (`--agent`, `--cause`,
 * `--since`) and their translation into the API's query.
 */
import { Option, type Command } from 'commander'
import { DEAD_LETTER_CAUSES } from '../../../../protocols/delivery/index.js'
import type { DeadLetterCause, DeadLetterFilter } from '../../../api/types.js'
import { pointInTime, type CliContext } from '../../context.js'

export interface FilterOptions {
  agent?: string
  cause?: DeadLetterCause
  since?: number
}

/** Adds `--agent`, `--cause` and `--since` to `command`. */
export function addFilterOptions (command: Command, ctx: CliContext): Command {
  return command
    .option('--agent <id>', 'only dead letters to or from this agent')
    .addOption(new Option('--cause <cause>', 'only dead letters with this cause').choices(DEAD_LETTER_CAUSES))
    .addOption(new Option('--since <time>', 'only dead letters since: ms since the epoch, an ISO 8601 time, or a duration ago (10m, 2h, 7d)')
      .argParser(pointInTime(ctx.io.now ?? Date.now)))
}

/** The API's filter from the options (empty: every dead letter). */
export function filterOf (opts: FilterOptions): DeadLetterFilter {
  const filter: DeadLetterFilter = {}
  if (opts.agent !== undefined) filter.agent = opts.agent
  if (opts.cause !== undefined) filter.cause = opts.cause
  if (opts.since !== undefined) filter.since = opts.since
  return filter
}
