/**
 * `caxton cluster peers`: GET /cluster/peers as a table.
 */
import type { Command } from 'commander'
import { addGlobalOptions, type CliContext } from '../../context.js'
import { examples } from '../../output.js'

export function registerClusterPeers (cluster: Command, ctx: CliContext): void {
  addGlobalOptions(cluster.command('peers'))
    .description('peers this node knows, and whether connected')
    .addHelpText('after', examples(['caxton cluster peers', 'caxton cluster peers --json']))
    .action(async (_opts: unknown, command: Command) => {
      const { client, out } = ctx.scope(command)
      const body = await client.peers()
      if (out.json) return out.printJson(body)
      if (body.peers.length === 0) return out.line('no peers known (a single-node cluster, or not joined yet)')
      out.table(
        ['peer', 'connected', 'address'],
        body.peers.map(p => [
          p.peerId,
          out.state(p.connected ? 'yes' : 'no'),
          p.multiaddrs.length === 0 ? '-' : p.multiaddrs[0] + (p.multiaddrs.length > 1 ? ` (+${p.multiaddrs.length - 1})` : '')
        ])
      )
    })
}
