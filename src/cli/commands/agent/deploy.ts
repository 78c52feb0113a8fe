/**
 * `caxton agent deploy <file.wasm> [--id <id>] [limits]`: POST /agents with the raw module.
 */
import { basename } from 'node:path'
import type { Command } from 'commander'
import type { AgentLimits } from '../../../api/types.js'
import { AGENT_ID_PATTERN } from '../../../api/schemas.js'
import { addGlobalOptions, integerIn, UsageError, type CliContext } from '../../context.js'
import { examples, formatBytes } from '../../output.js'

interface DeployOptions {
  id?: string
  maxMemoryPages?: number
  mailbox?: number
  fuel?: number
  handlerTimeout?: number
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER

export function registerAgentDeploy (agent: Command, ctx: CliContext): void {
  addGlobalOptions(agent.command('deploy'))
    .description('deploy a WebAssembly module as an agent on the node')
    .argument('<file.wasm>', 'the module to deploy')
    .option('--id <id>', 'agent id, unique in the cluster (default: the file name without .wasm)')
    .option('--max-memory-pages <n>', 'cap on linear memory, 64 KiB pages (node default: 256)', integerIn(1, 65536))
    .option('--mailbox <n>', 'messages queued before the mailbox is full (node default: 1024)', integerIn(1, MAX_SAFE))
    .option('--fuel <n>', 'fuel budget per message, ~instructions (node default: 50000000)', integerIn(1, MAX_SAFE))
    .option('--handler-timeout <ms>', 'wall-clock limit of one handle_message call, ms (node default: 5000)', integerIn(1, MAX_SAFE))
    .addHelpText('after', examples([
      'caxton agent deploy build/echo.wasm --id echo',
      'caxton agent deploy counter.wasm --max-memory-pages 16 --fuel 1000000 --handler-timeout 500',
      'caxton agent deploy echo.wasm --id echo-2 --json'
    ]))
    .action(async (file: string, opts: DeployOptions, command: Command) => {
      const { client, out } = ctx.scope(command)
      const id = opts.id ?? basename(file).replace(/\.wasm$/i, '')
      if (!new RegExp(AGENT_ID_PATTERN).test(id)) {
        throw new UsageError(opts.id === undefined
          ? `cannot use '${id}' (from the file name) as an agent id: give one with --id`
          : `--id '${id}' is not a valid agent id (1-128 of A-Z a-z 0-9 . _ -, starting with a letter or digit)`)
      }
      const limits: Partial<AgentLimits> = {}
      if (opts.maxMemoryPages !== undefined) limits.maxMemoryPages = opts.maxMemoryPages
      if (opts.mailbox !== undefined) limits.mailboxCapacity = opts.mailbox
      if (opts.fuel !== undefined) limits.fuelPerMessage = opts.fuel
      if (opts.handlerTimeout !== undefined) limits.handlerTimeoutMs = opts.handlerTimeout
      const wasm = await ctx.readFile(file)
      const info = await client.deployAgent(Object.keys(limits).length > 0 ? { id, wasm, limits } : { id, wasm })
      if (out.json) return out.printJson(info)
      out.line(`deployed agent ${info.id} (${out.state(info.state)}, ${formatBytes(info.moduleBytes)}, sha256 ${info.moduleHash.slice(0, 12)})`)
    })
}
