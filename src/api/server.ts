/**
 * The REST API server: fastify, wired to a {@link NodeFacade}.
 */
import type { IncomingMessage } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { AuditLog } from '../audit/index.js'
import { AUTH_ERROR_STATUS, type TokenStore } from '../auth/index.js'
import { componentLogger, silentLogger, type Logger } from '../observability/logger.js'
import { QUOTA_ERROR_STATUS } from '../quota/index.js'
import { registerAccessControl } from './auth.js'
import type { MetricsRegistry } from '../observability/metrics.js'
import { DEFAULT_ERROR_STATUS, RouteNotFoundError, toHttpError } from './errors.js'
import type { NodeFacade } from './facade.js'
import { accessRoutes } from './routes/access.js'
import { agentRoutes } from './routes/agents.js'
import type { RouteDeps } from './routes/common.js'
import { faultRoutes } from './routes/faults.js'
import { lifecycleRoutes } from './routes/lifecycle.js'
import { memberRoutes } from './routes/members.js'
import { messageRoutes } from './routes/messages.js'
import { ApiMetrics } from './metrics.js'
import { registerOpenApi } from './openapi.js'
import { deliveryRoutes } from './routes/delivery.js'
import { registryRoutes } from './routes/registry.js'
import { systemRoutes } from './routes/system.js'
import { MAX_WAIT_MS } from './schemas.js'
import { CAXTON_VERSION, CLI_VERSION_HEADER, VERSION_HEADER } from './version.js'

/** 16 MiB: a raw module up to 16 MiB, or one a little under 12 MiB as base64 JSON (4/3 larger). */
export const DEFAULT_BODY_LIMIT_BYTES = 16 * 1024 * 1024

/** Longest path parameter the router matches, characters (an agent id has at most 128). */
export const MAX_PARAM_LENGTH = 1024

/** Content types the server parses; anything else is a 415. */
export const ACCEPTED_CONTENT_TYPES = ['application/json', 'application/wasm', 'application/octet-stream'] as const

export interface ApiServerOptions {
  facade: NodeFacade
  /** The root logger (the server names itself `caxton:api`) or an already named child. @default silent */
  logger?: Logger
  /** Interface to listen on, e.g. `127.0.0.1`. */
  host: string
  /** TCP port; 0 picks a free one (`start()` reports it). */
  port: number
  /** Largest request body, bytes; larger bodies get 413 PAYLOAD_TOO_LARGE. @default 16 MiB */
  bodyLimitBytes?: number
  /** Longest `?wait=` on `POST /agents/:id/messages`, ms. @default 300000 */
  maxWaitMs?: number
  /** Error code → HTTP status, over {@link DEFAULT_ERROR_STATUS} (for codes a module adds later). */
  errorStatus?: Record<string, number>
  /** When given, request counts and durations are registered here (`caxton_api_*`). */
  metrics?: MetricsRegistry
  /** Sent as `X-Caxton-Version`. @default this build's package version */
  version?: string
  /**
   * How long `stop()` lets requests still in flight finish before closing their
   * connections, ms. @default 5000
   */
  closeGraceMs?: number
  /**
   * Who may call (there is no unauthenticated mode): the tokens callers present, and the
   * audit log that records every change and every refusal.
   */
  auth: { tokens: TokenStore, audit: AuditLog }
  /** Serve HTTPS (TLS 1.3 at least) with this PEM certificate (chain) and key. */
  tls?: { cert: string | Buffer, key: string | Buffer }
  /** Names accepted in `Host` besides `localhost` and IP addresses (see {@link hostAllowed}). @default [] */
  allowedHosts?: readonly string[]
  /** Requests per window per token (or per address without a valid token). @default 1000 per 10000 ms */
  rateLimit?: { max: number, windowMs: number }
  /** Connection timeouts, ms. @default request 60000, headers 10000, keep-alive 5000 */
  timeouts?: { requestMs: number, headersMs: number, keepAliveMs: number }
}

