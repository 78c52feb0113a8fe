/**
 * Failures of the node's cluster registry service (the CRDT's own are in
 * `protocols/registry/errors.ts`). One class per failure, each with a stable `code`.
 */
import { CaxtonError } from '../../protocols/errors.js'

/**
 * A capability given at deploy time is invalid: a missing or over-long name, a duplicate
 * `(name, version)`, a `schema` that is not a JSON Schema (draft-07), too many of them.
 * REST status 400.
 */
export class InvalidCapabilityError extends CaxtonError {
  /** Where the problem is, e.g. `capabilities[1].schema`, `capability[0]`. */
  readonly field: string
  readonly reason: string

  constructor (field: string, reason: string) {
    super('CAPABILITY_INVALID', `invalid capability: ${field}: ${reason}`)
    this.name = 'InvalidCapabilityError'
    this.field = field
    this.reason = reason
  }
}

/**
 * The registry could not persist a change. The in-memory replica is then ahead of the
 * disk, so the service stops gossiping and syncing (nothing unpersisted may leave the
 * node) and reports itself unhealthy; restarting the node reloads the last persisted
 * state. REST status 503.
 */
export class RegistryPersistError extends CaxtonError {
  constructor (reason: string, options?: { cause?: unknown }) {
    super('REGISTRY_UNAVAILABLE', `the registry cannot persist changes: ${reason}`, options)
    this.name = 'RegistryPersistError'
  }
}

/** The registry service is not started, or is stopping. REST status 503. */
export class RegistryNotRunningError extends CaxtonError {
  constructor (what: string) {
    super('REGISTRY_UNAVAILABLE', `the registry is not running: cannot ${what}`)
    this.name = 'RegistryNotRunningError'
  }
}

/**
 * An anti-entropy exchange broke off: the peer sent an undecodable or unexpected frame,
 * closed the stream early, or did not answer within the exchange's time bound.
 */
export class RegistrySyncError extends CaxtonError {
  /** The other member (PeerId string). */
  readonly peer: string
  readonly reason: string

  constructor (peer: string, reason: string, options?: { cause?: unknown }) {
    super('REGISTRY_SYNC_FAILED', `anti-entropy with ${peer} failed: ${reason}`, options)
    this.name = 'RegistrySyncError'
    this.peer = peer
    this.reason = reason
  }
}

/** HTTP status of this module's codes (and the CRDT's), for `createApiServer({ errorStatus })`. */
export const REGISTRY_ERROR_STATUS: Readonly<Record<string, number>> = Object.freeze({
  CAPABILITY_INVALID: 400,
  INVALID_REGISTRY_OP: 400,
  REGISTRY_UNAVAILABLE: 503,
  REGISTRY_SYNC_FAILED: 502
})
