/**
 * `caxton cluster peers`: GET /cluster/peers as a table, with durable delivery's state per
 * peer (circuit breaker, messages awaiting its ack, messages in the outbox for it).
 */
import type { Command } from 'commander'
import type { PeerDeliveryJson } from '../../../api/types.js'
import { addGlobalOptions, type CliContext } from '../../context.js'
import { examples, type Output } from '../../output.js'

/** `closed`, or the state with the failures in a row behind it: `open (5 failed)`. */
function breaker (out: Output, d: PeerDeliveryJson): string {
  const text = d.consecutiveFailures === 0 ? d.breaker : `${d.breaker} (${d.consecutiveFailures} failed)`
  if (d.breaker === 'closed') return d.consecutiveFailures === 0 ? out.style('green', text) : out.style('yellow', text)
  return out.style(d.breaker === 'open' ? 'red' : 'yellow', text)
}

export function registerClusterPeers (cluster: Command, ctx: CliContext): void {
  addGlobalOptions(cluster.command('peers'))
    .description('peers this node knows: connected or not, circuit breaker, messages in flight and queued for each')
    .addHelpText('after', examples(['caxton cluster peers', 'caxton cluster peers --json']))
    .action(async (_opts: unknown, command: Command) => {
      const { client, out } = ctx.scope(command)
      const body = await client.peers()
      if (out.json) return out.printJson(body)
      if (body.peers.length === 0) return out.line('no peers known (a single-node cluster, or not joined yet)')
      out.table(
        ['peer', 'connected', 'breaker', 'in flight', 'queued', 'address'],
        body.peers.map(p => [
          p.peerId,
          out.state(p.connected ? 'yes' : 'no'),
          p.delivery === undefined ? '-' : breaker(out, p.delivery),
          p.delivery === undefined ? '-' : String(p.delivery.inFlight),
          p.delivery === undefined ? '-' : String(p.delivery.queued),
          p.multiaddrs.length === 0 ? '-' : p.multiaddrs[0] + (p.multiaddrs.length > 1 ? ` (+${p.multiaddrs.length - 1})` : '')
        ])
      )
    })
}
