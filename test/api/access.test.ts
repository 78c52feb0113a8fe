/**
 * Access control of the REST API over fastify's inject and real sockets: tokens and
 * roles (401, 403), the Host check (421), rate limits (429), timeouts, the audit log.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect } from 'node:net'
import { ROUTE_POLICY } from '../../src/api/access.js'
import { bearerOf, hostAllowed } from '../../src/api/auth.js'
import { createApiServer, type ApiServer } from '../../src/api/index.js'
import type { FaultFacade, MembershipFacade, RegistryFacade } from '../../src/api/facade.js'
import { ROLES, permits, type Role } from '../../src/auth/index.js'
import { bearer, injectWith, testAuth, type TestAuth } from './auth-fixture.js'
import { FakeFacade, TINY_WASM } from './fake-facade.js'

const unused = (): never => { throw new Error('not called by this test') }

/** Every optional part, so that every route exists. */
class FullFacade extends FakeFacade {
  readonly registry: RegistryFacade = { list: () => ({ agents: [], total: 0 }), get: unused, summary: unused }
  readonly faults: FaultFacade = { state: () => ({ isolated: false, blocked: [] }), partition: async () => ({ isolated: true, blocked: [] }), heal: async () => ({ isolated: false, blocked: [] }) }
  readonly membership: MembershipFacade = { list: unused }
}

