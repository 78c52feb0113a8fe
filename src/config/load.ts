/**
 * Loads the node's configuration from, lowest precedence first: the preset's defaults, a
 * JSON file, `CAXTON_*` environment variables, and command-line flags. Every value is
 * validated once, at start, and a bad one is reported with its dotted key and its source.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError } from './errors.js'
import { presetDefaults } from './presets.js'
import { configSchema, PRESETS, type CaxtonConfig, type ConfigInput, type Preset } from './schema.js'

export interface LoadConfigOptions {
  /** Path of a JSON config file (also `CAXTON_CONFIG`). */
  file?: string
  /** The environment to read `CAXTON_*` from. @default process.env */
  env?: Record<string, string | undefined>
  /** Values from command-line flags (highest precedence). */
  flags?: ConfigInput
}

/** Share of an agent's linear memory a message's content may fill; the rest is headroom for the agent. */
export const MESSAGE_MEMORY_SHARE = 0.8

type Leaf = string | number | boolean | string[]
type Sources = Map<string, string>

/**
 * The environment variable of each config key: `CAXTON_` + the dotted path in
 * SCREAMING_SNAKE (`agents.maxMemoryPages` → `CAXTON_AGENTS_MAX_MEMORY_PAGES`), plus
 * the short aliases `CAXTON_DATA` (dataDir), `CAXTON_API` (`host:port`) and
 * `CAXTON_CLUSTER_KEY` (cluster.keyFile).
 */
