import { CaxtonError } from '../errors.js'

/** Stored delivery bytes that are not a record of this version (a corrupt or newer database). */
export class RecordDecodeError extends CaxtonError {
  constructor (readonly kind: string, readonly reason: string, options?: { cause?: unknown }) {
    super('DELIVERY_RECORD_DECODE', `cannot read a stored ${kind} record: ${reason}`, options)
    this.name = 'RecordDecodeError'
  }
}
