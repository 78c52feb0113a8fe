/**
 * `caxton agent list`: GET /agents as a table.
 */
import type { Command } from 'commander'
import { addGlobalOptions, type CliContext } from '../../context.js'
import { examples, formatDuration } from '../../output.js'

export function registerAgentList (agent: Command, ctx: CliContext): void {
  addGlobalOptions(agent.command('list'))
    .alias('ls')
    .description("list the node's agents")
    .addHelpText('after', examples(['caxton agent list', 'caxton agent list --json']))
    .action(async (_opts: unknown, command: Command) => {
      const { client, out } = ctx.scope(command)
      const body = await client.listAgents()
      if (out.json) return out.printJson(body)
      if (body.agents.length === 0) return out.line('no agents on this node (deploy one with: caxton agent deploy <file.wasm>)')
      const now = (ctx.io.now ?? Date.now)()
      out.table(
        ['id', 'state', 'queued', 'handled', 'errors', 'memory', 'age'],
        body.agents.map(a => [
          a.id,
          out.state(a.state),
          String(a.stats.queued),
          String(a.stats.handled),
          String(a.stats.errors),
          `${a.stats.memoryPages}/${a.limits.maxMemoryPages} pages`,
          formatDuration(now - a.deployedAt)
        ])
      )
    })
}
