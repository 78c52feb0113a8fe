/**
 * `caxton dlq replay <id>`: POST /dead-letters/:id/replay.
 */
import type { Command } from 'commander'
import { addGlobalOptions, type CliContext } from '../../context.js'
import { examples } from '../../output.js'

export function registerDlqReplay (dlq: Command, ctx: CliContext): void {
  addGlobalOptions(dlq.command('replay'))
    .description('send a dead letter again to its receiver, with a new deadline (it leaves the queue)')
    .argument('<id>', 'dead letter id')
    .addHelpText('after', examples(['caxton dlq replay 0193a4f2c1d2e00001', 'caxton dlq replay 0193a4f2c1d2e00001 --json']) +
      '\n\nThe message keeps its id: follow it with `caxton message status <message id>`.')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, out } = ctx.scope(command)
      const res = await client.replayDeadLetter(id)
      if (out.json) return out.printJson(res)
      out.line(`replayed dead letter ${id}: message ${res.messageId} is queued again for ${res.receiver}`)
    })
}
