/**
 * The REST API's own failures, and the one mapping from any error to an HTTP status and
 * a JSON body `{ "error": { "code", "message", "details"? } }`.
 *
 * Errors from other modules extend `CaxtonError` with a stable `code`; the status comes
 * from that code ({@link DEFAULT_ERROR_STATUS}). Fastify's own errors (validation, body
 * parsing, body limit, media type) are translated to codes of the same style. Anything
 * else is a 500 whose message is logged, never sent.
 */
import { CaxtonError } from '../../protocols/errors.js'
import type { ErrorBody } from './types.js'

/** The request did not match the route's schema, or a field's value is unusable. */
export class RequestInvalidError extends CaxtonError {
  /** Where the problem is, e.g. `body.limits.fuelPerMessage`, `querystring.wait`. */
  readonly field?: string

  constructor (message: string, field?: string) {
    super('REQUEST_INVALID', message)
    this.name = 'RequestInvalidError'
    this.field = field
  }
}

/** The request body is not JSON although its content type says so (or it is empty). */
export class JsonInvalidError extends CaxtonError {
  constructor (message: string) {
    super('JSON_INVALID', message)
    this.name = 'JsonInvalidError'
  }
}

/** The request body is larger than the server's body limit. */
export class PayloadTooLargeError extends CaxtonError {
  /** The limit, bytes. */
  readonly limitBytes: number

  constructor (limitBytes: number) {
    super('PAYLOAD_TOO_LARGE', `request body is larger than the limit of ${limitBytes} bytes`)
    this.name = 'PayloadTooLargeError'
    this.limitBytes = limitBytes
  }
}

/** The body's content type is not one the route accepts. */
export class UnsupportedMediaTypeError extends CaxtonError {
  readonly contentType: string

  constructor (contentType: string, accepted: readonly string[]) {
    super('UNSUPPORTED_MEDIA_TYPE', `content type '${contentType}' is not accepted here (use ${accepted.join(' or ')})`)
    this.name = 'UnsupportedMediaTypeError'
    this.contentType = contentType
  }
}

/** No route has this method and path. */
export class RouteNotFoundError extends CaxtonError {
  readonly method: string
  readonly path: string

  constructor (method: string, path: string) {
    super('ROUTE_NOT_FOUND', `no route ${method} ${path}`)
    this.name = 'RouteNotFoundError'
    this.method = method
    this.path = path
  }
}

/** The API server is stopping; a request still waiting (e.g. for a reply) is answered with this. */
export class ServerStoppingError extends CaxtonError {
  constructor () {
    super('NOT_READY', 'the node is shutting down')
    this.name = 'ServerStoppingError'
  }
}

/**
 * Error code → HTTP status. Codes not listed here answer 500 (with the message hidden).
 * `createApiServer({ errorStatus })` can add codes without editing this table.
 */
export const DEFAULT_ERROR_STATUS: Readonly<Record<string, number>> = Object.freeze({
  // 400: the request (or the message/module it carries) is wrong
  ACL_INVALID: 400,
  ACL_DECODE: 400,
  PERFORMATIVE_UNKNOWN: 400,
  MODULE_INVALID: 400,
  AGENT_ID_INVALID: 400,
  CONFIG_INVALID: 400,
  REQUEST_INVALID: 400,
  JSON_INVALID: 400,
  TRACEPARENT_INVALID: 400,
  LIMITS_INVALID: 400,
  AGENT_NOT_FOUND: 404,
  AGENT_VERSION_NOT_FOUND: 404,
  REGISTRY_AGENT_NOT_FOUND: 404,
  MESSAGE_NOT_FOUND: 404,
  CONVERSATION_NOT_FOUND: 404,
  DEAD_LETTER_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  AGENT_EXISTS: 409,
  AGENT_STATE_CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  NOT_READY: 503,
  // The outbox is at its bounds: the response carries Retry-After.
  OUTBOX_FULL: 503,
  RUNTIME_NOT_RUNNING: 503,
  REPLY_TIMEOUT: 504
})

/** What the error handler sends, and how loudly it logs. */
export interface HttpError {
  status: number
  body: ErrorBody
  /** `true` for failures of the server itself (500): logged at error level with the stack. */
  internal: boolean
}

interface AjvErrorLike {
  instancePath?: string
  keyword?: string
  message?: string
  params?: Record<string, unknown>
  parentSchema?: { description?: string }
}

interface FastifyErrorLike {
  code?: unknown
  statusCode?: unknown
  message?: unknown
  validation?: AjvErrorLike[]
  validationContext?: string
}

const FIELDS_NOT_DETAILS = new Set(['name', 'code', 'message', 'stack', 'cause'])

/** What {@link toHttpError} needs to know about the server and the request. */
export interface ErrorContext {
  /** The code → status table ({@link DEFAULT_ERROR_STATUS} plus extras). */
  statusByCode: Readonly<Record<string, number>>
  /** Named in a 500's message so an operator can find the logged cause. */
  requestId: string
  /** The server's body limit, bytes (named in a 413). */
  bodyLimitBytes: number
  /** The request's `Content-Type` (named in a 415). */
  contentType?: string
  /** The content types the server parses (named in a 415). */
  acceptedTypes: readonly string[]
}

/**
 * Translates any thrown value into a status and an {@link ErrorBody}.
 *
 * @param err - what a handler threw (or fastify produced)
 */
