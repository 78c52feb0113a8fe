/**
 * Access control of the REST API, as fastify hooks on every request:
 *
 * 1. `Host` check (421 HOST_NOT_ALLOWED): against DNS rebinding.
 * 2. The route's policy ({@link policyOf}); `public` routes stop here.
 * 3. Authentication: `Authorization: Bearer <token>` verified by the {@link TokenStore}.
 * 4. Rate limit (429 RATE_LIMITED with Retry-After, `@fastify/rate-limit`'s store): per
 *    token, or per client address for requests without a valid token, so that guessing
 *    is throttled too.
 * 5. 401 UNAUTHENTICATED for a missing or bad token, 403 FORBIDDEN for a role that may
 *    not; both before the body is read.
 * 6. Audit (on send, before the client hears the answer): refusals (401/403) and every
 *    call of an audited route, with its status.
 */
import { isIP } from 'node:net'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ForbiddenError, HostNotAllowedError, RateLimitedError, UnauthenticatedError, permits, type AuthFailureReason, type Principal, type TokenStore } from '../auth/index.js'
import type { AuditInput, AuditLog } from '../audit/index.js'
import { isLoopbackHost } from '../faults/index.js'
import { policyOf, type RoutePolicy } from './access.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, once the token was accepted (null on public routes and refusals). */
    principal: Principal | null
    /** What a handler adds to the request's audit entry: its target (e.g. a new token's id), a detail. */
    auditNote: { target?: string, detail?: string } | null
    /** Why the request was refused by access control (for the audit entry). */
    refusal: { action: 'auth.refused', reason: AuthFailureReason, tokenId?: string } | { action: 'auth.forbidden', detail: string } | null
    /** The route's policy, looked up once per request (by the first hook; null before). */
    accessPolicy: RoutePolicy | null
  }
}

export interface AccessControlOptions {
  tokens: TokenStore
  audit: AuditLog
  /** The address the server listens on (`127.0.0.1`, `0.0.0.0`, ...). */
  listenHost: string
  /** Names accepted in `Host` besides `localhost` and IP addresses (`.example.com`: its subdomains). */
  allowedHosts: readonly string[]
  /** Requests per window per token (or per address without a valid token). */
  rateLimit: { max: number, windowMs: number }
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', ''])

/**
 * Whether a `Host` header may reach a server listening on `listenHost`: `localhost`,
 * the listen host itself, an IP address (the listen address; when listening on every
 * interface, any, since the node cannot know each address it is reached by, e.g. a
 * published Docker port; loopback ones for a loopback listener), or a configured name.
 * An IP address cannot be rebound, a name can: only names are restricted.
 */
export function hostAllowed (header: string | undefined, listenHost: string, allowedHosts: readonly string[]): boolean {
  if (header === undefined || header === '') return false
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d{1,5})?$/.exec(header.trim())
  if (m === null) return false
  const host = m[1].replace(/^\[|\]$/g, '').toLowerCase()
  const listen = listenHost.replace(/^\[|\]$/g, '').toLowerCase()
  if (host === 'localhost' || host === listen) return true
  if (isIP(host) !== 0) return WILDCARD_HOSTS.has(listen) || (isLoopbackHost(host) && isLoopbackHost(listen))
  return allowedHosts.some(name => {
    const n = name.toLowerCase()
    return n.startsWith('.') ? host.endsWith(n) : host === n
  })
}

/**
 * The bearer token of an `Authorization` header (RFC 6750 §2.1; the scheme is
 * case-insensitive, RFC 9110 §11.1), or why there is none usable.
 */
export function bearerOf (header: string | undefined): { token: string } | { reason: 'missing' | 'malformed' } {
  if (header === undefined || header === '') return { reason: 'missing' }
  const m = /^Bearer +(\S+) *$/i.exec(header)
  return m === null ? { reason: 'malformed' } : { token: m[1] }
}

