import { CaxtonError } from '../../protocols/errors.js'

/** A configuration value is missing, malformed or inconsistent. `key` is the dotted path (`api.port`). */
export class ConfigError extends CaxtonError {
  readonly key: string
  /** Where the bad value came from: `file <path>`, `env CAXTON_X`, `flag --x`, or `default`. */
  readonly source: string

  constructor (key: string, reason: string, source: string) {
    super('CONFIG_INVALID', `invalid configuration: ${key} (${source}): ${reason}`)
    this.name = 'ConfigError'
    this.key = key
    this.source = source
  }
}