export function envVarName (key: string): string {
  return 'CAXTON_' + key.split('.').map(part => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')
}

/**
 * @throws ConfigError naming the first bad key and where its value came from.
 */
export function loadConfig (options: LoadConfigOptions = {}): CaxtonConfig {
  const env = options.env ?? process.env
  const sources: Sources = new Map()
  const filePath = options.file ?? env.CAXTON_CONFIG
  const file = filePath != null && filePath !== '' ? readConfigFile(filePath) : {}
  const fromEnv = readEnv(env)
  const flags = options.flags ?? {}

  const preset = pickPreset([
    [flags.preset, 'flag --preset'],
    [fromEnv.preset, 'env CAXTON_PRESET'],
    [file.preset, `file ${filePath ?? ''}`]
  ])
  const merged: Record<string, unknown> = structuredClone(presetDefaults(preset))
  markSources(merged, '', 'default', sources)
  overlay(merged, file, '', `file ${filePath ?? ''}`, sources)
  overlay(merged, fromEnv, '', 'env', sources)
  overlay(merged, flags as Record<string, unknown>, '', 'flag', sources)
  if (merged.dataDir == null) {
    merged.dataDir = join('.caxton', typeof merged.name === 'string' ? merged.name : 'node')
    sources.set('dataDir', 'default')
  }

  const parsed = configSchema.safeParse(merged)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const key = issue.path.length > 0 ? issue.path.join('.') : (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '(root)')
    const leafKey = issue.code === 'unrecognized_keys' && issue.path.length === 0 ? issue.keys[0] : key
    const reason = issue.code === 'unrecognized_keys' ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` : issue.message
    throw new ConfigError(key, reason, describeSource(leafKey, sources))
  }
  checkConsistency(parsed.data, sources)
  return parsed.data
}

/** Parses `HOST:PORT`, `[v6]:PORT`, `:PORT` or `PORT`. @throws ConfigError */
export function parseHostPort (value: string, key = 'api', source = 'flag --api'): { host: string, port: number } {
  const text = value.trim()
  const m = /^(\d{1,5})$/.exec(text) ?? /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text)
  if (m == null) throw new ConfigError(key, `"${value}" is not HOST:PORT`, source)
  const bare = m.length === 2
  const port = Number(bare ? m[1] : m[3])
  if (port > 65535) throw new ConfigError(key, `port ${port} is out of range`, source)
  const host = bare ? '127.0.0.1' : (m[1] ?? (m[2] !== '' ? m[2] : '127.0.0.1'))
  return { host, port }
}

function readConfigFile (path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError('(file)', `cannot read ${path}: ${(err as Error).message}`, `file ${path}`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new ConfigError('(file)', `${path} is not valid JSON: ${(err as Error).message}`, `file ${path}`)
  }
  if (value == null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError('(file)', `${path} must hold a JSON object`, `file ${path}`)
  }
  return value as Record<string, unknown>
}

/** Reads every `CAXTON_*` variable that names a config key, parsed by the type of its default. */
function readEnv (env: Record<string, string | undefined>): ConfigInput {
  const out: Record<string, unknown> = {}
  const template = { ...presetDefaults('lan'), dataDir: '' }
  for (const [key, example] of leaves(template)) {
    const raw = env[envVarName(key)]
    if (raw == null || raw === '') continue
    setPath(out, key, parseEnvValue(key, raw, example))
  }
  if (env.CAXTON_DATA != null && env.CAXTON_DATA !== '') out.dataDir = env.CAXTON_DATA
  if (env.CAXTON_CLUSTER_KEY != null && env.CAXTON_CLUSTER_KEY !== '') {
    out.cluster = { ...(out.cluster as object ?? {}), keyFile: env.CAXTON_CLUSTER_KEY }
  }
  if (env.CAXTON_API != null && env.CAXTON_API !== '') {
    out.api = { ...(out.api as object ?? {}), ...parseHostPort(env.CAXTON_API, 'api', 'env CAXTON_API') }
  }
  return out as ConfigInput
}

function parseEnvValue (key: string, raw: string, example: Leaf): Leaf {
  const source = `env ${envVarName(key)}`
  if (Array.isArray(example)) return raw.split(',').map(s => s.trim()).filter(s => s !== '')
  if (typeof example === 'number') {
    const n = Number(raw)
    if (!Number.isFinite(n)) throw new ConfigError(key, `"${raw}" is not a number`, source)
    return n
  }
  if (typeof example === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true
    if (/^(0|false|no|off)$/i.test(raw)) return false
    throw new ConfigError(key, `"${raw}" is not a boolean`, source)
  }
  return raw
}

function pickPreset (candidates: Array<[unknown, string]>): Preset {
  for (const [value, source] of candidates) {
    if (value == null) continue
    if (typeof value === 'string' && (PRESETS as readonly string[]).includes(value)) return value as Preset
    throw new ConfigError('preset', `"${String(value)}" is not one of ${PRESETS.join(', ')}`, source)
  }
  return 'lan'
}

function * leaves (obj: Record<string, unknown>, prefix = ''): Generator<[string, Leaf]> {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix === '' ? k : `${prefix}.${k}`
    if (v != null && typeof v === 'object' && !Array.isArray(v)) yield * leaves(v as Record<string, unknown>, key)
    else yield [key, v as Leaf]
  }
}

function setPath (obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.')
  let cur = obj
  for (const part of parts.slice(0, -1)) {
    cur[part] ??= {}
    cur = cur[part] as Record<string, unknown>
  }
  cur[parts[parts.length - 1]] = value
}

function markSources (obj: Record<string, unknown>, prefix: string, source: string, sources: Sources): void {
  for (const [key] of leaves(obj, prefix)) sources.set(key, source)
}

/** Deep-merges `layer` into `target` (objects merge, arrays and scalars replace), recording sources. */
function overlay (target: Record<string, unknown>, layer: Record<string, unknown>, prefix: string, source: string, sources: Sources): void {
  for (const [k, v] of Object.entries(layer)) {
    if (v === undefined) continue
    const key = prefix === '' ? k : `${prefix}.${k}`
    const cur = target[k]
    if (v != null && typeof v === 'object' && !Array.isArray(v) && cur != null && typeof cur === 'object' && !Array.isArray(cur)) {
      overlay(cur as Record<string, unknown>, v as Record<string, unknown>, key, source, sources)
    } else {
      target[k] = v
      sources.set(key, source === 'env' ? `env ${envVarName(key)}` : source === 'flag' ? `flag --${k}` : source)
    }
  }
}

function describeSource (key: string, sources: Sources): string {
  for (let k = key; k !== ''; k = k.includes('.') ? k.slice(0, k.lastIndexOf('.')) : '') {
    const s = sources.get(k) ?? [...sources.entries()].find(([sk]) => sk.startsWith(k + '.'))?.[1]
    if (s != null) return s
  }
  return 'default'
}

function checkConsistency (config: CaxtonConfig, sources: Sources): void {
  const agentBytes = config.agents.maxMemoryPages * 65536
  const allowed = Math.floor(agentBytes * MESSAGE_MEMORY_SHARE)
  if (config.messages.maxContentBytes > allowed) {
    throw new ConfigError('messages.maxContentBytes',
      `${config.messages.maxContentBytes} bytes would not fit in an agent's memory (agents.maxMemoryPages = ${config.agents.maxMemoryPages} pages = ${agentBytes} bytes; at most ${MESSAGE_MEMORY_SHARE * 100}% of it, ${allowed} bytes, may be message content)`,
      describeSource('messages.maxContentBytes', sources))
  }
}
