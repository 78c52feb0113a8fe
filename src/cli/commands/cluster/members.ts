/**
 * `caxton cluster members`: GET /cluster/members, the cluster's members as the node's
 * membership (SWIM) sees them, as a table.
 */
import { Option, type Command } from 'commander'
import type { MemberListJson, MemberStateJson } from '../../../api/facade.js'
import { addGlobalOptions, type CliContext } from '../../context.js'
import { examples, formatDuration, type Output } from '../../output.js'

const STATES: MemberStateJson[] = ['alive', 'suspect', 'dead', 'left']

function colour (out: Output, state: string): string {
  if (state === 'alive') return out.style('green', state)
  if (state === 'dead') return out.style('red', state)
  if (state === 'suspect') return out.style('yellow', state)
  return out.style('dim', state)
}

export function registerClusterMembers (cluster: Command, ctx: CliContext): void {
  addGlobalOptions(cluster.command('members'))
    .description("the cluster's members as this node's membership sees them: state, incarnation, last change")
    .addOption(new Option('--state <state>', 'only members in this state').choices(STATES))
    .addHelpText('after', examples(['caxton cluster members', 'caxton cluster members --state dead', 'caxton cluster members --json']))
    .action(async (opts: { state?: MemberStateJson }, command: Command) => {
      const { client, out } = ctx.scope(command)
      const body = await client.members({ state: opts.state })
      if (out.json) return out.printJson(body)
      const now = (ctx.io.now ?? Date.now)()
      const c = body.counts
      out.line(`${c.alive + c.suspect + c.dead + c.left} members: ${c.alive} alive, ${c.suspect} suspect, ${c.dead} dead, ${c.left} left · incarnation ${body.incarnation} · health score ${body.healthScore}`)
      if (body.members.length === 0) return out.line(`no member is ${opts.state ?? 'known'}`)
      out.table(
        ['member', 'state', 'incarnation', 'changed', 'address'],
        body.members.map(m => [
          m.self ? `${m.id} (this node)` : m.id,
          colour(out, m.state),
          String(m.incarnation),
          `${formatDuration(now - m.changedAt)} ago`,
          m.addrs.length === 0 ? '-' : m.addrs[0] + (m.addrs.length > 1 ? ` (+${m.addrs.length - 1})` : '')
        ])
      )
    })
}
