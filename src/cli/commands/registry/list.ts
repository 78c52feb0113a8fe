/**
 * `caxton registry list [--capability] [--node] [--unreachable] [--limit]`: GET /registry/agents as a table.
 */
import type { Command } from 'commander'
import { DEFAULT_REGISTRY_LIMIT, MAX_REGISTRY_LIMIT } from '../../../api/schemas.js'
import type { RegistryListQuery } from '../../../api/types.js'
import { addGlobalOptions, integerIn, type CliContext } from '../../context.js'
import { examples } from '../../output.js'
import { agentTable } from './format.js'

interface ListOptions {
  capability?: string
  node?: string
  unreachable?: boolean
  limit?: number
}

export function registerRegistryList (registry: Command, ctx: CliContext): void {
  addGlobalOptions(registry.command('list'))
    .alias('ls')
    .description('every agent of the cluster, as this node\'s registry knows it')
    .option('--capability <name>', 'only agents offering this capability (exact name)')
    .option('--node <peerId>', 'only agents hosted by this node')
    .option('--unreachable', 'only agents whose node is unreachable')
    .option('--limit <n>', `most agents shown (default ${DEFAULT_REGISTRY_LIMIT})`, integerIn(1, MAX_REGISTRY_LIMIT))
    .addHelpText('after', examples(['caxton registry list', 'caxton registry list --node 12D3KooW...', 'caxton registry list --json']))
    .action(async (opts: ListOptions, command: Command) => {
      const query: RegistryListQuery = {}
      if (opts.capability !== undefined) query.capability = opts.capability
      if (opts.node !== undefined) query.node = opts.node
      if (opts.unreachable === true) query.reachable = false
      if (opts.limit !== undefined) query.limit = opts.limit
      await printAgents(ctx, command, query, 'no agents in the registry (deploy one with: caxton agent deploy <file.wasm>)')
    })
}

/** Lists agents for `list` and `find`. */
export async function printAgents (ctx: CliContext, command: Command, query: RegistryListQuery, empty: string): Promise<void> {
  const { client, out } = ctx.scope(command)
  const body = await client.registryAgents(query)
  if (out.json) return out.printJson(body)
  if (body.agents.length === 0) return out.line(empty)
  agentTable(out, body.agents, (ctx.io.now ?? Date.now)())
  if (body.total > body.agents.length) out.line(`(${body.agents.length} of ${body.total}; raise --limit to see more)`)
}
