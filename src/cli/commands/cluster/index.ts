/**
 * `caxton cluster <verb>`: the node's view of the cluster, and a new cluster key.
 */
import type { Command } from 'commander'
import type { CliContext } from '../../context.js'
import { examples } from '../../output.js'
import { registerClusterKeygen } from './keygen.js'
import { registerClusterMembers } from './members.js'
import { registerClusterPeers } from './peers.js'

export function registerClusterCommands (program: Command, ctx: CliContext): void {
  const cluster = program
    .command('cluster')
    .description("the node's view of the cluster; a new cluster key")
    .addHelpText('after', examples(['caxton cluster members', 'caxton cluster peers', 'caxton cluster keygen --out cluster.key']))
  registerClusterKeygen(cluster, ctx)
  registerClusterMembers(cluster, ctx)
  registerClusterPeers(cluster, ctx)
}
