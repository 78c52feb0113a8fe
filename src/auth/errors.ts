import { CaxtonError } from '../../protocols/errors.js'
import type { Role } from './roles.js'

/** Why a bearer token was not accepted. */
export type AuthFailureReason = 'missing' | 'malformed' | 'unknown' | 'expired' | 'revoked'

const REASON_TEXT: Readonly<Record<AuthFailureReason, string>> = {
  missing: 'no bearer token (send Authorization: Bearer <token>)',
  malformed: 'the Authorization header is not "Bearer <token>" with a Caxton token',
  unknown: 'the token is not known to this node',
  expired: 'the token has expired',
  revoked: 'the token was revoked'
}

/** The request carries no token, or one this node does not accept. REST status 401. */
export class UnauthenticatedError extends CaxtonError {
  readonly reason: AuthFailureReason

  constructor (reason: AuthFailureReason) {
    super('UNAUTHENTICATED', REASON_TEXT[reason])
    this.name = 'UnauthenticatedError'
    this.reason = reason
  }
}

/** The token is valid but its role may not do this. REST status 403. */
export class ForbiddenError extends CaxtonError {
  /** The token's role. */
  readonly role: Role
  /** The least role the route needs. */
  readonly required: Role

  constructor (role: Role, required: Role, what: string) {
    super('FORBIDDEN', `a ${role} token may not ${what} (needs ${required === 'admin' ? 'an' : 'a'} ${required} token)`)
    this.name = 'ForbiddenError'
    this.role = role
    this.required = required
  }
}

/** No token with this id. REST status 404. */
export class TokenNotFoundError extends CaxtonError {
  readonly tokenId: string

  constructor (tokenId: string) {
    super('TOKEN_NOT_FOUND', `no token '${tokenId}'`)
    this.name = 'TokenNotFoundError'
    this.tokenId = tokenId
  }
}

/** A token request with a bad name, role or lifetime. REST status 400. */
export class InvalidTokenRequestError extends CaxtonError {
  readonly field: string

  constructor (field: string, reason: string) {
    super('TOKEN_REQUEST_INVALID', `${field} ${reason}`)
    this.name = 'InvalidTokenRequestError'
    this.field = field
  }
}

/**
 * The request's `Host` names neither this node's listen address nor a configured name:
 * refused so that a web page cannot reach the API through DNS rebinding. REST status 421.
 */
export class HostNotAllowedError extends CaxtonError {
  readonly host: string

  constructor (host: string) {
    super('HOST_NOT_ALLOWED', `Host '${host}' is not a name of this node (add it to api.allowedHosts)`)
    this.name = 'HostNotAllowedError'
    this.host = host
  }
}

/** Too many requests from one token (or, without a valid token, one address). REST status 429 with Retry-After. */
export class RateLimitedError extends CaxtonError {
  /** When to come back, ms. */
  readonly retryAfterMs: number
  /** Requests allowed per window. */
  readonly limit: number

  constructor (limit: number, retryAfterMs: number) {
    super('RATE_LIMITED', `more than ${limit} requests in the rate-limit window; try again in ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s`)
    this.name = 'RateLimitedError'
    this.retryAfterMs = retryAfterMs
    this.limit = limit
  }
}

/** HTTP status of this module's codes, for `createApiServer({ errorStatus })`. */
export const AUTH_ERROR_STATUS: Readonly<Record<string, number>> = Object.freeze({
  TOKEN_REQUEST_INVALID: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  TOKEN_NOT_FOUND: 404,
  HOST_NOT_ALLOWED: 421,
  RATE_LIMITED: 429
})
