/**
 * `caxton message handled [--after <key>] [--limit <n>]`: GET /messages/handled, the
 * handled log (kept only when the node runs with `delivery.handledLog`), oldest first.
 */
import type { Command } from 'commander'
import type { HandledLogQuery } from '../../../api/types.js'
import { addGlobalOptions, integerIn, type CliContext } from '../../context.js'
import { examples, formatTime } from '../../output.js'

/** The API's bound and default of `limit`. */
const MAX_LIMIT = 10_000
const DEFAULT_LIMIT = 1000

export function registerMessageHandled (message: Command, ctx: CliContext): void {
  addGlobalOptions(message.command('handled'))
    .description('the handled log: each message an agent of the node handled, oldest first (needs delivery.handledLog)')
    .option('--after <key>', 'start after this key (the last KEY of the previous page)')
    .option('--limit <n>', `most lines (1-${MAX_LIMIT}, default ${DEFAULT_LIMIT})`, integerIn(1, MAX_LIMIT))
    .addHelpText('after', examples(['caxton message handled', 'caxton message handled --after 0000010000002a --limit 100 --json']))
    .action(async (opts: HandledLogQuery, command: Command) => {
      const { client, out } = ctx.scope(command)
      const query: HandledLogQuery = {}
      if (opts.after !== undefined) query.after = opts.after
      if (opts.limit !== undefined) query.limit = opts.limit
      const body = await client.handledLog(query)
      if (out.json) return out.printJson(body)
      if (body.entries.length === 0) {
        return out.line(opts.after === undefined
          ? 'no handled messages (the node keeps this log only with delivery.handledLog: CAXTON_DELIVERY_HANDLED_LOG=true)'
          : `no handled messages after ${opts.after}`)
      }
      out.table(
        ['key', 'time', 'agent', 'performative', 'from', 'message', 'sent'],
        body.entries.map(e => [e.key, formatTime(e.at), e.receiver, e.performative, e.sender, e.messageId, e.sent.length === 0 ? '-' : e.sent.join(',')])
      )
      if (body.entries.length === (opts.limit ?? DEFAULT_LIMIT)) out.line(`(more may follow: --after ${body.entries[body.entries.length - 1].key})`)
    })
}
