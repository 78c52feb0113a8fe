/**
 * The `caxton` command tree and `run`, which executes one command line in-process:
 * tests call `run(argv, io)` with string-collecting writers; `main.ts` calls it with
 * the process's streams.
 */
import { Command, CommanderError, Help, type Option } from 'commander'
import { CAXTON_VERSION } from '../api/version.js'
import { ApiError, ApiUnreachableError, ApiTimeoutError } from './client.js'
import { registerAgentCommands } from './commands/agent/index.js'
import { registerAuditCommands } from './commands/audit/index.js'
import { registerClusterCommands } from './commands/cluster/index.js'
import { registerCompletionCommands } from './commands/completion/index.js'
import { registerConversationCommands } from './commands/conversation/index.js'
import { registerDlqCommands } from './commands/dlq/index.js'
import { registerMessageCommands } from './commands/message/index.js'
import { registerMetricsCommand } from './commands/metrics/index.js'
import { registerRegistryCommands } from './commands/registry/index.js'
import { registerStatusCommand } from './commands/status/index.js'
import { registerTokenCommands } from './commands/token/index.js'
import { addGlobalOptions, CliError, GLOBAL_OPTIONS_GROUP, createContext, type CliContext, type CliIo, type RegisterCommands } from './context.js'
import { examples } from './output.js'

export interface RunOptions {
  /**
   * More nouns to register after the built-in ones (`main.ts` passes the `node` noun,
   * which lives outside this module's tests).
   */
  commands?: RegisterCommands[]
}

/** The command tree for one run (commander keeps parse state, so never reuse one). */
export function createProgram (ctx: CliContext, options: RunOptions = {}): Command {
  const { io } = ctx
  const program = new Command('caxton')
  // Settings below are copied into every subcommand created with `.command()`.
  program
    .description('Caxton mesh: deploy WebAssembly agents and exchange FIPA-ACL messages across a cluster')
    .version(CAXTON_VERSION, '-V, --version', 'print the CLI version')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .configureHelp({
      sortSubcommands: true,
      // A command's own options first, the global ones last.
      groupItems<T extends Command | Option> (this: Help, unsorted: T[], visible: T[], getGroup: (item: T) => string): Map<string, T[]> {
        const groups = Help.prototype.groupItems.bind(this)(unsorted, visible, getGroup)
        const global = groups.get(GLOBAL_OPTIONS_GROUP)
        if (global !== undefined) {
          groups.delete(GLOBAL_OPTIONS_GROUP)
          groups.set(GLOBAL_OPTIONS_GROUP, global)
        }
        return groups
      }
    })
    .showHelpAfterError('(add --help for usage)')
    // Program options only before the noun; commands declare their own (addGlobalOptions).
    .enablePositionalOptions()
  addGlobalOptions(program)
    .addHelpText('after', examples([
      'caxton agent deploy echo.wasm --id echo',
      'caxton message send echo --content hello --wait 2000',
      'caxton agent list --json',
      'CAXTON_API=http://127.0.0.1:7421 caxton status'
    ]))

  registerAgentCommands(program, ctx)
  registerMessageCommands(program, ctx)
  registerClusterCommands(program, ctx)
  registerStatusCommand(program, ctx)
  registerMetricsCommand(program, ctx)
  registerRegistryCommands(program, ctx)
  registerDlqCommands(program, ctx)
  registerConversationCommands(program, ctx)
  registerTokenCommands(program, ctx)
  registerAuditCommands(program, ctx)
  for (const register of options.commands ?? []) register(program, ctx)
  // Last: it reads the tree built above.
  registerCompletionCommands(program, ctx)
  return program
}

/**
 * Runs one command line (without `node` and the script path).
 * @returns the exit code: 0 success; 1 the API or the node said no, or was unreachable;
 *   2 the command line itself was wrong
 */
export async function run (argv: string[], io: CliIo, options: RunOptions = {}): Promise<number> {
  const ctx = createContext(io)
  const program = createProgram(ctx, options)
  let running: Command = program
  program.hook('preAction', (_program, actionCommand) => { running = actionCommand })
  try {
    await program.parseAsync(argv, { from: 'user' })
    return ctx.exitCode
  } catch (err) {
    return report(err, io, running.optsWithGlobals().json === true)
  }
}

function report (err: unknown, io: CliIo, json: boolean): number {
  if (err instanceof CommanderError) {
    // Commander has already printed its message (or the help/version) through io.
    return err.exitCode === 0 ? 0 : 2
  }
  if (err instanceof ApiUnreachableError) {
    io.stderr(`error: cannot reach the Caxton API at ${err.url}: is a node running? (set --api or CAXTON_API)\n`)
    io.stderr(`  cause: ${err.reason}\n`)
    return 1
  }
  if (err instanceof ApiTimeoutError) {
    io.stderr(`error: ${err.message} (${err.code}); raise --timeout if the node is busy\n`)
    return 1
  }
  if (err instanceof ApiError) {
    // Scripts using --json get the API's error body on stdout as well.
    if (json && err.body !== undefined) io.stdout(JSON.stringify(err.body, null, 2) + '\n')
    io.stderr(`error: ${err.message} (${err.code})\n`)
    if (err.status === 401) {
      io.stderr('  give a token with --token or CAXTON_TOKEN; a node keeps its admin token in <data folder>/admin.token,\n' +
        '  which the CLI finds by itself when run from the folder the node was started in\n')
    }
    // A refusal that will pass (503 OUTBOX_FULL): the request changed nothing, and may be repeated.
    if (err.retryAfterMs !== undefined) {
      const s = Math.ceil(err.retryAfterMs / 1000)
      io.stderr(`  nothing was accepted; try again in ${s} s or later (Retry-After: ${s})\n`)
    }
    return 1
  }
  if (err instanceof CliError) {
    io.stderr(err.code === 'USAGE' ? `error: ${err.message}\n(add --help for usage)\n` : `error: ${err.message} (${err.code})\n`)
    return err.exitCode
  }
  io.stderr(`error: ${err instanceof Error ? err.message : String(err)}\n`)
  return 1
}
