/**
 * `caxton cluster <verb>`: the node's view of the cluster.
 */
import type { Command } from 'commander'
import type { CliContext } from '../../context.js'
import { examples } from '../../output.js'
import { registerClusterMembers } from './members.js'
import { registerClusterPeers } from './peers.js'

export function registerClusterCommands (program: Command, ctx: CliContext): void {
  const cluster = program
    .command('cluster')
    .description("the node's view of the cluster")
    .addHelpText('after', examples(['caxton cluster members', 'caxton cluster peers']))
  registerClusterMembers(cluster, ctx)
  registerClusterPeers(cluster, ctx)
}
