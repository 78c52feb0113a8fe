/**
 * `caxton dlq purge [--agent] [--cause] [--since] [--yes]`: DELETE /dead-letters. Without
 * a filter it deletes every dead letter of the node, so it asks first (or wants `--yes`).
 */
import type { Command } from 'commander'
import { addGlobalOptions, CliError, UsageError, type CliContext } from '../../context.js'
import { examples } from '../../output.js'
import { addFilterOptions, filterOf, type FilterOptions } from './filter.js'

export function registerDlqPurge (dlq: Command, ctx: CliContext): void {
  addFilterOptions(addGlobalOptions(dlq.command('purge')), ctx)
    .description('delete every dead letter matching the filters (without one: all of them, after asking)')
    .option('-y, --yes', 'do not ask before deleting every dead letter')
    .addHelpText('after', examples([
      'caxton dlq purge --agent billing --cause expired',
      'caxton dlq purge --since 7d --json',
      'caxton dlq purge --yes'
    ]) + '\n\nWithout --agent, --cause or --since it asks on the terminal first; when stdin is not a\nterminal it refuses unless --yes is given.')
    .action(async (opts: FilterOptions & { yes?: boolean }, command: Command) => {
      const { client, out } = ctx.scope(command)
      const filter = filterOf(opts)
      if (Object.keys(filter).length === 0 && opts.yes !== true) {
        const confirm = ctx.io.confirm
        if (confirm === undefined) {
          throw new UsageError('without --agent, --cause or --since, purge deletes every dead letter of the node: add --yes (stdin is not a terminal, so it cannot ask)')
        }
        const { total } = await client.listDeadLetters({ limit: 1 })
        if (total > 0 && !await confirm(`Delete all ${total} dead letter${total === 1 ? '' : 's'} on this node?`)) {
          throw new CliError('ABORTED', 'nothing deleted')
        }
      }
      const res = await client.purgeDeadLetters(filter)
      if (out.json) return out.printJson(res)
      out.line(`deleted ${res.deleted} dead letter${res.deleted === 1 ? '' : 's'}`)
    })
}
