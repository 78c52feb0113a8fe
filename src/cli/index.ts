/**
 * The `caxton` CLI as a library: `run` executes one command line in-process (the
 * binary, `main.ts`, is a thin wrapper around it), and `CaxtonClient` is the typed
 * HTTP client of the REST API that the commands use. Commands are documented in
 * `docs/cli.md`; how to add one is written at the top of `main.ts`.
 *
 * @example
 * ```ts
 * import { run, CaxtonClient } from './cli/index.js'
 *
 * let out = ''
 * const code = await run(['agent', 'list', '--json', '--api', url], { stdout: s => { out += s }, stderr: () => {} })
 *
 * const client = new CaxtonClient({ url })
 * const { agents } = await client.listAgents()
 * ```
 */
export { run, createProgram, type RunOptions } from './program.js'
export {
  CaxtonClient, ApiError, ApiUnreachableError, ApiTimeoutError, DEFAULT_API_URL, DEFAULT_TIMEOUT_MS, WAIT_MARGIN_MS,
  type CaxtonClientOptions
} from './client.js'
export {
  CliError, UsageError, createContext, integerIn, pointInTime,
  type CliContext, type CliIo, type CommandScope, type GlobalOptions, type RegisterCommands
} from './context.js'
export { Output, examples, formatBytes, formatDuration, formatTime, fullContent, oneLine, previewContent } from './output.js'
