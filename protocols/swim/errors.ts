/**
 * The failures of the SWIM protocol module, each a class of its own (see protocols/errors.ts).
 */
import { CaxtonError } from '../errors.js'

/** A config field is missing, of the wrong type or out of range. */
export class SwimConfigError extends CaxtonError {
  readonly field: string
  readonly value: unknown

  constructor (field: string, value: unknown, reason: string) {
    super('SWIM_INVALID_CONFIG', `invalid SWIM config field "${field}" (${String(value)}): ${reason}`)
    this.name = 'SwimConfigError'
    this.field = field
    this.value = value
  }
}

/** Received bytes are not a valid SWIM frame. The only error the decoder ever throws. */
export class SwimDecodeError extends CaxtonError {
  /** Length of the rejected input, bytes. */
  readonly byteLength: number
  /** Which part of the frame was wrong, e.g. `updates[3].incarnation`. */
  readonly path: string

  constructor (byteLength: number, path: string, reason: string, options?: { cause?: unknown }) {
    super('SWIM_DECODE_FAILED', `invalid SWIM frame (${byteLength} bytes) at ${path}: ${reason}`, options)
    this.name = 'SwimDecodeError'
    this.byteLength = byteLength
    this.path = path
  }
}

/** An argument passed to a node is malformed (an empty member id, meta too large...). */
export class SwimArgumentError extends CaxtonError {
  readonly argument: string

  constructor (argument: string, reason: string) {
    super('SWIM_INVALID_ARGUMENT', `invalid argument "${argument}": ${reason}`)
    this.name = 'SwimArgumentError'
    this.argument = argument
  }
}

/** An operation is not allowed in the node's lifecycle state (join before start, join after leave). */
export class SwimLifecycleError extends CaxtonError {
  readonly operation: string
  readonly lifecycle: string

  constructor (operation: string, lifecycle: string) {
    super('SWIM_LIFECYCLE', `cannot ${operation}: the node is ${lifecycle}`)
    this.name = 'SwimLifecycleError'
    this.operation = operation
    this.lifecycle = lifecycle
  }
}
