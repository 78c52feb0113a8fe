/**
 * What the REST API's access control costs per request: verifying a bearer token among
 * `tokens` stored ones (SHA-256 and a constant-time compare), the permission check (the
 * route's policy and the role), the whole access path through fastify (Host check,
 * authentication, rate limit, permission: a token-protected `GET /node` against the
 * public `GET /health`), and one audit append on a real LevelDB.
 * Run: `npm run bench -- auth [--iterations N]`. Targets (DESIGN backlog): authentication
 * < 5 ms, permission check < 1 ms.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { MemoryLevel } from 'memory-level'
import { declaredPolicy } from '../../src/api/access.js'
import { createApiServer } from '../../src/api/index.js'
import { AuditLog } from '../../src/audit/index.js'
import { permits, TokenStore, type Role } from '../../src/auth/index.js'
import { openStorage, type Sublevel } from '../../src/storage/index.js'
import { FakeFacade } from '../../test/api/fake-facade.js'
import { percentile, round } from './stats.js'

export interface AuthOptions {
  /** Calls per measured operation. */
  iterations: number
  /** Tokens in the store. @default 1000 */
  tokens?: number
}

/** Latency of one call, µs. */
export interface Times { medianUs: number, p99Us: number, meanUs: number }

export interface AuthResult {
  tokens: number
  /** TokenStore.verify of a valid token. */
  authenticate: Times
  /** The same for a wrong secret (the path a guesser takes). */
  authenticateWrong: Times
  /** declaredPolicy + permits. */
  permission: Times
  /** fastify inject: GET /node with a token, and GET /health without (no access check). */
  requestWithToken: Times
  requestPublic: Times
  /** AuditLog.append on LevelDB (one batch of two rows). */
  auditAppend: Times
}

function timed (n: number, fn: () => void): Times {
  const samples = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    fn()
    samples[i] = (performance.now() - t0) * 1000
  }
  return summary(samples)
}

async function timedAsync (n: number, fn: () => Promise<unknown>): Promise<Times> {
  const samples = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await fn()
    samples[i] = (performance.now() - t0) * 1000
  }
  return summary(samples)
}

function summary (samples: Float64Array): Times {
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length
  samples.sort()
  return { medianUs: round(percentile(samples, 50), 2), p99Us: round(percentile(samples, 99), 2), meanUs: round(mean, 2) }
}

const memoryRows = (): ((name: string) => Sublevel) => {
  const db = new MemoryLevel<string, Uint8Array>({ valueEncoding: 'view' })
  return (name) => db.sublevel<string, Uint8Array>(name, { valueEncoding: 'view' }) as unknown as Sublevel
}

export async function benchAuth (options: AuthOptions, say: (line: string) => void): Promise<AuthResult> {
  const count = options.tokens ?? 1000
  const n = options.iterations
  const rows = memoryRows()
  const tokens = await TokenStore.open(rows('tokens'))
  const roles: Role[] = ['admin', 'deployer', 'sender', 'reader']
  let token = ''
  for (let i = 0; i < count; i++) token = (await tokens.create({ name: `t${i}`, role: roles[i % 4] })).token
  const wrong = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA')

  // Warm up, then measure.
  timed(1000, () => { tokens.verify(token) })
  const authenticate = timed(n, () => { if (!tokens.verify(token).ok) throw new Error('the token should verify') })
  const authenticateWrong = timed(n, () => { tokens.verify(wrong) })
  const routes: Array<[string, string]> = [['GET', '/agents'], ['POST', '/agents'], ['POST', '/agents/:id/messages'], ['DELETE', '/dead-letters/:id'], ['GET', '/docs/static/index.html']]
  let k = 0
  timed(1000, () => { declaredPolicy('GET', '/agents') })
  const permission = timed(n, () => {
    const [method, url] = routes[k++ % routes.length]
    permits(roles[k % 4], declaredPolicy(method, url)?.role ?? 'admin')
  })

  const audit = await AuditLog.open(rows('audit'))
  const server = createApiServer({ facade: new FakeFacade(), host: '127.0.0.1', port: 0, auth: { tokens, audit }, rateLimit: { max: 1e9, windowMs: 60_000 } })
  const admin = (await tokens.create({ name: 'bench', role: 'admin' })).token
  const headers = { authorization: `Bearer ${admin}` }
  const requests = Math.min(n, 20_000)
  await timedAsync(500, async () => await server.app.inject({ method: 'GET', url: '/node', headers }))
  const requestWithToken = await timedAsync(requests, async () => await server.app.inject({ method: 'GET', url: '/node', headers }))
  const requestPublic = await timedAsync(requests, async () => await server.app.inject({ method: 'GET', url: '/health' }))
  await server.stop()

  const dir = await mkdtemp(join(tmpdir(), 'caxton-bench-audit-'))
  const storage = await openStorage(dir)
  let auditAppend: Times
  try {
    const log = await AuditLog.open(storage.sublevel('audit'))
    const entry = { action: 'agent.deploy', outcome: 'ok' as const, status: 201, actor: { id: 'aaaaaaaaaaaa', name: 'ci', role: 'deployer' }, source: '127.0.0.1', target: 'echo', request: 'POST /agents' }
    auditAppend = await timedAsync(Math.min(n, 5000), async () => await log.append(entry))
  } finally {
    await storage.close()
    await rm(dir, { recursive: true, force: true })
  }

  const result: AuthResult = { tokens: count, authenticate, authenticateWrong, permission, requestWithToken, requestPublic, auditAppend }
  const row = (what: string, t: Times): void => { say(`${what.padEnd(52)} median ${fmt(t.medianUs)}  p99 ${fmt(t.p99Us)}  mean ${fmt(t.meanUs)}`) }
  row(`authenticate (valid token, ${count} stored)`, authenticate)
  row('authenticate (wrong secret)', authenticateWrong)
  row('permission check (route policy + role)', permission)
  row('GET /node with a token (fastify inject, whole path)', requestWithToken)
  row('GET /health, public (fastify inject)', requestPublic)
  row('audit append (LevelDB)', auditAppend)
  say(`targets: authentication < 5 ms (p99 ${fmt(authenticate.p99Us)}), permission check < 1 ms (p99 ${fmt(permission.p99Us)})`)
  return result
}

function fmt (us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(2)} µs`
}
