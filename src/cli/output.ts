/**
 * Human and machine output of the CLI. `--json` prints the API's JSON exactly (indented);
 * otherwise lists are borderless tables (cli-table3), single objects key/value blocks,
 * actions one line. Colour only when the caller says the terminal takes it.
 */
import Table from 'cli-table3'
import type { AclContentJson } from '../api/types.js'

export type Style = 'green' | 'red' | 'yellow' | 'dim' | 'bold'

// SGR open/close codes. Not util.styleText: from Node 20.19 it decides on its own,
// from process.stdout, whether to colour; here the caller (io.color) decides.
const SGR: Record<Style, [number, number]> = { green: [32, 39], red: [31, 39], yellow: [33, 39], dim: [2, 22], bold: [1, 22] }

/** Where output goes. Text passed to the writers always ends with a newline. */
export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  /** Environment (for `CAXTON_API`, `CAXTON_TOKEN`, `CAXTON_CA`, `CAXTON_DATA`). @default {} */
  env?: Record<string, string | undefined>
  /** Folder whose `.caxton/` the CLI searches for a local node's admin token. @default process.cwd() */
  cwd?: string
  /** Whether human output may carry ANSI colours. @default false */
  color?: boolean
  /** Clock for ages ("5m ago"), ms since the epoch. @default Date.now */
  now?: () => number
  /** Reads a local file (agent modules, --content-file). @default fs.promises.readFile */
  readFile?: (path: string) => Promise<Uint8Array>
  /** The HTTP client's fetch. @default globalThis.fetch */
  fetch?: typeof fetch
  /** Waits `ms` between polls (`message status --wait-for`). @default a timer */
  sleep?: (ms: number) => Promise<void>
  /**
   * Asks the user a yes/no question (`dlq purge` without a filter), resolving true for
   * yes. Absent when nobody can answer (stdin is not a terminal): such commands then
   * refuse unless `--yes` is given.
   */
  confirm?: (question: string) => Promise<boolean>
}

const BORDERLESS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '',
  right: '', 'right-mid': '', middle: '  '
}

export class Output {
  /** `--json` was given. */
  readonly json: boolean
  private readonly io: CliIo

  constructor (io: CliIo, json: boolean) {
    this.io = io
    this.json = json
  }

  /** The value as indented JSON on stdout. */
  printJson (value: unknown): void {
    this.io.stdout(JSON.stringify(value, null, 2) + '\n')
  }

  /** One line on stdout. */
  line (text = ''): void {
    this.io.stdout(text + '\n')
  }

  /** A borderless table (headers upper-case, columns two spaces apart). */
  table (head: string[], rows: string[][]): void {
    const table = new Table({
      head: head.map(h => this.style('bold', h.toUpperCase())),
      chars: BORDERLESS,
      style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 }
    })
    table.push(...rows)
    this.io.stdout(table.toString().split('\n').map(l => l.trimEnd()).join('\n') + '\n')
  }

  /** `key:  value` lines, keys aligned; an array value continues on indented lines. */
  keyValue (pairs: Array<[string, string | string[]]>): void {
    const width = Math.max(...pairs.map(([k]) => k.length)) + 2
    const lines: string[] = []
    for (const [key, value] of pairs) {
      const values = Array.isArray(value) ? (value.length === 0 ? ['-'] : value) : [value]
      lines.push(`${(key + ':').padEnd(width)}${values[0]}`)
      for (const more of values.slice(1)) lines.push(`${' '.repeat(width)}${more}`)
    }
    this.io.stdout(lines.join('\n') + '\n')
  }

  /** `text` in `style` when colour is on, else as is. */
  style (style: Style, text: string): string {
    if (this.io.color !== true) return text
    const [open, close] = SGR[style]
    return `\u001b[${open}m${text}\u001b[${close}m`
  }

  /** An agent/check state coloured by health. */
  state (state: string): string {
    if (state === 'running' || state === 'ok' || state === 'yes') return this.style('green', state)
    if (state === 'failed' || state === 'FAIL' || state === 'no') return this.style('red', state)
    return this.style('yellow', state)
  }
}

/** `1536` → `1.5 KiB`. */
export function formatBytes (bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++ }
  return `${value >= 10 ? Math.round(value) : Math.round(value * 10) / 10} ${units[unit]}`
}

/** A duration as its largest unit: `45s`, `12m`, `3h`, `2d`. */
export function formatDuration (ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m`
  if (s < 86_400) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86_400)}d`
}

/** ms since the epoch → `2024-05-01 12:00:00Z`. */
export function formatTime (ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z')
}

/** Message content for a one-line preview (bytes shown as their size). */
export function previewContent (content: AclContentJson | undefined, max = 40): string {
  if (content === undefined) return '-'
  if (typeof content !== 'string') return `<${Buffer.from(content.base64, 'base64').byteLength} bytes>`
  return oneLine(content, max)
}

/** Message content in full: text as it is, bytes as `<n bytes> base64: …`. */
export function fullContent (content: AclContentJson): string {
  return typeof content === 'string' ? content : `<${Buffer.from(content.base64, 'base64').byteLength} bytes> base64: ${content.base64}`
}

/** `text` on one line (runs of white space → one space), cut to `max` characters with `…`. */
export function oneLine (text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ')
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat
}

/** Examples for `--help`: `Examples:` then each command indented. */
export function examples (lines: string[]): string {
  return '\nExamples:\n' + lines.map(l => `  $ ${l}`).join('\n')
}
