/**
 * `caxton registry status`: GET /registry, the replica's counts and digest.
 */
import type { Command } from 'commander'
import { addGlobalOptions, type CliContext } from '../../context.js'
import { examples } from '../../output.js'

export function registerRegistryStatus (registry: Command, ctx: CliContext): void {
  addGlobalOptions(registry.command('status'))
    .description('this node\'s registry replica: agents, tombstones, digest (equal digests: same registry)')
    .addHelpText('after', examples(['caxton registry status', 'caxton registry status --json']))
    .action(async (_opts: unknown, command: Command) => {
      const { client, out } = ctx.scope(command)
      const s = await client.registrySummary()
      if (out.json) return out.printJson(s)
      out.keyValue([
        ['node', s.nodeId],
        ['agents', String(s.agents)],
        ['entries', `${s.entries} (${s.tombstones} tombstones)`],
        ['digest', s.digest],
        ['capabilities', s.capabilities],
        ['unreachable', s.unreachableNodes],
        ['healthy', out.state(s.healthy ? 'yes' : 'no')]
      ])
    })
}
