/**
 * `caxton dlq list [--agent] [--cause] [--since] [--limit]`: GET /dead-letters as a table,
 * newest first.
 */
import type { Command } from 'commander'
import { DEFAULT_DEAD_LETTER_LIMIT, MAX_DEAD_LETTER_LIMIT } from '../../../api/schemas.js'
import { addGlobalOptions, integerIn, type CliContext } from '../../context.js'
import { examples, formatTime, oneLine } from '../../output.js'
import { addFilterOptions, filterOf, type FilterOptions } from './filter.js'

export function registerDlqList (dlq: Command, ctx: CliContext): void {
  addFilterOptions(addGlobalOptions(dlq.command('list')), ctx)
    .alias('ls')
    .description("the node's dead letters, newest first: messages it gave up delivering, and why")
    .option('--limit <n>', `most dead letters shown (1-${MAX_DEAD_LETTER_LIMIT}, default ${DEFAULT_DEAD_LETTER_LIMIT})`, integerIn(1, MAX_DEAD_LETTER_LIMIT))
    .addHelpText('after', examples([
      'caxton dlq list',
      'caxton dlq list --agent billing --cause expired --since 1h',
      'caxton dlq list --since 2026-11-25T13:00:00Z --limit 10 --json'
    ]))
    .action(async (opts: FilterOptions & { limit?: number }, command: Command) => {
      const { client, out } = ctx.scope(command)
      const filter = filterOf(opts)
      const body = await client.listDeadLetters(opts.limit === undefined ? filter : { ...filter, limit: opts.limit })
      if (out.json) return out.printJson(body)
      if (body.deadLetters.length === 0) {
        return out.line(Object.keys(filter).length === 0 ? 'no dead letters on this node' : 'no dead letters match')
      }
      out.table(
        ['id', 'time', 'cause', 'from', 'to', 'message', 'attempts', 'reason'],
        body.deadLetters.map(d => [
          d.id,
          formatTime(d.at),
          out.style('red', d.cause),
          d.sender,
          d.receiver,
          d.messageId,
          String(d.attempts),
          oneLine(d.reason, 60)
        ])
      )
      if (body.total > body.deadLetters.length) out.line(`(${body.deadLetters.length} of ${body.total}; raise --limit to see more)`)
    })
}
