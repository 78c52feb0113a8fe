/**
 * `caxton registry <verb>`: the cluster registry as the node sees it (the FIPA Directory
 * Facilitator's yellow pages): list, find by capability, show one agent, status.
 */
import type { Command } from 'commander'
import type { CliContext } from '../../context.js'
import { examples } from '../../output.js'
import { registerRegistryFind } from './find.js'
import { registerRegistryList } from './list.js'
import { registerRegistryShow } from './show.js'
import { registerRegistryStatus } from './status.js'

export function registerRegistryCommands (program: Command, ctx: CliContext): void {
  const registry = program
    .command('registry')
    .description('the cluster\'s agents, where they run and what they offer (from the node\'s registry)')
    .addHelpText('after', examples(['caxton registry list', 'caxton registry find echo', 'caxton registry show echo', 'caxton registry status']))
  registerRegistryList(registry, ctx)
  registerRegistryFind(registry, ctx)
  registerRegistryShow(registry, ctx)
  registerRegistryStatus(registry, ctx)
}
