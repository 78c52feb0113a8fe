/**
 * Failures of the FIPA-ACL module, one class per failure (see `protocols/errors.ts`).
 * `code` is what the REST API puts in `error.code`.
 */
import { CaxtonError } from '../errors.js'

/** One thing wrong with a message: `field` is a path such as `receivers[2]` or `content.base64`. */
export interface AclIssue {
  /** Path of the offending field (`receivers[2]`), or `(root)` for the message itself. */
  field: string
  /** What is wrong, in words a client can act on. */
  reason: string
}

/** At most this many issues are spelled out in an error's `message` (all are in `issues`). */
const ISSUES_IN_MESSAGE = 10

function describeIssues (issues: readonly AclIssue[]): string {
  const shown = issues.slice(0, ISSUES_IN_MESSAGE).map(i => `${i.field}: ${i.reason}`)
  if (issues.length > ISSUES_IN_MESSAGE) shown.push(`and ${issues.length - ISSUES_IN_MESSAGE} more`)
  return shown.join('; ')
}

/** A message (or a JSON draft) breaks a rule of the message model (SPEC.md §1). */
export class AclValidationError extends CaxtonError {
  /** Every bad field, in field order (capped at `MAX_REPORTED_ISSUES`, see `validate.ts`). */
  readonly issues: AclIssue[]

  constructor (issues: AclIssue[]) {
    super('ACL_INVALID', `invalid ACL message: ${describeIssues(issues)}`)
    this.name = 'AclValidationError'
    this.issues = issues
  }
}

/**
 * Bytes are not an encoded message: not msgpack, not the message layout of SPEC.md §3, or
 * a message that fails validation (then `issues` says which fields, and `cause` is the
 * {@link AclValidationError}).
 */
export class AclDecodeError extends CaxtonError {
  readonly reason: string
  readonly issues?: AclIssue[]

  constructor (reason: string, options?: { cause?: unknown, issues?: AclIssue[] }) {
    super('ACL_DECODE', `cannot decode ACL message: ${reason}`, { cause: options?.cause })
    this.name = 'AclDecodeError'
    this.reason = reason
    if (options?.issues !== undefined) this.issues = options.issues
  }
}

/** A performative name (or wire code) that is not one of the 22 of FIPA SC00037J. */
export class UnknownPerformativeError extends CaxtonError {
  /** What was given: a name as written, or a wire code. */
  readonly input: string | number

  constructor (input: string | number, valid: readonly string[]) {
    const what = typeof input === 'number' ? `performative code ${input}` : `performative ${JSON.stringify(input)}`
    const range = typeof input === 'number' ? `0..${valid.length - 1}` : valid.join(', ')
    super('PERFORMATIVE_UNKNOWN', `unknown ${what}; valid: ${range}`)
    this.name = 'UnknownPerformativeError'
    this.input = input
  }
}

/**
 * Bytes are not a frame of `/caxton/fipa/1.0.0`. `seq` is set when the frame header could
 * be read (a `deliver` frame whose message is invalid): the receiver then acks that `seq`
 * with status `'rejected'` and `reason`. `messageId` is set when it could be read too.
 */
export class FrameDecodeError extends CaxtonError {
  readonly reason: string
  readonly seq?: number
  readonly messageId?: string

  constructor (reason: string, options?: { seq?: number, messageId?: string, cause?: unknown }) {
    super('FRAME_DECODE', `cannot decode fipa frame${options?.seq !== undefined ? ` (seq ${options.seq})` : ''}: ${reason}`, { cause: options?.cause })
    this.name = 'FrameDecodeError'
    this.reason = reason
    if (options?.seq !== undefined) this.seq = options.seq
    if (options?.messageId !== undefined) this.messageId = options.messageId
  }
}

/** A frame given to `encodeFrame` has no valid `seq`, `type` or `status` (a bug in the caller). */
export class FrameEncodeError extends CaxtonError {
  readonly reason: string

  constructor (reason: string) {
    super('FRAME_ENCODE', `cannot encode fipa frame: ${reason}`)
    this.name = 'FrameEncodeError'
    this.reason = reason
  }
}

/** A `traceparent` value that is not W3C Trace Context (§3.2) form, or ids that cannot form one. */
export class TraceparentError extends CaxtonError {
  /** The value given (as a string, for logs). */
  readonly value: string
  readonly reason: string

  constructor (value: string, reason: string) {
    super('TRACEPARENT_INVALID', `invalid traceparent ${JSON.stringify(value.length > 80 ? value.slice(0, 80) + '…' : value)}: ${reason}`)
    this.name = 'TraceparentError'
    this.value = value
    this.reason = reason
  }
}

/** A limit given to validation or decoding is not a positive safe integer (a bug in the caller). */
export class InvalidAclLimitsError extends CaxtonError {
  /** Which limit, e.g. `maxContentBytes`. */
  readonly limit: string
  readonly value: unknown

  constructor (limit: string, value: unknown) {
    super('ACL_LIMITS_INVALID', `invalid ACL limit ${limit}: ${String(value)} (must be a positive integer)`)
    this.name = 'InvalidAclLimitsError'
    this.limit = limit
    this.value = value
  }
}
