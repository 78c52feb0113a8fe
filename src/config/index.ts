/**
 * The node's configuration: typed, with documented defaults and presets, from a JSON
 * file, `CAXTON_*` environment variables and flags, validated at start.
 *
 * @example
 * ```ts
 * import { loadConfig } from './config/index.js'
 * const config = loadConfig({ flags: { name: 'n1', api: { port: 7421 } } })
 * config.dataDir // '.caxton/n1'
 * ```
 */
export { configSchema, PRESETS, type CaxtonConfig, type ConfigInput, type Preset } from './schema.js'
export { presetDefaults, lanDefaults } from './presets.js'
export { loadConfig, parseHostPort, envVarName, MESSAGE_MEMORY_SHARE, type LoadConfigOptions } from './load.js'
export { ConfigError } from './errors.js'
