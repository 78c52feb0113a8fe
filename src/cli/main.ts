#!/usr/bin/env node
/**
 * The `caxton` binary.
 *
 * HOW COMMANDS ARE LAID OUT (follow this when adding one)
 *
 * - Noun-verb: `caxton <noun> <verb> [args] [options]`. One folder per noun,
 *   `src/cli/commands/<noun>/`, one file per verb, `<verb>.ts`, and an `index.ts`.
 * - `commands/<noun>/index.ts` exports
 *     `export function register<Noun>Commands (program: Command, ctx: CliContext): void`
 *   which creates the noun with `program.command('<noun>')` (NOT `new Command()` +
 *   `addCommand`: only `.command()` copies the program's settings — exitOverride, the
 *   output writers, help layout — into the subcommand) and calls each verb's register
 *   function with it.
 * - `commands/<noun>/<verb>.ts` exports
 *     `export function register<Noun><Verb> (noun: Command, ctx: CliContext): void`
 *   which adds `addGlobalOptions(noun.command('<verb>'))` (when it talks to the API)
 *   with its description, arguments, options, `.addHelpText('after', examples([...]))`,
 *   and an async action whose last argument is the command itself:
 *     `.action(async (arg, opts, command: Command) => {
 *        const { client, out, globals } = ctx.scope(command)
 *        const body = await client.something(...)
 *        if (out.json) return out.printJson(body)   // --json: the API's JSON, exactly
 *        out.line(...) / out.table(...) / out.keyValue(...)
 *      })`
 * - Never write to `console`/`process.stdout` in a command: use `ctx.io` or `out`, so
 *   `run(argv, io)` works in-process in tests. Never call `process.exit`: throw
 *   (`UsageError` → exit 2, `CliError`/`ApiError` → exit 1, printed by `run`) or set
 *   `ctx.exitCode`. Numbers are parsed with `integerIn(min, max)`.
 * - The program is parsed with positional options: its own options (`--api`, `--json`,
 *   `--timeout`, `--version`) count only before the noun. That is why each verb that
 *   talks to the API adds the same three with `addGlobalOptions` (so `caxton agent list
 *   --json` works), and why a verb may give `--api` another meaning (`node start --api
 *   <host:port>`). `ctx.scope(command)` merges them, the verb's value winning.
 *
 * The `node` noun (`caxton node start`) lives in `commands/node/`; it is registered
 * here rather than in `program.ts` so the rest of the CLI, and its tests, do not
 * depend on it.
 */
import '../polyfill.js'
import { createInterface } from 'node:readline/promises'
import { registerNodeCommands } from './commands/node/index.js'
import { run } from './program.js'

/** A y/N question on stderr (stdout may be --json), answered on stdin; Ctrl-C or Ctrl-D is no. */
async function confirm (question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  // Closing the interface alone would leave the question pending forever (Ctrl-C):
  // aborting it settles it.
  const abandoned = new AbortController()
  rl.on('SIGINT', () => { abandoned.abort() })
  rl.on('close', () => { abandoned.abort() })
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `, { signal: abandoned.signal })).trim())
  } catch {
    return false
  } finally {
    rl.close()
  }
}

// `caxton message list | head`: a closed pipe ends the output, it is not a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw err
})

const code = await run(process.argv.slice(2), {
  stdout: (text) => { process.stdout.write(text) },
  stderr: (text) => { process.stderr.write(text) },
  env: process.env,
  color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
  ...(process.stdin.isTTY === true ? { confirm } : {})
}, { commands: [registerNodeCommands] })
process.exitCode = code
