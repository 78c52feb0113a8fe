import { CaxtonError } from '../../protocols/errors.js'

/**
 * Fault injection was asked for where it must not exist: with the REST API bound to an
 * address that is not loopback (the node refuses to start), or before the injector is
 * attached to a libp2p node.
 */
export class FaultInjectionRefusedError extends CaxtonError {
  readonly reason: string

  constructor (reason: string) {
    super('FAULTS_REFUSED', `fault injection refused: ${reason}`)
    this.name = 'FaultInjectionRefusedError'
    this.reason = reason
  }
}

/** A fault request names something that is not a peer id. REST status 400. */
export class InvalidFaultRequestError extends CaxtonError {
  readonly field: string

  constructor (field: string, reason: string) {
    super('FAULT_REQUEST_INVALID', `invalid fault request: ${field}: ${reason}`)
    this.name = 'InvalidFaultRequestError'
    this.field = field
  }
}

/** HTTP status of this module's codes, for `createApiServer({ errorStatus })`. */
export const FAULT_ERROR_STATUS: Readonly<Record<string, number>> = Object.freeze({
  FAULT_REQUEST_INVALID: 400,
  FAULTS_REFUSED: 403
})
