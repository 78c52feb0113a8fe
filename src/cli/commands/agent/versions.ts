/**
 * `caxton agent versions <id>`: GET /agents/:id/versions as a table, oldest first.
 */
import type { Command } from 'commander'
import { addGlobalOptions, type CliContext } from '../../context.js'
import { examples, formatBytes, formatTime } from '../../output.js'

export function registerAgentVersions (agent: Command, ctx: CliContext): void {
  addGlobalOptions(agent.command('versions'))
    .description("list an agent's kept versions (the node keeps agents.keepVersions for rollback)")
    .argument('<id>', 'agent id')
    .addHelpText('after', examples(['caxton agent versions counter', 'caxton agent versions counter --json']))
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { client, out } = ctx.scope(cmd)
      const body = await client.agentVersions(id)
      if (out.json) return out.printJson(body)
      out.table(
        ['version', 'deployed', 'module', 'sha256', 'limits', 'note'],
        body.versions.map(v => [
          String(v.version),
          formatTime(v.deployedAt),
          formatBytes(v.moduleBytes),
          v.moduleHash.slice(0, 12),
          Object.entries(v.limits).map(([k, n]) => `${k}=${String(n)}`).join(' ') || '-',
          [v.version === body.version ? 'current' : '', v.rollbackOf !== undefined ? `rollback to ${v.rollbackOf}` : ''].filter(t => t !== '').join(', ')
        ])
      )
    })
}
