/**
 * `caxton agent remove <id>`: DELETE /agents/:id.
 */
import type { Command } from 'commander'
import { addGlobalOptions, type CliContext } from '../../context.js'
import { examples } from '../../output.js'

export function registerAgentRemove (agent: Command, ctx: CliContext): void {
  addGlobalOptions(agent.command('remove'))
    .alias('rm')
    .description('drain, stop and remove an agent')
    .argument('<id>', 'agent id')
    .addHelpText('after', examples(['caxton agent remove echo']) + '\n\nWith --json nothing is printed on success (the API answers 204 No Content).')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, out } = ctx.scope(command)
      await client.removeAgent(id)
      if (!out.json) out.line(`removed agent ${id}`)
    })
}
