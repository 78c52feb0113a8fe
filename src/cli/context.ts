/**
 * What every command receives: the I/O of this run, and a way to get, for the command
 * being run, its global options, an HTTP client and an output printer.
 */
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { InvalidArgumentError, Option, type Command } from 'commander'
import { CaxtonError } from '../../protocols/errors.js'
import { findLocalAdminToken } from '../auth/files.js'
import { parseHostPort } from '../config/index.js'
import { CaxtonClient, DEFAULT_API_URL, DEFAULT_TIMEOUT_MS } from './client.js'
import { Output, type CliIo } from './output.js'

export type { CliIo }

/** The options every command accepts (declared once, on the program). */
export interface GlobalOptions {
  /**
   * Base URL of the node's REST API: `--api`, else `CAXTON_API`, else `http://127.0.0.1:7420`
   * (either may also be `host:port`, see {@link apiBaseUrl}).
   */
  api: string
  /** `--json`: print the API's JSON exactly, nothing else on stdout. */
  json: boolean
  /** `--timeout`: HTTP request timeout, ms. @default 10000 */
  timeoutMs: number
  /**
   * The bearer token: `--token`, else `CAXTON_TOKEN`, else the admin token of a node on
   * this machine whose API is `api` (see {@link findLocalAdminToken}); absent when none.
   */
  token?: string
  /** `--ca` (or `CAXTON_CA`): PEM file of the authority to trust for an `https://` node. */
  ca?: string
}

/** What a command's action works with. */
export interface CommandScope {
  globals: GlobalOptions
  client: CaxtonClient
  out: Output
}

export interface CliContext {
  io: CliIo
  /** Global options, client and printer for `command` (the action's last argument). */
  scope: (command: Command) => CommandScope
  /** Exit code of the run, 0 unless a command sets it (errors set it through `run`). */
  exitCode: number
  /** Reads a local file. @throws CliError FILE_UNREADABLE */
  readFile: (path: string) => Promise<Uint8Array>
}

/** Registers a noun (or a top-level command) on the program. */
export type RegisterCommands = (program: Command, ctx: CliContext) => void

/**
 * A failure of the CLI itself (not of the API): `error: <message> (<code>)` on stderr
 * and exit code `exitCode` (2 for usage errors, 1 otherwise).
 */
export class CliError extends CaxtonError {
  readonly exitCode: number

  constructor (code: string, message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}

/** The command line is wrong (exit code 2). */
export class UsageError extends CliError {
  constructor (message: string) {
    super('USAGE', message, 2)
    this.name = 'UsageError'
  }
}

export function createContext (io: CliIo): CliContext {
  const ctx: CliContext = {
    io,
    exitCode: 0,
    scope (command) {
      const globals = resolveGlobals(mergedOptions(command), io.env ?? {}, io.cwd ?? process.cwd())
      return {
        globals,
        client: new CaxtonClient({
          url: globals.api,
          timeoutMs: globals.timeoutMs,
          ...(globals.token !== undefined ? { token: globals.token } : {}),
          ...(globals.ca !== undefined ? { ca: readCa(globals.ca) } : {}),
          fetch: io.fetch
        }),
        out: new Output(io, globals.json)
      }
    },
    async readFile (path) {
      try {
        return await (io.readFile ?? readFile)(path)
      } catch (err) {
        const code = (err as { code?: unknown }).code
        const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message
        throw new CliError('FILE_UNREADABLE', `cannot read ${path}: ${why}`, 1, { cause: err })
      }
    }
  }
  return ctx
}

/**
 * Adds `--api`, `--json` and `--timeout` to `command`. The program is parsed with
 * positional options (its own options only before the noun), so each command that
 * talks to the API declares them too: `caxton agent list --json` and
 * `caxton --json agent list` both work, and a command that means something else by
 * `--api` (e.g. `node start --api <host:port>`, the address to serve on) is free to.
 */
export function addGlobalOptions (command: Command): Command {
  return command
    .addOption(new Option('--api <url>', `REST API of the node, a URL or host:port (env: CAXTON_API; default: ${DEFAULT_API_URL})`).helpGroup(GLOBAL_OPTIONS_GROUP))
    .addOption(new Option('--json', "machine output: exactly the API's JSON on stdout").helpGroup(GLOBAL_OPTIONS_GROUP))
    .addOption(new Option('--timeout <ms>', `HTTP request timeout, ms (default: ${DEFAULT_TIMEOUT_MS})`).argParser(integerIn(1, 3_600_000)).helpGroup(GLOBAL_OPTIONS_GROUP))
    .addOption(new Option('--token <token>', 'API bearer token (env: CAXTON_TOKEN; default: the admin token of a node started from this folder)').helpGroup(GLOBAL_OPTIONS_GROUP))
    .addOption(new Option('--ca <file>', 'PEM certificate of the authority to trust for an https:// node (env: CAXTON_CA)').helpGroup(GLOBAL_OPTIONS_GROUP))
}

/** Help heading of {@link addGlobalOptions}' options (listed after a command's own). */
export const GLOBAL_OPTIONS_GROUP = 'Global Options:'

/** Options from the program down to `command`, the closer command winning. */
function mergedOptions (command: Command): Record<string, unknown> {
  const chain: Command[] = []
  for (let c: Command | null = command; c !== null; c = c.parent) chain.unshift(c)
  return Object.assign({}, ...chain.map(c => c.opts()))
}

function resolveGlobals (opts: Record<string, unknown>, env: Record<string, string | undefined>, cwd: string): GlobalOptions {
  const given = (value: string | undefined): string | undefined => value !== undefined && value !== '' ? value : undefined
  const raw = typeof opts.api === 'string' ? opts.api : (given(env.CAXTON_API) ?? DEFAULT_API_URL)
  const globals: GlobalOptions = {
    api: apiBaseUrl(raw),
    json: opts.json === true,
    timeoutMs: typeof opts.timeout === 'number' ? opts.timeout : DEFAULT_TIMEOUT_MS
  }
  const data = given(env.CAXTON_DATA)
  const token = typeof opts.token === 'string'
    ? opts.token
    : given(env.CAXTON_TOKEN) ?? findLocalAdminToken(globals.api, { cwd, ...(data !== undefined ? { dataDirs: [data] } : {}) })?.token
  if (token !== undefined) globals.token = token
  const ca = typeof opts.ca === 'string' ? opts.ca : given(env.CAXTON_CA)
  if (ca !== undefined) globals.ca = ca
  return globals
}

/** @throws CliError FILE_UNREADABLE */
function readCa (path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw new CliError('FILE_UNREADABLE', `cannot read the CA file ${path}: ${(err as Error).message}`, 1, { cause: err })
  }
}

