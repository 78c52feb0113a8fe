/**
 * Failures of the registry CRDT, its codec and its storage contract. One class per
 * failure, each with a stable `code` and the fields a caller needs.
 */
import { CaxtonError } from '../errors.js'

/**
 * Bytes that are not a valid registry message: not msgpack, trailing bytes, or a value
 * of the wrong shape. The only error the codec's decoders throw.
 */
export class RegistryDecodeError extends CaxtonError {
  /** What was being decoded: `delta`, `digest`, `entry`, `gossip`, `sync`, ... */
  readonly what: string
  /** Where in the value the problem is (`entries[3].versions[0].clock`), or `''`. */
  readonly path: string
  readonly reason: string

  constructor (what: string, path: string, reason: string, options?: { cause?: unknown }) {
    super('REGISTRY_DECODE_FAILED', `cannot decode registry ${what}${path === '' ? '' : ` at ${path}`}: ${reason}`, options)
    this.name = 'RegistryDecodeError'
    this.what = what
    this.path = path
    this.reason = reason
  }
}

/** A local operation (`Registry.apply`) with a field that is missing or invalid. */
export class InvalidRegistryOpError extends CaxtonError {
  /** The offending field, e.g. `agentId`, `capabilities[2].name`. */
  readonly field: string
  readonly reason: string

  constructor (field: string, reason: string) {
    super('INVALID_REGISTRY_OP', `invalid registry operation: ${field}: ${reason}`)
    this.name = 'InvalidRegistryOpError'
    this.field = field
    this.reason = reason
  }
}

/** An `update` of an agent this replica has no live entry for. */
export class RegistryAgentNotFoundError extends CaxtonError {
  readonly agentId: string

  constructor (agentId: string) {
    super('REGISTRY_AGENT_NOT_FOUND', `agent ${JSON.stringify(agentId)} is not registered`)
    this.name = 'RegistryAgentNotFoundError'
    this.agentId = agentId
  }
}

/** `RegistryOptions` with a field out of range. */
export class InvalidRegistryOptionsError extends CaxtonError {
  readonly field: string
  readonly reason: string

  constructor (field: string, reason: string) {
    super('INVALID_REGISTRY_OPTIONS', `invalid registry option ${field}: ${reason}`)
    this.name = 'InvalidRegistryOptionsError'
    this.field = field
    this.reason = reason
  }
}

/** A stored registry (`Registry.restore`) that does not describe a valid state. */
export class InvalidStoredRegistryError extends CaxtonError {
  readonly reason: string

  constructor (reason: string, options?: { cause?: unknown }) {
    super('INVALID_STORED_REGISTRY', `stored registry is invalid: ${reason}`, options)
    this.name = 'InvalidStoredRegistryError'
    this.reason = reason
  }
}

/** A `RegistryStore.write` batch that cannot be applied; nothing of it was written. */
export class InvalidRegistryBatchError extends CaxtonError {
  readonly reason: string

  constructor (reason: string) {
    super('INVALID_REGISTRY_BATCH', `invalid registry batch: ${reason}`)
    this.name = 'InvalidRegistryBatchError'
    this.reason = reason
  }
}

/** A call on a `RegistryStore` after `close()`. */
export class RegistryStoreClosedError extends CaxtonError {
  constructor () {
    super('REGISTRY_STORE_CLOSED', 'registry store is closed')
    this.name = 'RegistryStoreClosedError'
  }
}

/** A {@link import('./timing.js').RegistryTiming} field out of range (the sync policy's constructor). */
export class InvalidRegistryTimingError extends CaxtonError {
  /** The offending field, e.g. `maxConcurrentSyncs`. */
  readonly field: string
  readonly reason: string

  constructor (field: string, reason: string) {
    super('INVALID_REGISTRY_TIMING', `invalid registry timing ${field}: ${reason}`)
    this.name = 'InvalidRegistryTimingError'
    this.field = field
    this.reason = reason
  }
}
