/**
 * `caxton registry show <id>`: GET /registry/agents/:id as a key/value block.
 */
import type { Command } from 'commander'
import { addGlobalOptions, type CliContext } from '../../context.js'
import { examples, formatDuration, formatTime } from '../../output.js'

export function registerRegistryShow (registry: Command, ctx: CliContext): void {
  addGlobalOptions(registry.command('show'))
    .description('one agent of the cluster: where it runs, its state, what it offers')
    .argument('<id>', 'agent id')
    .addHelpText('after', examples(['caxton registry show echo', 'caxton registry show echo --json']))
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, out } = ctx.scope(command)
      const a = await client.registryAgent(id)
      if (out.json) return out.printJson(a)
      const now = (ctx.io.now ?? Date.now)()
      out.keyValue([
        ['id', a.id],
        ['node', a.node + (a.local ? ' (this node)' : '')],
        ['status', out.state(a.status) + (a.status !== a.state ? ` (last published state: ${a.state})` : '')],
        ['capabilities', a.capabilities.map(c => {
          const head = c.version === undefined ? c.name : `${c.name}@${c.version}`
          const extra = [c.description, c.schema === undefined ? undefined : 'schema: ' + JSON.stringify(c.schema)].filter(x => x !== undefined)
          return extra.length === 0 ? head : `${head}  ${extra.join('  ')}`
        })],
        ['updated', `${formatTime(a.updatedAt)} (${formatDuration(now - a.updatedAt)} ago)`],
        ['version', `write ${a.version.seq} of ${a.version.by}${a.conflicts > 0 ? out.style('yellow', `, also registered by ${a.conflicts} other node(s)`) : ''}`]
      ])
    })
}