/** Installs the hooks on `app` (call before the routes are registered). */
export function registerAccessControl (app: FastifyInstance, options: AccessControlOptions): void {
  const { tokens, audit, listenHost, allowedHosts } = options
  app.decorateRequest('principal', null)
  app.decorateRequest('auditNote', null)
  app.decorateRequest('refusal', null)
  app.decorateRequest('accessPolicy', null)
  void app.register(rateLimit, { global: false, max: options.rateLimit.max, timeWindow: options.rateLimit.windowMs })

  let limiter: ReturnType<FastifyInstance['createRateLimit']> | undefined
  app.addHook('onRequest', async (req, reply) => {
    if (!hostAllowed(req.headers.host, listenHost, allowedHosts)) throw new HostNotAllowedError(req.headers.host ?? '')
    // fastify builds a new object on every read of `req.routeOptions`: once per request.
    const policy = req.accessPolicy = policyOf(req)
    if (policy.role === 'public') return

    const bearer = bearerOf(req.headers.authorization)
    const verified = 'token' in bearer ? tokens.verify(bearer.token) : { ok: false as const, reason: bearer.reason }
    if (verified.ok) req.principal = verified.principal

    limiter ??= app.createRateLimit({ keyGenerator: (r) => r.principal !== null ? `token:${r.principal.id}` : `addr:${r.ip}` })
    const limit = await limiter(req)
    if (!limit.isAllowed && limit.isExceeded) throw new RateLimitedError(limit.max, limit.ttl)

    if (!verified.ok) {
      const tokenId = verified.id
      req.refusal = { action: 'auth.refused', reason: verified.reason, ...(tokenId !== undefined ? { tokenId } : {}) }
      // RFC 6750 §3: say which scheme, and for a token that was sent, that it is not valid.
      void reply.header('www-authenticate', verified.reason === 'missing' ? 'Bearer realm="caxton"' : 'Bearer realm="caxton", error="invalid_token"')
      throw new UnauthenticatedError(verified.reason)
    }
    if (!permits(verified.principal.role, policy.role)) {
      const what = `${req.method} ${req.routeOptions.url ?? pathOf(req)}`
      req.refusal = { action: 'auth.forbidden', detail: `${verified.principal.role} may not ${what}` }
      throw new ForbiddenError(verified.principal.role, policy.role, what)
    }
  })

  // A callback hook, not an async one: most requests (messages, reads) are not audited and
  // go on without a promise and a microtask of their own.
  app.addHook('onSend', (req, reply, payload, done) => {
    const entry = auditEntryOf(req, reply.statusCode, payload)
    if (entry === undefined) { done(null, payload); return }
    audit.append(entry).then(() => { done(null, payload) }, (err: unknown) => {
      req.log.error({ err, action: entry.action }, 'could not append to the audit log')
      done(null, payload)
    })
  })
}

/** The audit entry a finished request makes, if any. */
function auditEntryOf (req: FastifyRequest, status: number, payload: unknown): AuditInput | undefined {
  const refusal = req.refusal
  const action = refusal !== null || req.principal === null ? undefined : (req.accessPolicy ?? policyOf(req)).audit
  if (refusal === null && action === undefined) return undefined
  // With the query: a purge's filter, a raw deploy's id and limits are part of what was asked.
  const base = { status, source: req.ip, request: `${req.method} ${req.url}` }
  if (refusal !== null) {
    if (refusal.action === 'auth.refused') {
      return { action: refusal.action, outcome: 'refused', ...base, detail: refusal.reason, ...(refusal.tokenId !== undefined ? { target: refusal.tokenId } : {}) }
    }
    return { action: refusal.action, outcome: 'refused', ...base, ...actorOf(req), detail: refusal.detail }
  }
  if (action === undefined) return undefined
  const note = req.auditNote ?? {}
  const target = note.target ?? targetOf(req)
  const detail = note.detail ?? (status >= 400 ? errorCodeOf(payload) : undefined)
  return {
    action,
    outcome: status < 400 ? 'ok' : 'failed',
    ...base,
    ...actorOf(req),
    ...(target !== undefined ? { target } : {}),
    ...(detail !== undefined ? { detail } : {})
  }
}

function actorOf (req: FastifyRequest): { actor?: Principal } {
  return req.principal === null ? {} : { actor: req.principal }
}

function pathOf (req: FastifyRequest): string {
  return req.url.split('?')[0]
}

/** `:id` of the URL, else the `id` a deploy names (query or JSON body). */
function targetOf (req: FastifyRequest): string | undefined {
  const params = req.params as Record<string, unknown> | undefined
  if (typeof params?.id === 'string') return params.id
  const query = req.query as Record<string, unknown> | undefined
  if (typeof query?.id === 'string') return query.id
  const body = req.body as Record<string, unknown> | undefined
  if (body !== null && typeof body === 'object' && !Buffer.isBuffer(body) && typeof body.id === 'string') return body.id
  return undefined
}

function errorCodeOf (payload: unknown): string | undefined {
  if (typeof payload !== 'string') return undefined
  try {
    const code = (JSON.parse(payload) as { error?: { code?: unknown } }).error?.code
    return typeof code === 'string' ? code : undefined
  } catch {
    return undefined
  }
}
