/**
 * `caxton agent deploy <file.wasm> [--id <id>] [limits] [--capability name[@version]]... [--capabilities file.json]`:
 * POST /agents with the raw module (or the JSON form when a capability carries a description or schema).
 * The limit and capability options, and the request they make, are shared with `agent upgrade`.
 */
import { basename } from 'node:path'
import type { Command } from 'commander'
import type { AgentLimits, CapabilityJson } from '../../../api/types.js'
import { AGENT_ID_PATTERN } from '../../../api/schemas.js'
import { InvalidCapabilityError } from '../../../registry/errors.js'
import { formatCapability, parseCapabilities, parseCapabilityRef } from '../../../registry/capabilities.js'
import { addGlobalOptions, CliError, integerIn, UsageError, type CliContext } from '../../context.js'
import { examples, formatBytes } from '../../output.js'

/** The options of a module's limits and capabilities, shared by `deploy` and `upgrade`. */
export interface ModuleOptions {
  maxMemoryPages?: number
  mailbox?: number
  fuel?: number
  handlerTimeout?: number
  sendsPerSecond?: number
  sendBurst?: number
  sendBytesPerSecond?: number
  capability?: string[]
  capabilities?: string
}

interface DeployOptions extends ModuleOptions {
  id?: string
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

const MAX_SAFE = Number.MAX_SAFE_INTEGER

export function registerAgentDeploy (agent: Command, ctx: CliContext): void {
  const command = addGlobalOptions(agent.command('deploy'))
    .description('deploy a WebAssembly module as an agent on the node')
    .argument('<file.wasm>', 'the module to deploy')
    .option('--id <id>', 'agent id, unique in the cluster (default: the file name without .wasm)')
  addModuleOptions(command, 'node default')
  command
    .addHelpText('after', examples([
      'caxton agent deploy build/echo.wasm --id echo',
      'caxton agent deploy echo.wasm --id echo --capability echo@1.0.0 --capability ping',
      'caxton agent deploy planner.wasm --capabilities planner-capabilities.json',
      'caxton agent deploy counter.wasm --max-memory-pages 16 --fuel 1000000 --handler-timeout 500',
      'caxton agent deploy broadcaster.wasm --sends-per-second 20000 --send-burst 5000',
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
      const info = await client.deployAgent({ id, ...await moduleRequest(file, opts, ctx) })
      if (out.json) return out.printJson(info)
      const offered = info.capabilities ?? []
      out.line(`deployed agent ${info.id} (${out.state(info.state)}, ${formatBytes(info.moduleBytes)}, sha256 ${info.moduleHash.slice(0, 12)})` +
        (offered.length > 0 ? `, offering ${offered.map(formatCapability).join(', ')}` : ''))
    })
}

/**
 * Adds the limit and capability options of {@link ModuleOptions}; `defaults` says what a
 * limit not given is (`node default` for a deploy, the current version's for an upgrade).
 */
export function addModuleOptions (command: Command, defaults: 'node default' | 'current'): Command {
  const d = (value: string): string => defaults === 'current' ? 'default: the current version\'s' : `node default: ${value}`
  return command
    .option('--max-memory-pages <n>', `cap on linear memory, 64 KiB pages (${d('256')})`, integerIn(1, 65536))
    .option('--mailbox <n>', `messages queued before the mailbox is full (${d('1024')})`, integerIn(1, MAX_SAFE))
    .option('--fuel <n>', `fuel budget per message, ~instructions (${d('50000000')})`, integerIn(1, MAX_SAFE))
    .option('--handler-timeout <ms>', `wall-clock limit of one handle_message call, ms (${d('5000')})`, integerIn(1, MAX_SAFE))
    .option('--sends-per-second <n>', `send budget: messages per second, sustained; a reply is free (${d('1000')})`, integerIn(1, MAX_SAFE))
    .option('--send-burst <n>', `send budget: messages at once after a quiet spell (${d('1000')})`, integerIn(1, MAX_SAFE))
    .option('--send-bytes-per-second <n>', `send budget: bytes per second (${d('4194304')})`, integerIn(1, MAX_SAFE))
    .option('--capability <name[@version]>', 'a capability the agent offers, published in the cluster registry; repeatable', collect)
    .option('--capabilities <file.json>', 'capabilities as a JSON array of { name, description?, version?, schema? }')
}

/**
 * The module read from `file`, with the limits and capabilities the options give (each
 * absent when none is given).
 * @throws UsageError (a bad capability), CliError (a file that cannot be read, or bad JSON)
 */
export async function moduleRequest (file: string, opts: ModuleOptions, ctx: CliContext): Promise<{ wasm: Uint8Array, limits?: Partial<AgentLimits>, capabilities?: CapabilityJson[] }> {
  const limits: Partial<AgentLimits> = {}
  if (opts.maxMemoryPages !== undefined) limits.maxMemoryPages = opts.maxMemoryPages
  if (opts.mailbox !== undefined) limits.mailboxCapacity = opts.mailbox
  if (opts.fuel !== undefined) limits.fuelPerMessage = opts.fuel
  if (opts.handlerTimeout !== undefined) limits.handlerTimeoutMs = opts.handlerTimeout
  if (opts.sendsPerSecond !== undefined) limits.sendsPerSecond = opts.sendsPerSecond
  if (opts.sendBurst !== undefined) limits.sendBurst = opts.sendBurst
  if (opts.sendBytesPerSecond !== undefined) limits.sendBytesPerSecond = opts.sendBytesPerSecond
  const capabilities = await readCapabilities(opts, ctx)
  const req: { wasm: Uint8Array, limits?: Partial<AgentLimits>, capabilities?: CapabilityJson[] } = { wasm: await ctx.readFile(file) }
  if (Object.keys(limits).length > 0) req.limits = limits
  if (capabilities.length > 0) req.capabilities = capabilities
  return req
}

/** `--capabilities <file>` then each `--capability`, checked here so a typo is a usage error. */
async function readCapabilities (opts: ModuleOptions, ctx: CliContext): Promise<CapabilityJson[]> {
  const out: CapabilityJson[] = []
  try {
    if (opts.capabilities !== undefined) {
      const text = Buffer.from(await ctx.readFile(opts.capabilities)).toString('utf8')
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch (err) {
        throw new CliError('FILE_INVALID', `${opts.capabilities} is not JSON: ${(err as Error).message}`)
      }
      out.push(...parseCapabilities(value, `--capabilities ${opts.capabilities}`))
    }
    for (const [i, ref] of (opts.capability ?? []).entries()) out.push(parseCapabilityRef(ref, `--capability #${i + 1}`))
    // the same (name, version) twice across both options: the node would refuse it too
    parseCapabilities(out, 'capabilities')
  } catch (err) {
    if (err instanceof InvalidCapabilityError) throw new UsageError(err.message)
    throw err
  }
  return out
}
