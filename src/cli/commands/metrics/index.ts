/**
 * `caxton metrics`: GET /metrics (Prometheus text).
 */
import type { Command } from 'commander'
import { addGlobalOptions, type CliContext } from '../../context.js'
import { examples } from '../../output.js'

export function registerMetricsCommand (program: Command, ctx: CliContext): void {
  addGlobalOptions(program.command('metrics'))
    .description("the node's Prometheus metrics, as text")
    .option('--grep <text>', 'only the lines containing this text')
    .addHelpText('after', examples(['caxton metrics', 'caxton metrics --grep caxton_router']) +
      '\n\nThe output is Prometheus text exposition format, with or without --json.')
    .action(async (opts: { grep?: string }, command: Command) => {
      const { client, out } = ctx.scope(command)
      const text = await client.metrics()
      const lines = text.split('\n').filter(l => l !== '')
      const kept = opts.grep === undefined ? lines : lines.filter(l => l.includes(opts.grep as string))
      for (const line of kept) out.line(line)
    })
}
