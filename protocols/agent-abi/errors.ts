/**
 * Failures of the agent ABI codec, one class per failure (see `protocols/errors.ts`).
 */
import { CaxtonError } from '../errors.js'

/**
 * Bytes an agent passed to `env.send` are not a message in the ABI's layout
 * (SPEC.md §3): wrong version byte, a truncated field, an unknown tag, a repeated
 * single-valued field, invalid UTF-8, or a bad performative code.
 */
export class AbiDecodeError extends CaxtonError {
  /** What is wrong, naming the field and byte offset where it applies. */
  readonly reason: string

  constructor (reason: string) {
    super('ABI_DECODE', `cannot decode agent message: ${reason}`)
    this.name = 'AbiDecodeError'
    this.reason = reason
  }
}