/** Hosts a server listens on to mean "every interface"; a client reaches them on loopback. */
const WILDCARD_HOSTS: ReadonlyMap<string, string> = new Map([['0.0.0.0', '127.0.0.1'], ['::', '[::1]']])

/**
 * The API's base URL (no trailing `/`) from `--api` or `CAXTON_API`: an `http://` or
 * `https://` URL, or `host:port` / `:port` / `port` as `caxton node start --api` takes
 * it (then `http://`; a wildcard host, `0.0.0.0` or `::`, is reached on loopback). So the
 * one variable can name the node both to the node and to the commands that call it.
 * @throws UsageError for anything else
 */
export function apiBaseUrl (raw: string): string {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(raw)) {
    let address: { host: string, port: number }
    try {
      address = parseHostPort(raw)
    } catch {
      throw new UsageError(`--api must be a URL like ${DEFAULT_API_URL} (or host:port), not '${raw}'`)
    }
    const host = WILDCARD_HOSTS.get(address.host) ?? (address.host.includes(':') ? `[${address.host}]` : address.host)
    return `http://${host}:${address.port}`
  }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new UsageError(`--api must be a URL like ${DEFAULT_API_URL} (or host:port), not '${raw}'`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--api must be an http:// or https:// URL, not '${raw}'`)
  }
  return raw.replace(/\/+$/, '')
}

/**
 * A commander argument parser for a whole number in `[min, max]`; commander reports the
 * thrown InvalidArgumentError as a usage error naming the option.
 */
export function integerIn (min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = /^[0-9]+$/.test(value) ? Number(value) : NaN
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`)
    }
    return n
  }
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `90s`, `1h30m`, `7d` (one or more `<n><unit>`, units `ms` `s` `m` `h` `d`) as ms; undefined for text of another shape. */
function durationMs (text: string): number | undefined {
  if (!/^([0-9]+(ms|s|m|h|d))+$/.test(text)) return undefined
  let ms = 0
  for (const [, n, unit] of text.matchAll(/([0-9]+)(ms|s|m|h|d)/g)) ms += Number(n) * DURATION_UNITS_MS[unit]
  return ms
}

/**
 * A commander argument parser for a point in time, as ms since the epoch: a whole number
 * (ms since the epoch, as the API takes it), an ISO 8601 date or time
 * (`2026-11-25T13:00:00Z`; without a zone, local time), or a duration ago from `now()`:
 * one or more `<n><unit>` with units `ms`, `s`, `m`, `h`, `d` (`90s`, `10m`, `1h30m`, `7d`).
 */
export function pointInTime (now: () => number): (value: string) => number {
  return (value: string) => {
    const v = value.trim()
    if (/^[0-9]+$/.test(v)) return checked(Number(v))
    const ago = durationMs(v)
    if (ago !== undefined) return checked(Math.max(0, now() - ago))
    // Date.parse takes much that is not a date ("1", "May 5"): only the ISO 8601 shapes.
    if (/^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?$/i.test(v)) {
      return checked(Date.parse(v))
    }
    return checked(NaN)
  }
}

/**
 * A commander argument parser for a duration, as ms: one or more `<n><unit>` with units
 * `ms`, `s`, `m`, `h`, `d` (`90s`, `12h`, `30d`, `1h30m`), in `[minMs, maxMs]`.
 */
export function duration (minMs: number, maxMs: number): (value: string) => number {
  return (value: string) => {
    const ms = durationMs(value.trim()) ?? NaN
    if (!Number.isSafeInteger(ms) || ms < minMs || ms > maxMs) {
      throw new InvalidArgumentError(`expected a duration like 90s, 12h or 30d, from ${minMs} ms to ${Math.floor(maxMs / 86_400_000)} days.`)
    }
    return ms
  }
}

function checked (ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new InvalidArgumentError('expected ms since the epoch, an ISO 8601 time (2026-11-25T13:00:00Z) or a duration ago (90s, 10m, 2h, 7d).')
  }
  return ms
}
