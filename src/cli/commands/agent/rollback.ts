/**
 * `caxton agent rollback <id> [--version N]`: POST /agents/:id/rollback.
 */
import type { Command } from 'commander'
import { addGlobalOptions, integerIn, type CliContext } from '../../context.js'
import { examples } from '../../output.js'

export function registerAgentRollback (agent: Command, ctx: CliContext): void {
  addGlobalOptions(agent.command('rollback'))
    .description('roll an agent back to a kept version (default: the previous one); the result is a new version')
    .argument('<id>', 'agent id')
    .option('--version <n>', 'the version to take back (see: caxton agent versions <id>)', integerIn(1, Number.MAX_SAFE_INTEGER))
    .addHelpText('after', examples(['caxton agent rollback counter', 'caxton agent rollback counter --version 2', 'caxton agent rollback counter --json']) +
      '\n\nAn upgrade to that version\'s module, limits and capabilities: the agent keeps its store, timers and inbox.')
    .action(async (id: string, opts: { version?: number }, cmd: Command) => {
      const { client, out } = ctx.scope(cmd)
      const info = await client.rollbackAgent(id, opts.version)
      if (out.json) return out.printJson(info)
      out.line(`rolled agent ${info.id} back${opts.version !== undefined ? ` to version ${opts.version}` : ''}: now version ${info.version ?? '?'} (${out.state(info.state)}, sha256 ${info.moduleHash.slice(0, 12)})`)
    })
}