describe('api: access control', () => {
  let access: TestAuth
  let server: ApiServer
  let facade: FakeFacade

  beforeEach(async () => {
    access = await testAuth()
    facade = new FullFacade({ delivery: true })
    server = createApiServer({ facade, host: '127.0.0.1', port: 0, auth: access.auth })
  })
  afterEach(async () => { await server.stop() })

  describe('tokens', () => {
    it('answers /health and /ready without a token, everything else 401 with WWW-Authenticate', async () => {
      assert.equal((await server.app.inject({ method: 'GET', url: '/health' })).statusCode, 200)
      assert.equal((await server.app.inject({ method: 'GET', url: '/ready' })).statusCode, 200)
      for (const [route, policy] of Object.entries(ROUTE_POLICY)) {
        if (policy.role === 'public') continue
        const [method, pattern] = route.split(' ')
        const url = pattern.replace(/:id/, 'x')
        const res = await server.app.inject({ method: method as 'GET', url })
        assert.equal(res.statusCode, 401, `${route}: ${res.body}`)
        assert.equal(res.json().error.code, 'UNAUTHENTICATED')
        assert.equal(res.headers['www-authenticate'], 'Bearer realm="caxton"')
      }
      for (const url of ['/docs', '/docs/json', '/no-such-route']) {
        assert.equal((await server.app.inject({ method: 'GET', url })).statusCode, 401, url)
      }
    })

    it('refuses a wrong, malformed or revoked token with 401 naming why, before the node is asked', async () => {
      const cases: Array<[string, string]> = [
        ['Bearer cxt_000000000000_' + 'A'.repeat(43), 'unknown'],
        ['Bearer not-a-token', 'malformed'],
        ['Basic dXNlcjpwYXNz', 'malformed']
      ]
      for (const [authorization, reason] of cases) {
        const res = await server.app.inject({ method: 'POST', url: '/agents', headers: { authorization }, payload: { id: 'x', wasm: Buffer.from(TINY_WASM).toString('base64') } })
        assert.equal(res.statusCode, 401, authorization)
        assert.equal(res.json().error.details.reason, reason, authorization)
        assert.equal(res.headers['www-authenticate'], 'Bearer realm="caxton", error="invalid_token"')
      }
      const { token, info } = await access.auth.tokens.create({ name: 'soon-gone', role: 'admin' })
      await access.auth.tokens.revoke(info.id)
      const revoked = await server.app.inject({ method: 'GET', url: '/agents', headers: bearer(token) })
      assert.equal(revoked.statusCode, 401)
      assert.equal(revoked.json().error.details.reason, 'revoked')
      assert.deepEqual(facade.deployed, [], 'nothing reached the node')
    })

    it('lets each role call exactly the routes the policy gives it (403 FORBIDDEN otherwise)', async () => {
      const tokens = Object.fromEntries(await Promise.all(ROLES.map(async r => [r, await access.token(r)]))) as Record<Role, string>
      for (const [route, policy] of Object.entries(ROUTE_POLICY)) {
        if (policy.role === 'public') continue
        const [method, pattern] = route.split(' ')
        const url = pattern.replace(/:id/, pattern.startsWith('/tokens') ? '0123456789ab' : 'x')
        for (const role of ROLES) {
          const res = await server.app.inject({ method: method as 'GET', url, headers: bearer(tokens[role]) })
          if (permits(role, policy.role)) {
            assert.ok(res.statusCode !== 401 && res.statusCode !== 403, `${role} may ${route}: ${res.statusCode} ${res.body}`)
          } else {
            assert.equal(res.statusCode, 403, `${role} may not ${route}: ${res.body}`)
            assert.equal(res.json().error.code, 'FORBIDDEN')
            assert.deepEqual(res.json().error.details, { role, required: policy.role })
          }
        }
      }
    })

    it('shows message content to a reader, not to someone without a token', async () => {
      const admin = injectWith(server.app, access.admin)
      await admin({ method: 'POST', url: '/agents', payload: { id: 'echo', wasm: Buffer.from(TINY_WASM).toString('base64') } })
      const sender = await access.token('sender')
      const sent = await server.app.inject({ method: 'POST', url: '/agents/echo/messages', headers: bearer(sender), payload: { performative: 'INFORM', content: 'secret plans' } })
      assert.equal(sent.statusCode, 202)
      assert.equal((await server.app.inject({ method: 'GET', url: '/messages' })).statusCode, 401)
      const read = await server.app.inject({ method: 'GET', url: '/messages', headers: bearer(await access.token('reader')) })
      assert.match(read.body, /secret plans/)
    })

    it('creates a token once (201 with the token), lists without it, revokes it', async () => {
      const admin = injectWith(server.app, access.admin)
      const created = await admin({ method: 'POST', url: '/tokens', payload: { name: 'grafana', role: 'reader', ttlMs: 86_400_000 } })
      assert.equal(created.statusCode, 201, created.body)
      const { token, id, role, expiresAt, createdBy } = created.json()
      assert.equal(role, 'reader')
      assert.equal(typeof expiresAt, 'number')
      assert.equal(createdBy, access.auth.tokens.list()[0].id)
      assert.equal((await server.app.inject({ method: 'GET', url: '/agents', headers: bearer(token) })).statusCode, 200)
      const list = await admin({ method: 'GET', url: '/tokens' })
      assert.ok(!list.body.includes(token.slice(17)), 'the list never shows a token')
      assert.deepEqual(list.json().tokens.map((t: { name: string }) => t.name), ['test-admin', 'grafana'])
      const revoked = await admin({ method: 'DELETE', url: `/tokens/${id as string}` })
      assert.equal(revoked.statusCode, 200)
      assert.equal(typeof revoked.json().revokedAt, 'number')
      assert.equal((await server.app.inject({ method: 'GET', url: '/agents', headers: bearer(token) })).statusCode, 401)
      assert.equal((await admin({ method: 'DELETE', url: '/tokens/0123456789ab' })).json().error.code, 'TOKEN_NOT_FOUND')
      assert.equal((await admin({ method: 'POST', url: '/tokens', payload: { name: 'x', role: 'root' } })).statusCode, 400)
    })

    it('parses the Authorization header as RFC 6750 says', () => {
      assert.deepEqual(bearerOf(undefined), { reason: 'missing' })
      assert.deepEqual(bearerOf('bearer abc'), { token: 'abc' })
      assert.deepEqual(bearerOf('Bearer  abc '), { token: 'abc' })
      assert.deepEqual(bearerOf('Bearer a b'), { reason: 'malformed' })
      assert.deepEqual(bearerOf('Token abc'), { reason: 'malformed' })
    })
  })

  describe('Host check (DNS rebinding)', () => {
    it('takes localhost, the listen address and configured names; refuses other names with 421', async () => {
      const named = createApiServer({ facade, host: '127.0.0.1', port: 0, auth: access.auth, allowedHosts: ['caxton.internal', '.mesh.example'] })
      try {
        const status = async (host: string): Promise<number> => (await named.app.inject({ method: 'GET', url: '/health', headers: { host } })).statusCode
        for (const host of ['localhost:7420', '127.0.0.1:7420', '127.0.0.2', '[::1]:7420', 'caxton.internal:7420', 'CAXTON.internal', 'n1.mesh.example']) assert.equal(await status(host), 200, host)
        for (const host of ['evil.example', 'caxton.internal.evil.example', 'mesh.example', '10.0.0.1']) assert.equal(await status(host), 421, host)
        const refused = await named.app.inject({ method: 'GET', url: '/agents', headers: { host: 'attacker.example', ...bearer(access.admin) } })
        assert.equal(refused.json().error.code, 'HOST_NOT_ALLOWED')
      } finally {
        await named.stop()
      }
    })

    it('takes any IP address when listening on every interface, names only when configured', () => {
      assert.ok(hostAllowed('192.0.2.7:7421', '0.0.0.0', []))
      assert.ok(hostAllowed('[2001:db8::1]:7420', '::', []))
      assert.ok(!hostAllowed('rebind.attacker.example', '0.0.0.0', []))
      assert.ok(hostAllowed('node1:7420', '0.0.0.0', ['node1']))
      assert.ok(hostAllowed('myhost', 'myhost', []), 'the listen host itself')
      assert.ok(!hostAllowed('192.0.2.7', '192.0.2.8', []))
      assert.ok(!hostAllowed(undefined, '0.0.0.0', []) && !hostAllowed('', '0.0.0.0', []), 'no Host: refused')
    })
  })

  describe('rate limit', () => {
    it('answers 429 with Retry-After past the limit, per token; a bad token is limited by address', async () => {
      let t = 0
      const limited = createApiServer({ facade, host: '127.0.0.1', port: 0, auth: access.auth, rateLimit: { max: 3, windowMs: 60_000 } })
      try {
        const reader = await access.token('reader')
        for (let i = 0; i < 3; i++) assert.equal((await limited.app.inject({ method: 'GET', url: '/agents', headers: bearer(reader) })).statusCode, 200)
        const over = await limited.app.inject({ method: 'GET', url: '/agents', headers: bearer(reader) })
        assert.equal(over.statusCode, 429)
        assert.equal(over.json().error.code, 'RATE_LIMITED')
        const retry = Number(over.headers['retry-after'])
        assert.ok(retry >= 1 && retry <= 60, String(over.headers['retry-after']))
        assert.equal((await limited.app.inject({ method: 'GET', url: '/agents', headers: bearer(access.admin) })).statusCode, 200, 'another token has its own budget')
        assert.equal((await limited.app.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'liveness is not limited')
        const guesses: number[] = []
        for (let i = 0; i < 4; i++) guesses.push((await limited.app.inject({ method: 'GET', url: '/agents', headers: { authorization: `Bearer guess-${t++}` } })).statusCode)
        assert.deepEqual(guesses, [401, 401, 401, 429])
      } finally {
        await limited.stop()
      }
    })
  })

  describe('audit', () => {
    it('records deploys, removals, token changes and every refusal, with who, what and the status', async () => {
      const admin = injectWith(server.app, access.admin)
      const deployer = await access.token('deployer', 'ci')
      const reader = await access.token('reader')
      const asDeployer = injectWith(server.app, deployer)
      assert.equal((await asDeployer({ method: 'POST', url: '/agents?id=echo', headers: { 'content-type': 'application/wasm' }, payload: Buffer.from(TINY_WASM) })).statusCode, 201)
      assert.equal((await asDeployer({ method: 'POST', url: '/agents', payload: { id: 'echo', wasm: Buffer.from(TINY_WASM).toString('base64') } })).statusCode, 409)
      assert.equal((await asDeployer({ method: 'DELETE', url: '/agents/echo' })).statusCode, 204)
      assert.equal((await asDeployer({ method: 'GET', url: '/agents' })).statusCode, 200)
      assert.equal((await server.app.inject({ method: 'DELETE', url: '/agents/echo', headers: bearer(reader) })).statusCode, 403)
      assert.equal((await server.app.inject({ method: 'GET', url: '/agents' })).statusCode, 401)
      const created = await admin({ method: 'POST', url: '/tokens', payload: { name: 'temp', role: 'sender' } })
      await admin({ method: 'DELETE', url: `/tokens/${created.json().id as string}` })

      const log = await admin({ method: 'GET', url: '/audit' })
      assert.equal(log.statusCode, 200)
      const rows = (log.json().entries as Array<Record<string, any>>).map(e => [e.action, e.outcome, e.status, e.actor?.name, e.target, e.request, e.detail])
      assert.deepEqual(rows, [
        ['agent.deploy', 'ok', 201, 'ci', 'echo', 'POST /agents?id=echo', undefined],
        ['agent.deploy', 'failed', 409, 'ci', 'echo', 'POST /agents', 'AGENT_EXISTS'],
        ['agent.remove', 'ok', 204, 'ci', 'echo', 'DELETE /agents/echo', undefined],
        ['auth.forbidden', 'refused', 403, 'test-reader', undefined, 'DELETE /agents/echo', 'reader may not DELETE /agents/:id'],
        ['auth.refused', 'refused', 401, undefined, undefined, 'GET /agents', 'missing'],
        ['token.create', 'ok', 201, 'test-admin', created.json().id, 'POST /tokens', 'name temp, role sender'],
        ['token.revoke', 'ok', 200, 'test-admin', created.json().id, `DELETE /tokens/${created.json().id as string}`, undefined]
      ])
      assert.equal(log.json().entries[0].source, '127.0.0.1')
      assert.equal(log.json().head.seq, 7)
      const verified = await admin({ method: 'GET', url: '/audit/verify' })
      assert.deepEqual(verified.json(), { ok: true, entries: 7, head: log.json().head })
      assert.equal((await server.app.inject({ method: 'GET', url: '/audit', headers: bearer(reader) })).statusCode, 403)
    })

    it('records lifecycle calls; a sender may not make them', async () => {
      const admin = injectWith(server.app, access.admin)
      assert.equal((await admin({ method: 'POST', url: '/agents?id=echo', headers: { 'content-type': 'application/wasm' }, payload: Buffer.from(TINY_WASM) })).statusCode, 201)
      const asDeployer = injectWith(server.app, await access.token('deployer', 'ops'))
      assert.equal((await asDeployer({ method: 'POST', url: '/agents/echo/suspend', payload: { reason: 'audit' } })).statusCode, 200)
      assert.equal((await asDeployer({ method: 'POST', url: '/agents/echo/start' })).statusCode, 409)
      assert.equal((await asDeployer({ method: 'POST', url: '/agents/echo/resume' })).statusCode, 200)
      assert.equal((await asDeployer({ method: 'POST', url: '/agents/echo/stop' })).statusCode, 200)
      const sender = await access.token('sender')
      assert.equal((await server.app.inject({ method: 'POST', url: '/agents/echo/start', headers: bearer(sender) })).statusCode, 403)
      const actions = (await access.auth.audit.list({ limit: 10 })).slice(1).map(e => [e.action, e.outcome, e.status, e.target, e.detail])
      assert.deepEqual(actions, [
        ['agent.suspend', 'ok', 200, 'echo', undefined],
        ['agent.start', 'failed', 409, 'echo', 'AGENT_STATE_CONFLICT'],
        ['agent.resume', 'ok', 200, 'echo', undefined],
        ['agent.stop', 'ok', 200, 'echo', undefined],
        ['auth.forbidden', 'refused', 403, undefined, 'sender may not POST /agents/:id/start']
      ])
    })

    it('records upgrades and rollbacks; a sender may not make them, a reader may list versions', async () => {
      const admin = injectWith(server.app, access.admin)
      const raw = { 'content-type': 'application/wasm' }
      assert.equal((await admin({ method: 'POST', url: '/agents?id=echo', headers: raw, payload: Buffer.from(TINY_WASM) })).statusCode, 201)
      const asDeployer = injectWith(server.app, await access.token('deployer', 'ops'))
      assert.equal((await asDeployer({ method: 'PUT', url: '/agents/echo', headers: raw, payload: Buffer.from(TINY_WASM) })).statusCode, 200)
      assert.equal((await asDeployer({ method: 'PUT', url: '/agents/echo', headers: raw, payload: Buffer.of(1, 2, 3) })).statusCode, 400)
      assert.equal((await asDeployer({ method: 'POST', url: '/agents/echo/rollback', payload: { version: 1 } })).statusCode, 200)
      assert.equal((await asDeployer({ method: 'POST', url: '/agents/echo/rollback', payload: { version: 9 } })).statusCode, 404)
      const sender = await access.token('sender')
      assert.equal((await server.app.inject({ method: 'PUT', url: '/agents/echo', headers: { ...bearer(sender), ...raw }, payload: Buffer.from(TINY_WASM) })).statusCode, 403)
      const reader = await access.token('reader')
      assert.equal((await server.app.inject({ method: 'GET', url: '/agents/echo/versions', headers: bearer(reader) })).statusCode, 200)
      assert.equal((await server.app.inject({ method: 'POST', url: '/agents/echo/rollback', headers: bearer(reader) })).statusCode, 403)
      const actions = (await access.auth.audit.list({ limit: 10 })).slice(1).map(e => [e.action, e.outcome, e.status, e.target, e.detail])
      assert.deepEqual(actions, [
        ['agent.upgrade', 'ok', 200, 'echo', undefined],
        ['agent.upgrade', 'failed', 400, 'echo', 'MODULE_INVALID'],
        ['agent.rollback', 'ok', 200, 'echo', undefined],
        ['agent.rollback', 'failed', 404, 'echo', 'AGENT_VERSION_NOT_FOUND'],
        ['auth.forbidden', 'refused', 403, undefined, 'sender may not PUT /agents/:id'],
        ['auth.forbidden', 'refused', 403, undefined, 'reader may not POST /agents/:id/rollback']
      ])
    })

    it('records fault injection and dead-letter changes', async () => {
      const admin = injectWith(server.app, access.admin)
      await admin({ method: 'POST', url: '/faults/partition' })
      await admin({ method: 'POST', url: '/faults/heal' })
      await admin({ method: 'DELETE', url: '/dead-letters?cause=expired' })
      await admin({ method: 'POST', url: '/dead-letters/000000000000000000/replay' })
      const actions = (await access.auth.audit.list({ limit: 10 })).map(e => [e.action, e.status, e.request])
      assert.deepEqual(actions, [
        ['faults.partition', 200, 'POST /faults/partition'],
        ['faults.heal', 200, 'POST /faults/heal'],
        ['dead-letter.purge', 200, 'DELETE /dead-letters?cause=expired'],
        ['dead-letter.replay', 404, 'POST /dead-letters/000000000000000000/replay']
      ])
    })
  })

  describe('timeouts', () => {
    /**
     * Opens a connection to a server with `timeouts`, writes `head`, then `drip` every
     * 50 ms (the socket never idles); resolves with what the server answered and how long
     * it kept the socket open, or fails after 5 s.
     */
    async function trickle (timeouts: { requestMs: number, headersMs: number, keepAliveMs: number }, head: string, drip: string): Promise<{ answer: string, heldMs: number }> {
      const slow = createApiServer({ facade, host: '127.0.0.1', port: 0, auth: access.auth, timeouts })
      const { port } = await slow.start()
      const socket = connect(port, '127.0.0.1')
      // Writes after the server closed it fail with EPIPE: expected here.
      socket.on('error', () => {})
      let timer: NodeJS.Timeout | undefined
      try {
        await once(socket, 'connect')
        let answer = ''
        socket.on('data', (d: Buffer) => { answer += d.toString() })
        socket.write(head)
        timer = setInterval(() => { if (!socket.destroyed) socket.write(drip) }, 50)
        const started = Date.now()
        // the server must close it: waited for as an event, with a bound
        await once(socket, 'close', { signal: AbortSignal.timeout(5000) })
        return { answer, heldMs: Date.now() - started }
      } finally {
        clearInterval(timer)
        socket.destroy()
        await slow.stop()
      }
    }

    it('closes a connection whose request body trickles in past the request timeout', async function () {
      this.timeout(10_000)
      const { answer, heldMs } = await trickle({ requestMs: 400, headersMs: 300, keepAliveMs: 1000 },
        `POST /agents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${access.admin}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`, ' ')
      assert.ok(heldMs >= 300 && heldMs < 2000, `held for ${heldMs} ms`)
      assert.match(answer, /^HTTP\/1\.1 408/)
    })

    it('closes a connection that sends headers too slowly', async function () {
      this.timeout(10_000)
      const { heldMs } = await trickle({ requestMs: 2000, headersMs: 300, keepAliveMs: 1000 }, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: 1\r\n')
      assert.ok(heldMs < 2000, `held for ${heldMs} ms`)
    })
  })
})
