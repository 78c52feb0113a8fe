/**
 * `caxton status`: GET /node and GET /ready, together.
 */
import type { Command } from 'commander'
import { addGlobalOptions, type CliContext } from '../../context.js'
import { CAXTON_VERSION } from '../../../api/version.js'
import { examples, formatDuration } from '../../output.js'

export function registerStatusCommand (program: Command, ctx: CliContext): void {
  addGlobalOptions(program.command('status'))
    .description("the node's identity, addresses and readiness (exit code 1 when not ready)")
    .addHelpText('after', examples(['caxton status', 'caxton status --json', 'caxton --api http://127.0.0.1:7421 status']) +
      '\n\n--json prints { "node": <GET /node>, "ready": <GET /ready> }.')
    .action(async (_opts: unknown, command: Command) => {
      const { client, out } = ctx.scope(command)
      const [node, ready] = await Promise.all([client.node(), client.ready()])
      if (!ready.ready) ctx.exitCode = 1
      if (out.json) return out.printJson({ node, ready })
      const now = (ctx.io.now ?? Date.now)()
      const checks = Object.entries(ready.checks)
      const width = Math.max(0, ...checks.map(([name]) => name.length))
      out.keyValue([
        ['node', `${node.name} (${node.peerId})`],
        ['version', `${node.version} (cli ${CAXTON_VERSION})`],
        ['api', node.api],
        ['uptime', formatDuration(now - node.startedAt)],
        ['addresses', node.multiaddrs],
        ['ready', out.state(ready.ready ? 'yes' : 'no')],
        ['checks', checks.map(([name, c]) =>
          `${name.padEnd(width)}  ${out.state(c.ok ? 'ok' : 'FAIL')}${c.detail === undefined ? '' : `  ${c.detail}`}`)]
      ])
    })
}