/** Defaults of {@link ApiServerOptions.timeouts}, ms. */
export const DEFAULT_API_TIMEOUTS = Object.freeze({ requestMs: 60_000, headersMs: 10_000, keepAliveMs: 5000 })

/** Default of {@link ApiServerOptions.rateLimit}. */
export const DEFAULT_RATE_LIMIT = Object.freeze({ max: 1000, windowMs: 10_000 })

export interface ApiServer {
  /**
   * Listens on `host:port`.
   * @returns the address actually bound (`port` is the real one when 0 was asked) and its URL
   * @throws the listen error (e.g. `EADDRINUSE`)
   */
  start: () => Promise<{ host: string, port: number, url: string }>
  /** Stops listening; requests still waiting for a reply are answered 503 NOT_READY. Idempotent. */
  stop: () => Promise<void>
  /** The fastify instance. Its routes are added when it loads (`await app.ready()`; `app.inject()` and `start()` do that themselves). */
  app: FastifyInstance
}

/** Creates the server; nothing listens until `start()`. */
export function createApiServer (options: ApiServerOptions): ApiServer {
  const given = options.logger ?? silentLogger()
  // Accept the root logger or one already named for this component.
  const log = given.bindings().component === undefined ? componentLogger(given, 'api') : given
  const bodyLimitBytes = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES
  const version = options.version ?? CAXTON_VERSION
  const statusByCode = { ...DEFAULT_ERROR_STATUS, ...AUTH_ERROR_STATUS, ...QUOTA_ERROR_STATUS, ...options.errorStatus }
  const timeouts = options.timeouts ?? DEFAULT_API_TIMEOUTS
  const stopping = new AbortController()

  const sendError = (err: unknown, req: FastifyRequest, reply: FastifyReply): void => {
    const { status, body, internal } = toHttpError(err, {
      statusByCode,
      requestId: String(req.id),
      bodyLimitBytes,
      contentType: req.headers['content-type'],
      acceptedTypes: ACCEPTED_CONTENT_TYPES
    })
    if (internal) {
      req.log.error({ err, method: req.method, url: req.url }, 'request failed')
    } else {
      req.log.debug({ code: body.error.code, status, method: req.method, url: req.url }, body.error.message)
    }
    // A refusal that will pass (OUTBOX_FULL, RATE_LIMITED) says when to come back.
    const retryAfterMs = (err as { retryAfterMs?: unknown }).retryAfterMs
    if (typeof retryAfterMs === 'number' && (status === 503 || status === 429)) void reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))))
    void reply.code(status).type('application/json; charset=utf-8').send(body)
  }

  // Node checks the request and headers timeouts on an interval (30 s by default): a
  // tenth of the shorter one, so a trickled request is cut close to its deadline.
  const serverOptions = {
    headersTimeout: timeouts.headersMs,
    connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(Math.min(timeouts.requestMs, timeouts.headersMs) / 10)))
  }
  const app = Fastify({
    ...(options.tls !== undefined
      ? { https: { ...serverOptions, cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.3' as const } }
      : { http: serverOptions }),
    // The whole request (headers and body) must arrive within requestMs: a trickled body
    // cannot hold a socket. The socket's idle timeout leaves room for the longest ?wait=.
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    connectionTimeout: (options.maxWaitMs ?? MAX_WAIT_MS) + timeouts.requestMs,
    loggerInstance: log as FastifyBaseLogger,
    // One debug line per request (below) instead of fastify's two info lines.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: bodyLimitBytes,
    // fastify's default (100) is below the longest agent id (128): a longer `:id` would be
    // ROUTE_NOT_FOUND. With room to spare, the route's schema rejects a too-long id with
    // a 400 naming the rule instead.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    ajv: {
      customOptions: {
        // A wrong type or an unknown field is the client's mistake to hear about.
        coerceTypes: false,
        removeAdditional: false,
        useDefaults: false,
        allErrors: false,
        // Gives each error its schema's `description`, used for readable messages.
        verbose: true
      }
    },
    // Errors fastify raises before routing (malformed URL): same JSON shape as the rest.
    frameworkErrors: (err, req, reply) => { sendError(err, req, reply) }
  })

  // Only JSON and raw modules: a text/plain body would skip the JSON schemas.
  app.removeContentTypeParser('text/plain')
  app.addContentTypeParser(['application/wasm', 'application/octet-stream'], { parseAs: 'buffer' }, (_req, body, done) => {
    done(null, body)
  })

  app.setErrorHandler((err: FastifyError, req, reply) => { sendError(err, req, reply) })
  app.setNotFoundHandler((req, reply) => {
    sendError(new RouteNotFoundError(req.method, req.url.split('?')[0]), req, reply)
  })

  // Callback hooks here and below, not async ones: a promise and a microtask less per request.
  app.addHook('onSend', (_req, reply, payload, done) => {
    reply.header(VERSION_HEADER, version)
    // A request that was in flight when stop() began: close its connection with the
    // response, or close() would wait for the client's keep-alive to expire.
    if (stopping.signal.aborted) reply.header('connection', 'close')
    done(null, payload)
  })

  const requests = options.metrics === undefined ? undefined : new ApiMetrics(options.metrics)

  app.addHook('onResponse', (req, reply, done) => {
    // The route pattern (not the URL) keeps the label set bounded.
    requests?.answered(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000)
    req.log.debug({
      method: req.method,
      url: req.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      cli: req.headers[CLI_VERSION_HEADER]
    }, 'request')
    done()
  })

  registerAccessControl(app, {
    ...options.auth,
    listenHost: options.host,
    allowedHosts: options.allowedHosts ?? [],
    rateLimit: options.rateLimit ?? DEFAULT_RATE_LIMIT
  })
  registerOpenApi(app, version)

  const deps: RouteDeps = { facade: options.facade, maxWaitMs: options.maxWaitMs ?? MAX_WAIT_MS, stopping: stopping.signal, ...options.auth }
  // A plugin, so that the routes are added after the OpenAPI generator has loaded (see
  // registerOpenApi). It inherits the parsers, handlers and hooks set above.
  void app.register(async (api) => {
    agentRoutes(api, deps)
    lifecycleRoutes(api, deps)
    messageRoutes(api, deps)
    deliveryRoutes(api, deps)
    systemRoutes(api, deps)
    registryRoutes(api, deps)
    faultRoutes(api, deps)
    memberRoutes(api, deps)
    accessRoutes(api, deps)
  })

  // Connections that have not sent a request yet. Node's close() leaves them open until
  // its headers timeout (a client that aborted a request may leave one behind); stop()
  // closes them at once.
  const silent = new Set<Socket>()
  app.server.on('connection', (socket: Socket) => {
    silent.add(socket)
    socket.once('close', () => silent.delete(socket))
  })
  app.server.on('request', (req: IncomingMessage) => { silent.delete(req.socket) })

  let started = false
  let stopped: Promise<void> | undefined
  return {
    app,
    async start () {
      if (started) throw new Error('the API server was already started')
      started = true
      await app.listen({ host: options.host, port: options.port })
      const address = app.server.address() as AddressInfo
      const host = address.address
      const urlHost = host.includes(':') ? `[${host}]` : host
      log.info({ host, port: address.port }, 'REST API listening')
      return { host, port: address.port, url: `${options.tls !== undefined ? 'https' : 'http'}://${urlHost}:${address.port}` }
    },
    async stop () {
      stopped ??= (async () => {
        stopping.abort()
        const backstop = setTimeout(() => { app.server.closeAllConnections() }, options.closeGraceMs ?? 5000)
        backstop.unref()
        const closing = app.close()
        for (const socket of silent) socket.destroy()
        await closing
        clearTimeout(backstop)
      })()
      await stopped
    },
  }
}
