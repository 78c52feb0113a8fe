import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createApiServer, type ApiServer } from '../../src/api/index.js'
import { CAXTON_VERSION } from '../../src/api/version.js'
import { ApiError, ApiUnreachableError, CaxtonClient } from '../../src/cli/index.js'
import { testAuth, type TestAuth } from '../api/auth-fixture.js'
import { FakeFacade, TINY_WASM } from '../api/fake-facade.js'

describe('cli: CaxtonClient', () => {
  let facade: FakeFacade
  let server: ApiServer
  let client: CaxtonClient
  let access: TestAuth

  beforeEach(async () => {
    facade = new FakeFacade()
    access = await testAuth()
    server = createApiServer({ facade, host: '127.0.0.1', port: 0, version: '9.9.9', auth: access.auth })
    client = new CaxtonClient({ url: (await server.start()).url + '/', token: access.admin })
  })

  afterEach(async () => {
    await server.stop()
  })

  it('round-trips every endpoint with typed results', async () => {
    const info = await client.deployAgent({ id: 'echo', wasm: TINY_WASM, limits: { fuelPerMessage: 7 } })
    assert.equal(info.limits.fuelPerMessage, 7)
    assert.deepEqual((await client.listAgents()).agents.map(a => a.id), ['echo'])
    assert.equal((await client.getAgent('echo')).id, 'echo')
    const sent = await client.sendMessage('echo', { performative: 'REQUEST', content: 'x' }, { waitMs: 1000 })
    assert.equal(sent.reply?.content, 'x')
    assert.equal((await client.listMessages({ limit: 1 })).messages.length, 1)
    assert.deepEqual(await client.health(), { status: 'ok' })
    assert.equal((await client.node()).peerId, '12D3KooWSelf')
    assert.equal((await client.peers()).peers.length, 2)
    assert.match(await client.metrics(), /caxton_agents_running_count 1/)
    assert.equal(await client.removeAgent('echo'), undefined)
    assert.equal(client.serverVersion, '9.9.9')
  })

  it('round-trips the delivery endpoints (status, handled log, dead letters) with typed results', async () => {
    const delivery = new FakeFacade({ delivery: true })
    const api = createApiServer({ facade: delivery, host: '127.0.0.1', port: 0, auth: access.auth })
    const c = new CaxtonClient({ url: (await api.start()).url, token: access.admin })
    try {
      await c.deployAgent({ id: 'w', wasm: TINY_WASM })
      const ok = await c.sendMessage('w', { performative: 'INFORM' })
      delivery.setDeliveryState(ok.messageId, 'w', 'handled')
      const late = await c.sendMessage('w', { performative: 'REQUEST', replyBy: 1 })
      assert.deepEqual((await c.messageStatus(ok.messageId)).receivers.map(r => [r.receiver, r.state]), [['w', 'handled']])
      assert.deepEqual((await c.handledLog({ limit: 10 })).entries.map(e => e.messageId), [ok.messageId])
      assert.deepEqual((await c.handledLog({ after: delivery.handled[0].key })).entries, [])
      const list = await c.listDeadLetters({ agent: 'w', cause: 'expired', since: 0, limit: 5 })
      assert.equal(list.total, 1)
      const [d] = list.deadLetters
      assert.equal(d.messageId, late.messageId)
      assert.equal(d.message.performative, 'REQUEST')
      assert.deepEqual(await c.getDeadLetter(d.id), d)
      assert.deepEqual(await c.replayDeadLetter(d.id), { messageId: late.messageId, receiver: 'w' })
      await c.sendMessage('w', { performative: 'REQUEST', replyBy: 1 })
      const [again] = (await c.listDeadLetters()).deadLetters
      assert.equal(await c.deleteDeadLetter(again.id), undefined)
      await c.sendMessage('w', { performative: 'REQUEST', replyBy: 1 })
      assert.deepEqual(await c.purgeDeadLetters({ cause: 'rejected' }), { deleted: 0 })
      assert.deepEqual(await c.purgeDeadLetters(), { deleted: 1 })
      const missing = await c.messageStatus('m-none').then(() => undefined, (e: unknown) => e)
      assert.ok(missing instanceof ApiError)
      assert.equal(missing.code, 'MESSAGE_NOT_FOUND')
    } finally {
      await api.stop()
    }
  })

  it('carries Retry-After as retryAfterMs (OUTBOX_FULL), and nothing when absent', async () => {
    const full = await client.sendMessage('full', { performative: 'INFORM' }).then(() => undefined, (e: unknown) => e)
    assert.ok(full instanceof ApiError)
    assert.equal(full.status, 503)
    assert.equal(full.code, 'OUTBOX_FULL')
    assert.equal(full.retryAfterMs, 3000)
    const other = await client.getAgent('ghost').then(() => undefined, (e: unknown) => e)
    assert.ok(other instanceof ApiError)
    assert.equal(other.retryAfterMs, undefined)
  })

  it('ready() resolves with the checks on 503 too', async () => {
    facade.readinessValue = { ready: false, checks: { libp2p: { ok: false } } }
    assert.deepEqual(await client.ready(), facade.readinessValue)
  })

  it('throws ApiError with status, code, details and the body', async () => {
    const err = await client.getAgent('ghost').then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof ApiError)
    assert.equal(err.status, 404)
    assert.equal(err.code, 'AGENT_NOT_FOUND')
    assert.equal(err.message, "no agent 'ghost'")
    assert.deepEqual(err.details, { agentId: 'ghost' })
    assert.equal(err.body?.error.code, 'AGENT_NOT_FOUND')
    assert.equal(err.name, 'ApiError')
  })

  it('encodes ids in paths', async () => {
    const err = await client.getAgent('a/b').then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof ApiError)
    assert.equal(err.code, 'REQUEST_INVALID')
  })

  describe('against something that is not a Caxton node', () => {
    let other: Server
    let url: string
    beforeEach(async () => {
      other = createServer((req, res) => {
        if (req.url === '/agents') {
          res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>')
        } else {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{not json')
        }
      })
      await new Promise<void>(resolve => other.listen(0, '127.0.0.1', resolve))
      url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`
    })
    afterEach(async () => {
      await new Promise(resolve => other.close(resolve))
    })

    it('a non-API error body becomes HTTP_<status> with a snippet', async () => {
      const err = await new CaxtonClient({ url }).listAgents().then(() => undefined, (e: unknown) => e)
      assert.ok(err instanceof ApiError)
      assert.equal(err.status, 502)
      assert.equal(err.code, 'HTTP_502')
      assert.match(err.message, /HTTP 502 Bad Gateway from http:\/\/127\.0\.0\.1:\d+\/agents: <h1>Bad Gateway<\/h1>/)
    })

    it('invalid JSON becomes RESPONSE_INVALID', async () => {
      const err = await new CaxtonClient({ url }).node().then(() => undefined, (e: unknown) => e)
      assert.ok(err instanceof ApiError)
      assert.equal(err.code, 'RESPONSE_INVALID')
    })
  })

  it('a closed port is ApiUnreachableError (status 0) naming the cause', async () => {
    const url = client.url
    await server.stop()
    const err = await new CaxtonClient({ url }).health().then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof ApiUnreachableError)
    assert.equal(err.status, 0)
    assert.equal(err.code, 'API_UNREACHABLE')
    assert.equal(err.url, url)
    assert.match(err.reason, /ECONNREFUSED/)
  })

  it('sends its version and JSON/wasm content types', async () => {
    const seen: Array<{ headers: Headers, url: string }> = []
    const spy = new CaxtonClient({
      url: client.url,
      token: access.admin,
      clientVersion: '1.2.3',
      fetch: async (input, init) => {
        seen.push({ headers: new Headers(init?.headers), url: String(input) })
        return await fetch(input, init)
      }
    })
    await spy.deployAgent({ id: 'w', wasm: TINY_WASM, limits: { maxMemoryPages: 2 } })
    await spy.sendMessage('w', { performative: 'INFORM' })
    assert.equal(seen[0].headers.get('x-caxton-cli-version'), '1.2.3')
    assert.equal(seen[0].headers.get('content-type'), 'application/wasm')
    assert.match(seen[0].url, /\/agents\?id=w&maxMemoryPages=2$/)
    assert.equal(seen[1].headers.get('content-type'), 'application/json')
    assert.equal(new CaxtonClient().url, 'http://127.0.0.1:7420')
    assert.equal(CAXTON_VERSION.length > 0, true)
  })
})