export function toHttpError (err: unknown, ctx: ErrorContext): HttpError {
  const { statusByCode, requestId } = ctx
  const e = (typeof err === 'object' && err !== null ? err : {}) as FastifyErrorLike
  const code = typeof e.code === 'string' ? e.code : undefined

  if (code === 'FST_ERR_VALIDATION' && Array.isArray(e.validation)) {
    return clientError(400, validationError(e.validation, e.validationContext ?? 'request'))
  }
  if (code !== undefined && code.startsWith('FST_')) {
    const translated = translateFastifyError(code, e, ctx)
    if (translated !== undefined) return translated
  }
  if (code !== undefined && Object.hasOwn(statusByCode, code)) {
    const status = statusByCode[code]
    const message = typeof e.message === 'string' && e.message !== '' ? e.message : code
    const details = detailsOf(err)
    return {
      status,
      body: { error: details === undefined ? { code, message } : { code, message, details } },
      // 502/503/504 are expected conditions of a cluster, not faults of this server.
      internal: status === 500
    }
  }
  return {
    status: 500,
    body: {
      error: {
        // A CaxtonError's code is stable and safe to show; its message may not be.
        code: isCaxtonError(err) && code !== undefined ? code : 'INTERNAL',
        message: `internal error (request ${requestId}; the cause is in the node's log)`
      }
    },
    internal: true
  }
}

/**
 * `instanceof CaxtonError`, or an Error whose code has the project's SCREAMING_SNAKE
 * shape. The second test matters: a module loaded twice (test runners, workers) has a
 * second `CaxtonError` class. Node's and fastify's own codes (`ERR_*`, `FST_*`, errno
 * names like `ENOENT`) do not pass it.
 */
function isCaxtonError (err: unknown): boolean {
  if (err instanceof CaxtonError) return true
  if (!(err instanceof Error)) return false
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(code) &&
    !code.startsWith('ERR_') && !code.startsWith('FST_')
}

function clientError (status: number, err: CaxtonError): HttpError {
  const details = detailsOf(err)
  return {
    status,
    body: { error: details === undefined ? { code: err.code, message: err.message } : { code: err.code, message: err.message, details } },
    internal: false
  }
}

function translateFastifyError (code: string, e: FastifyErrorLike, ctx: ErrorContext): HttpError | undefined {
  switch (code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return clientError(400, new JsonInvalidError('request body is not valid JSON'))
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return clientError(400, new JsonInvalidError('request body is empty but its content type is application/json'))
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return clientError(413, new PayloadTooLargeError(ctx.bodyLimitBytes))
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return clientError(415, new UnsupportedMediaTypeError(ctx.contentType ?? '(none)', ctx.acceptedTypes))
    default: {
      // Fastify's other 4xx (bad URL encoding, bad content-length, ...) carry safe messages.
      const status = typeof e.statusCode === 'number' ? e.statusCode : 500
      if (status >= 400 && status < 500) {
        return clientError(status, new RequestInvalidError(typeof e.message === 'string' ? e.message : 'bad request'))
      }
      return undefined
    }
  }
}

/** One readable sentence from ajv's errors (first error; for `anyOf`, the whole alternative). */
function validationError (errors: AjvErrorLike[], context: string): RequestInvalidError {
  // ajv reports each failed branch of an anyOf before the anyOf itself; the branches'
  // messages ("must be string") mislead, the anyOf's description does not.
  const alternative = errors.find(x => x.keyword === 'anyOf' || x.keyword === 'oneOf')
  const chosen = alternative ?? errors[0] ?? {}
  const path = context + (chosen.instancePath ?? '').replaceAll('/', '.')
  const params = chosen.params ?? {}
  let message: string
  switch (chosen.keyword) {
    case 'additionalProperties': {
      const field = String(params.additionalProperty)
      const where = `${path}.${field}`
      message = where === 'body.receivers'
        ? "body.receivers is not accepted: the receiver is the agent in the URL (POST /agents/:id/messages)"
        : `${where} is not a known field`
      return withDetails(new RequestInvalidError(message, where), errors)
    }
    case 'required': {
      const where = `${path}.${String(params.missingProperty)}`
      return withDetails(new RequestInvalidError(`${where} is required`, where), errors)
    }
    case 'pattern':
    case 'anyOf':
    case 'oneOf': {
      const description = chosen.parentSchema?.description
      message = description !== undefined ? `${path} must be ${description}` : `${path} ${chosen.message ?? 'is invalid'}`
      break
    }
    default:
      message = `${path} ${chosen.message ?? 'is invalid'}`
  }
  return withDetails(new RequestInvalidError(message, path), errors)
}

function withDetails (err: RequestInvalidError, errors: AjvErrorLike[]): RequestInvalidError {
  // The raw ajv errors help a client pinpoint the problem; the offending data is not echoed.
  Object.defineProperty(err, 'validation', {
    enumerable: true,
    value: errors.map(x => ({ path: x.instancePath ?? '', keyword: x.keyword, message: x.message, params: x.params }))
  })
  return err
}

/**
 * The fields a caller needs, as the error class declared them (e.g. `{ agentId }`):
 * the error's own enumerable properties that survive JSON, without name/code/message.
 */
function detailsOf (err: unknown): Record<string, unknown> | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const details: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(err)) {
    if (FIELDS_NOT_DETAILS.has(key) || value === undefined || typeof value === 'function') continue
    if (ArrayBuffer.isView(value)) continue
    try {
      JSON.stringify(value)
      details[key] = value
    } catch {
      // cyclic or otherwise not JSON: leave it out
    }
  }
  return Object.keys(details).length === 0 ? undefined : details
}
