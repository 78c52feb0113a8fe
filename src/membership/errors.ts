import { CaxtonError } from '../../protocols/errors.js'

/** The membership service was asked to act while not running (before `start`, after `stop`). */
export class MembershipNotRunningError extends CaxtonError {
  /** What was asked, e.g. `join`. */
  readonly operation: string

  constructor (operation: string) {
    super('MEMBERSHIP_NOT_RUNNING', `membership is not running: cannot ${operation}`)
    this.name = 'MembershipNotRunningError'
    this.operation = operation
  }
}

/** A seed (`--join` address) could not be reached, or did not answer as a member. */
export class SeedUnreachableError extends CaxtonError {
  /** The address as given. */
  readonly addr: string
  /** What the transport said. */
  readonly reason: string

  constructor (addr: string, reason: string, options?: { cause?: unknown }) {
    super('SEED_UNREACHABLE', `cannot reach the member at ${addr}: ${reason}`, options)
    this.name = 'SeedUnreachableError'
    this.addr = addr
    this.reason = reason
  }
}
