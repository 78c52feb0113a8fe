/**
 * `caxton agent upgrade <id> <file.wasm> [limits] [--capability name[@version]]... [--capabilities file.json]`:
 * PUT /agents/:id, the module in the form `agent deploy` sends it.
 */
import type { Command } from 'commander'
import { addGlobalOptions, type CliContext } from '../../context.js'
import { examples, formatBytes } from '../../output.js'
import { addModuleOptions, moduleRequest, type ModuleOptions } from './deploy.js'

export function registerAgentUpgrade (agent: Command, ctx: CliContext): void {
  const command = addGlobalOptions(agent.command('upgrade'))
    .description('upgrade an agent in place to a new module: same id, store, timers and inbox; a new version')
    .argument('<id>', 'agent id')
    .argument('<file.wasm>', 'the new module')
  addModuleOptions(command, 'current')
  command
    .addHelpText('after', examples([
      'caxton agent upgrade counter build/counter.wasm',
      'caxton agent upgrade counter counter.wasm --fuel 2000000 --capability counter@2.0.0',
      'caxton agent upgrade counter counter.wasm --json'
    ]) + '\n\nThe node checks the module first: one it refuses leaves the current version running (MODULE_INVALID).\n' +
      'The old instance finishes the message it is handling; the new one handles the rest, in order.\n' +
      'Limits and capabilities not given are the current version\'s. Undo with: caxton agent rollback <id>')
    .action(async (id: string, file: string, opts: ModuleOptions, cmd: Command) => {
      const { client, out } = ctx.scope(cmd)
      const info = await client.upgradeAgent({ id, ...await moduleRequest(file, opts, ctx) })
      if (out.json) return out.printJson(info)
      out.line(`upgraded agent ${info.id} to version ${info.version ?? '?'} (${out.state(info.state)}, ${formatBytes(info.moduleBytes)}, sha256 ${info.moduleHash.slice(0, 12)})`)
    })
}
