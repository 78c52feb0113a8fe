/**
 * The REST API of a Caxton node (fastify). It talks to the node only through
 * {@link NodeFacade}; every response is JSON (except `/metrics`), carries
 * `X-Caxton-Version`, and every failure is `{ "error": { code, message, details? } }`
 * with a status derived from the error's `code` (see {@link DEFAULT_ERROR_STATUS}).
 * The endpoints are documented in `docs/api.md`, and served as an OpenAPI document
 * (`GET /openapi.json`, browsable at `/docs`) generated from the routes' schemas.
 *
 * @example
 * ```ts
 * import { createApiServer } from './api/index.js'
 *
 * const api = createApiServer({ facade: node, logger, host: '127.0.0.1', port: 7420 })
 * const { url } = await api.start()   // 'http://127.0.0.1:7420'
 * // ... curl $url/agents
 * await api.stop()
 * ```
 */
export { createApiServer, DEFAULT_BODY_LIMIT_BYTES, ACCEPTED_CONTENT_TYPES } from './server.js'
export type { ApiServer, ApiServerOptions } from './server.js'
export type {
  NodeFacade, NodeInfo, Readiness, DeployRequest, SendRequest, SendOutcome, MessageRecord, PeerSummary
} from './facade.js'
export type * from './types.js'
export {
  DEFAULT_ERROR_STATUS, toHttpError, RequestInvalidError, JsonInvalidError, PayloadTooLargeError,
  UnsupportedMediaTypeError, RouteNotFoundError, ServerStoppingError
} from './errors.js'
export { aclMessageToJson } from './message-json.js'
export { AGENT_ID_PATTERN, MAX_WAIT_MS, MAX_MESSAGE_LIMIT, DEFAULT_MESSAGE_LIMIT } from './schemas.js'
export { CAXTON_VERSION, VERSION_HEADER, CLI_VERSION_HEADER } from './version.js'
