/**
 * `caxton registry find <capability>`: the agents offering a capability (FIPA DF search).
 */
import type { Command } from 'commander'
import { MAX_REGISTRY_LIMIT } from '../../../api/schemas.js'
import type { RegistryListQuery } from '../../../api/types.js'
import { addGlobalOptions, integerIn, type CliContext } from '../../context.js'
import { examples } from '../../output.js'
import { printAgents } from './list.js'

export function registerRegistryFind (registry: Command, ctx: CliContext): void {
  addGlobalOptions(registry.command('find'))
    .description('agents of the cluster offering a capability (exact name), wherever they run')
    .argument('<capability>', 'capability name')
    .option('--reachable', 'only agents whose node is reachable')
    .option('--limit <n>', 'most agents shown', integerIn(1, MAX_REGISTRY_LIMIT))
    .addHelpText('after', examples(['caxton registry find echo', 'caxton registry find planner --reachable --json']))
    .action(async (capability: string, opts: { reachable?: boolean, limit?: number }, command: Command) => {
      const query: RegistryListQuery = { capability }
      if (opts.reachable === true) query.reachable = true
      if (opts.limit !== undefined) query.limit = opts.limit
      await printAgents(ctx, command, query, `no agent offers ${JSON.stringify(capability)}`)
    })
}
