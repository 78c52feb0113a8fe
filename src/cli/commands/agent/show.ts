/**
 * `caxton agent show <id>`: GET /agents/:id as a key/value block.
 */
import type { Command } from 'commander'
import { addGlobalOptions, type CliContext } from '../../context.js'
import { examples, formatBytes, formatDuration, formatTime } from '../../output.js'

export function registerAgentShow (agent: Command, ctx: CliContext): void {
  addGlobalOptions(agent.command('show'))
    .description('show one agent: state, module, limits, counters')
    .argument('<id>', 'agent id')
    .addHelpText('after', examples(['caxton agent show echo', 'caxton agent show echo --json']))
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, out } = ctx.scope(command)
      const a = await client.getAgent(id)
      if (out.json) return out.printJson(a)
      const now = (ctx.io.now ?? Date.now)()
      const pairs: Array<[string, string | string[]]> = [
        ['id', a.id],
        ['state', out.state(a.state)],
        ...(a.version !== undefined ? [['version', String(a.version)] as [string, string]] : []),
        ['module', `${formatBytes(a.moduleBytes)}, sha256 ${a.moduleHash}`],
        ['deployed', `${formatTime(a.deployedAt)} (${formatDuration(now - a.deployedAt)} ago)`],
        ['limits', [
          `memory   ${a.limits.maxMemoryPages} pages (${formatBytes(a.limits.maxMemoryPages * 65536)})`,
          `mailbox  ${a.limits.mailboxCapacity} messages`,
          `fuel     ${a.limits.fuelPerMessage} per message`,
          `timeout  ${a.limits.handlerTimeoutMs} ms per message`,
          ...(a.limits.sendsPerSecond !== undefined
            ? [`sends    ${a.limits.sendsPerSecond}/s, burst ${a.limits.sendBurst ?? '?'}, ${formatBytes(a.limits.sendBytesPerSecond ?? 0)}/s`]
            : [])
        ]],
        ['messages', `received ${a.stats.received}, handled ${a.stats.handled}, sent ${a.stats.sent}, errors ${a.stats.errors}, queued ${a.stats.queued}` +
          (a.stats.overBudget !== undefined && a.stats.overBudget > 0 ? `, over budget ${a.stats.overBudget}` : '')],
        ['memory', `${a.stats.memoryPages} pages (${formatBytes(a.stats.memoryPages * 65536)})`]
      ]
      if (a.reason !== undefined) pairs.push(['reason', out.style('yellow', a.reason)])
      if (a.lastError !== undefined) pairs.push(['last error', out.style('red', a.lastError)])
      out.keyValue(pairs)
    })
}
