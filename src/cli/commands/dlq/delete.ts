/**
 * `caxton dlq delete <id>`: DELETE /dead-letters/:id.
 */
import type { Command } from 'commander'
import { addGlobalOptions, type CliContext } from '../../context.js'
import { examples } from '../../output.js'

export function registerDlqDelete (dlq: Command, ctx: CliContext): void {
  addGlobalOptions(dlq.command('delete'))
    .alias('rm')
    .description('delete one dead letter')
    .argument('<id>', 'dead letter id')
    .addHelpText('after', examples(['caxton dlq delete 0193a4f2c1d2e00001']) + '\n\nWith --json nothing is printed on success (the API answers 204 No Content).')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, out } = ctx.scope(command)
      await client.deleteDeadLetter(id)
      if (!out.json) out.line(`deleted dead letter ${id}`)
    })
}
