import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect } from 'node:net'
import { pino } from 'pino'
import { createApiServer, type ApiServer } from '../../src/api/index.js'
import type { AgentInfo, AgentListResponse, ErrorBody, MessageListResponse, SendResponse } from '../../src/api/types.js'
import { CAXTON_VERSION } from '../../src/api/version.js'
import type { Logger } from '../../src/observability/logger.js'
import { createMetricsRegistry } from '../../src/observability/metrics.js'
import { injectWith, testAuth, type TestAuth } from './auth-fixture.js'
import { FakeError, FakeFacade, TINY_WASM } from './fake-facade.js'

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')

interface Captured { lines: Array<Record<string, unknown>> }

function capturingLogger (): { logger: Logger, captured: Captured } {
  const captured: Captured = { lines: [] }
  const logger = pino({ level: 'debug' }, { write: (line: string) => { captured.lines.push(JSON.parse(line) as Record<string, unknown>) } })
  return { logger, captured }
}

function errorOf (body: string): ErrorBody['error'] {
  const parsed = JSON.parse(body) as ErrorBody
  assert.equal(typeof parsed.error.code, 'string')
  assert.equal(typeof parsed.error.message, 'string')
  return parsed.error
}

describe('api: REST server', () => {
  let facade: FakeFacade
  let server: ApiServer
  let captured: Captured
  let access: TestAuth
  let inject: ReturnType<typeof injectWith>

  beforeEach(async () => {
    facade = new FakeFacade()
    const log = capturingLogger()
    captured = log.captured
    access = await testAuth()
    server = createApiServer({ facade, logger: log.logger, host: '127.0.0.1', port: 0, bodyLimitBytes: 64 * 1024, auth: access.auth })
    inject = injectWith(server.app, access.admin)
  })

  afterEach(async () => {
    facade.releaseHang()
    await server.stop()
  })

  const deployEcho = async (id = 'echo'): Promise<AgentInfo> => {
    const res = await inject({ method: 'POST', url: '/agents', payload: { id, wasm: b64(TINY_WASM) } })
    assert.equal(res.statusCode, 201, res.body)
    return res.json<AgentInfo>()
  }

  describe('every response', () => {
    it('carries X-Caxton-Version, on success and on error', async () => {
      const ok = await inject({ method: 'GET', url: '/health' })
      assert.equal(ok.headers['x-caxton-version'], CAXTON_VERSION)
      const missing = await inject({ method: 'GET', url: '/nope' })
      assert.equal(missing.headers['x-caxton-version'], CAXTON_VERSION)
      const bad = await inject({ method: 'POST', url: '/agents', headers: { 'content-type': 'application/json' }, payload: '{' })
      assert.equal(bad.headers['x-caxton-version'], CAXTON_VERSION)
    })

    it('answers an unknown route with a JSON 404', async () => {
      const res = await inject({ method: 'PATCH', url: '/agents/echo?x=1' })
      assert.equal(res.statusCode, 404)
      assert.match(String(res.headers['content-type']), /^application\/json/)
      const error = errorOf(res.body)
      assert.equal(error.code, 'ROUTE_NOT_FOUND')
      assert.equal(error.message, 'no route PATCH /agents/echo')
    })

    it('answers a URL with broken percent-encoding with a JSON 400', async () => {
      const res = await inject({ method: 'GET', url: '/agents/%E0%A4%A' })
      assert.equal(res.statusCode, 400)
      assert.equal(errorOf(res.body).code, 'REQUEST_INVALID')
    })
  })

  describe('POST /agents', () => {
    it('deploys from JSON with base64 and limits: 201, Location, the AgentInfo', async () => {
      const res = await inject({
        method: 'POST',
        url: '/agents',
        payload: { id: 'echo', wasm: b64(TINY_WASM), limits: { maxMemoryPages: 16, fuelPerMessage: 1000 } }
      })
      assert.equal(res.statusCode, 201, res.body)
      assert.equal(res.headers.location, '/agents/echo')
      const info = res.json<AgentInfo>()
      assert.equal(info.id, 'echo')
      assert.equal(info.limits.maxMemoryPages, 16)
      assert.equal(info.limits.fuelPerMessage, 1000)
      assert.deepEqual(facade.deployed[0].wasm, TINY_WASM)
      assert.deepEqual(facade.deployed[0].limits, { maxMemoryPages: 16, fuelPerMessage: 1000 })
    })

    it('deploys a raw application/wasm body with ?id= and limits as query parameters', async () => {
      const res = await inject({
        method: 'POST',
        url: '/agents?id=raw-1&maxMemoryPages=8&mailboxCapacity=10&fuelPerMessage=500&handlerTimeoutMs=250',
        headers: { 'content-type': 'application/wasm' },
        payload: Buffer.from(TINY_WASM)
      })
      assert.equal(res.statusCode, 201, res.body)
      assert.equal(res.json<AgentInfo>().id, 'raw-1')
      assert.equal(res.json<AgentInfo>().moduleBytes, TINY_WASM.byteLength)
      assert.deepEqual(facade.deployed[0].limits, { maxMemoryPages: 8, mailboxCapacity: 10, fuelPerMessage: 500, handlerTimeoutMs: 250 })
      assert.deepEqual(facade.deployed[0].wasm, TINY_WASM)
      assert.ok(facade.deployed[0].wasm instanceof Uint8Array)
    })

    it('accepts application/octet-stream like application/wasm, and no limits means none passed', async () => {
      const res = await inject({
        method: 'POST', url: '/agents?id=raw-2', headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.from(TINY_WASM)
      })
      assert.equal(res.statusCode, 201, res.body)
      assert.equal(facade.deployed[0].limits, undefined)
    })

    const badDeploys: Array<{ name: string, url?: string, type?: string, payload: unknown, status: number, code: string, message?: RegExp }> = [
      { name: 'a raw body without ?id=', url: '/agents', type: 'application/wasm', payload: Buffer.from(TINY_WASM), status: 400, code: 'REQUEST_INVALID', message: /querystring\.id is required/ },
      { name: 'a zero limit', url: '/agents?id=a&fuelPerMessage=0', type: 'application/wasm', payload: Buffer.from(TINY_WASM), status: 400, code: 'REQUEST_INVALID', message: /fuelPerMessage must be a whole number from 1/ },
      { name: 'a non-numeric limit', url: '/agents?id=a&mailboxCapacity=ten', type: 'application/wasm', payload: Buffer.from(TINY_WASM), status: 400, code: 'REQUEST_INVALID', message: /querystring\.mailboxCapacity must be a whole number/ },
      { name: 'too many memory pages', url: '/agents?id=a&maxMemoryPages=70000', type: 'application/wasm', payload: Buffer.from(TINY_WASM), status: 400, code: 'REQUEST_INVALID', message: /maxMemoryPages must be a whole number from 1 to 65536/ },
      { name: 'an unknown query parameter', url: '/agents?id=a&fuel=3', type: 'application/wasm', payload: Buffer.from(TINY_WASM), status: 400, code: 'REQUEST_INVALID', message: /querystring\.fuel is not a known field/ },
      { name: 'an empty raw module', url: '/agents?id=a', type: 'application/wasm', payload: Buffer.alloc(0), status: 400, code: 'REQUEST_INVALID' },
      { name: 'JSON plus query parameters', url: '/agents?id=a', payload: { id: 'a', wasm: b64(TINY_WASM) }, status: 400, code: 'REQUEST_INVALID', message: /only accepted with a raw module/ },
      { name: 'JSON without wasm', payload: { id: 'a' }, status: 400, code: 'REQUEST_INVALID', message: /body\.wasm is required/ },
      { name: 'JSON with a misspelt field', payload: { id: 'a', wasm: b64(TINY_WASM), limts: {} }, status: 400, code: 'REQUEST_INVALID', message: /body\.limts is not a known field/ },
      { name: 'JSON with an unknown limit', payload: { id: 'a', wasm: b64(TINY_WASM), limits: { fuel: 1 } }, status: 400, code: 'REQUEST_INVALID', message: /body\.limits\.fuel is not a known field/ },
      { name: 'JSON with a string limit (no coercion)', payload: { id: 'a', wasm: b64(TINY_WASM), limits: { fuelPerMessage: '100' } }, status: 400, code: 'REQUEST_INVALID', message: /body\.limits\.fuelPerMessage must be integer/ },
      { name: 'JSON with a numeric id', payload: { id: 5, wasm: b64(TINY_WASM) }, status: 400, code: 'REQUEST_INVALID', message: /body\.id must be string/ },
      { name: 'an id with a space', payload: { id: 'a b', wasm: b64(TINY_WASM) }, status: 400, code: 'REQUEST_INVALID', message: /body\.id must be an agent id/ },
      { name: 'invalid base64', payload: { id: 'a', wasm: 'AGFzbQ!!' }, status: 400, code: 'REQUEST_INVALID', message: /base64/ },
      { name: 'empty base64', payload: { id: 'a', wasm: '' }, status: 400, code: 'REQUEST_INVALID', message: /empty/ },
      { name: 'a JSON array', payload: [], status: 400, code: 'REQUEST_INVALID', message: /body must be object/ },
      { name: 'bytes that are not WASM (MODULE_INVALID from the node)', payload: { id: 'a', wasm: b64(new Uint8Array([1, 2, 3, 4])) }, status: 400, code: 'MODULE_INVALID' },
      { name: 'malformed JSON', type: 'application/json', payload: '{"id": "a", ', status: 400, code: 'JSON_INVALID' },
      { name: 'an empty JSON body', type: 'application/json', payload: '', status: 400, code: 'JSON_INVALID' },
      { name: 'a __proto__ key', type: 'application/json', payload: '{"id":"a","wasm":"AGFzbQEAAAA=","__proto__":{"x":1}}', status: 400, code: 'JSON_INVALID' },
      { name: 'text/plain', type: 'text/plain', payload: 'hello', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: /text\/plain/ },
      { name: 'no body at all', type: undefined, payload: undefined, status: 400, code: 'REQUEST_INVALID', message: /no module/ }
    ]
    for (const c of badDeploys) {
      it(`rejects ${c.name}: ${c.status} ${c.code}`, async () => {
        const headers: Record<string, string> = c.type === undefined ? {} : { 'content-type': c.type }
        const res = await inject({ method: 'POST', url: c.url ?? '/agents', headers, payload: c.payload as string })
        assert.equal(res.statusCode, c.status, res.body)
        const error = errorOf(res.body)
        assert.equal(error.code, c.code)
        if (c.message !== undefined) assert.match(error.message, c.message)
      })
    }

    it('answers 409 AGENT_EXISTS with the agent id in details', async () => {
      await deployEcho()
      const res = await inject({ method: 'POST', url: '/agents', payload: { id: 'echo', wasm: b64(TINY_WASM) } })
      assert.equal(res.statusCode, 409)
      const error = errorOf(res.body)
      assert.equal(error.code, 'AGENT_EXISTS')
      assert.deepEqual(error.details, { agentId: 'echo' })
    })

    it('answers 503 NOT_READY while the node is not ready', async () => {
      facade.notReady = true
      const res = await inject({ method: 'POST', url: '/agents', payload: { id: 'a', wasm: b64(TINY_WASM) } })
      assert.equal(res.statusCode, 503)
      assert.equal(errorOf(res.body).code, 'NOT_READY')
    })

    it('answers 413 PAYLOAD_TOO_LARGE for a body over the limit, JSON or raw, and keeps serving', async () => {
      const huge = Buffer.alloc(128 * 1024, 0x61)
      const json = await inject({ method: 'POST', url: '/agents', payload: { id: 'a', wasm: huge.toString('base64') } })
      assert.equal(json.statusCode, 413)
      const error = errorOf(json.body)
      assert.equal(error.code, 'PAYLOAD_TOO_LARGE')
      assert.deepEqual(error.details, { limitBytes: 64 * 1024 })
      const raw = await inject({ method: 'POST', url: '/agents?id=a', headers: { 'content-type': 'application/wasm' }, payload: huge })
      assert.equal(raw.statusCode, 413)
      assert.equal((await inject({ method: 'GET', url: '/health' })).statusCode, 200)
    })
  })

  describe('GET/DELETE /agents', () => {
    it('lists this node\'s agents', async () => {
      const empty = await inject({ method: 'GET', url: '/agents' })
      assert.deepEqual(empty.json(), { agents: [] })
      await deployEcho('a1')
      await deployEcho('a2')
      const res = await inject({ method: 'GET', url: '/agents' })
      assert.equal(res.statusCode, 200)
      assert.deepEqual(res.json<AgentListResponse>().agents.map(a => a.id), ['a1', 'a2'])
      assert.deepEqual(res.json<AgentListResponse>().agents[0], facade.agents.get('a1'))
    })

    it('shows one agent, and 404 AGENT_NOT_FOUND for an unknown one', async () => {
      await deployEcho('a1')
      const res = await inject({ method: 'GET', url: '/agents/a1' })
      assert.equal(res.statusCode, 200)
      assert.deepEqual(res.json(), facade.agents.get('a1'))
      const missing = await inject({ method: 'GET', url: '/agents/zz' })
      assert.equal(missing.statusCode, 404)
      const error = errorOf(missing.body)
      assert.equal(error.code, 'AGENT_NOT_FOUND')
      assert.deepEqual(error.details, { agentId: 'zz' })
    })

    it('keeps fields the node adds to AgentInfo (open response schema)', async () => {
      const info = await deployEcho('a1')
      facade.agents.set('a1', { ...info, lastError: 'trap: unreachable', extra: 7 } as AgentInfo)
      const res = await inject({ method: 'GET', url: '/agents/a1' })
      assert.equal(res.json<AgentInfo & { extra: number }>().extra, 7)
      assert.equal(res.json<AgentInfo>().lastError, 'trap: unreachable')
    })

    it('rejects an invalid id in the path with 400', async () => {
      const res = await inject({ method: 'GET', url: '/agents/-bad' })
      assert.equal(res.statusCode, 400)
      assert.match(errorOf(res.body).message, /params\.id must be an agent id/)
    })

    it('removes an agent: 204 with no body, then 404', async () => {
      await deployEcho('a1')
      const res = await inject({ method: 'DELETE', url: '/agents/a1' })
      assert.equal(res.statusCode, 204)
      assert.equal(res.body, '')
      assert.equal(facade.agents.has('a1'), false)
      const again = await inject({ method: 'DELETE', url: '/agents/a1' })
      assert.equal(again.statusCode, 404)
      assert.equal(errorOf(again.body).code, 'AGENT_NOT_FOUND')
    })
  })

  describe('POST /agents/:id/messages', () => {
    beforeEach(async () => { await deployEcho('worker') })

    it('sends without waiting: 202 with messageId, conversationId, sender; the draft goes on as written', async () => {
      const draft = { performative: 'REQUEST', content: 'ping', conversationId: 'c-42', protocol: 'fipa-request', sender: 'tester' }
      const res = await inject({ method: 'POST', url: '/agents/worker/messages', payload: draft })
      assert.equal(res.statusCode, 202, res.body)
      const body = res.json<SendResponse>()
      assert.equal(body.conversationId, 'c-42')
      assert.equal(body.sender, 'tester')
      assert.equal(body.messageId, facade.records[0].message.messageId)
      assert.equal(body.reply, undefined)
      assert.equal(facade.sent[0].to, 'worker')
      assert.deepEqual(facade.sent[0].draft, draft)
      assert.equal(facade.sent[0].waitMs, undefined)
    })

    it('accepts null for optional fields and a loosely spelled performative, passing them on for the router', async () => {
      const draft = { performative: 'inform', content: null, conversationId: null, sender: null, replyBy: null }
      const res = await inject({ method: 'POST', url: '/agents/worker/messages', payload: draft })
      assert.equal(res.statusCode, 202, res.body)
      assert.deepEqual(facade.sent[0].draft, draft)
    })

    it('passes bytes content as { base64 } to the node', async () => {
      const res = await inject({ method: 'POST', url: '/agents/worker/messages', payload: { performative: 'INFORM', content: { base64: 'AAEC' } } })
      assert.equal(res.statusCode, 202, res.body)
      assert.deepEqual(facade.sent[0].draft.content, { base64: 'AAEC' })
      assert.deepEqual(facade.records[0].message.content, new Uint8Array([0, 1, 2]))
    })

    it('waits for the reply: 200 with the reply in JSON form (bytes content as base64)', async () => {
      const res = await inject({ method: 'POST', url: '/agents/echo/messages?wait=2000', payload: { performative: 'REQUEST', content: { base64: 'AAEC' } } })
      assert.equal(res.statusCode, 200, res.body)
      const body = res.json<SendResponse>()
      assert.equal(facade.sent[0].waitMs, 2000)
      assert.ok(body.reply !== undefined)
      assert.equal(body.reply.performative, 'INFORM')
      assert.equal(body.reply.sender, 'echo')
      assert.equal(body.reply.inReplyTo, body.messageId)
      assert.equal(body.reply.conversationId, body.conversationId)
      assert.deepEqual(body.reply.content, { base64: 'AAEC' })
    })

    it('keeps string content a string in the reply', async () => {
      const res = await inject({ method: 'POST', url: '/agents/echo/messages?wait=10', payload: { performative: 'REQUEST', content: 'hé' } })
      assert.equal(res.json<SendResponse>().reply?.content, 'hé')
    })

    it('treats wait=0 as no wait', async () => {
      const res = await inject({ method: 'POST', url: '/agents/echo/messages?wait=0', payload: { performative: 'REQUEST' } })
      assert.equal(res.statusCode, 202)
      assert.equal(facade.sent[0].waitMs, undefined)
    })

    it('answers 504 REPLY_TIMEOUT when no reply comes in time', async () => {
      const res = await inject({ method: 'POST', url: '/agents/silent/messages?wait=50', payload: { performative: 'REQUEST' } })
      assert.equal(res.statusCode, 504)
      const error = errorOf(res.body)
      assert.equal(error.code, 'REPLY_TIMEOUT')
      assert.equal((error.details as { waitMs: number }).waitMs, 50)
    })

    const badSends: Array<{ name: string, url?: string, payload: unknown, type?: string, status: number, code: string, message?: RegExp }> = [
      { name: 'a wait over the maximum', url: '/agents/worker/messages?wait=300001', payload: { performative: 'REQUEST' }, status: 400, code: 'REQUEST_INVALID', message: /querystring\.wait must be a whole number from 0 to 300000/ },
      { name: 'a non-numeric wait', url: '/agents/worker/messages?wait=soon', payload: { performative: 'REQUEST' }, status: 400, code: 'REQUEST_INVALID', message: /querystring\.wait must be a whole number/ },
      { name: 'a negative wait', url: '/agents/worker/messages?wait=-1', payload: { performative: 'REQUEST' }, status: 400, code: 'REQUEST_INVALID' },
      { name: 'two waits', url: '/agents/worker/messages?wait=1&wait=2', payload: { performative: 'REQUEST' }, status: 400, code: 'REQUEST_INVALID' },
      { name: 'a missing performative', payload: { content: 'x' }, status: 400, code: 'REQUEST_INVALID', message: /body\.performative is required/ },
      { name: 'receivers in the body', payload: { performative: 'INFORM', receivers: ['x'] }, status: 400, code: 'REQUEST_INVALID', message: /receiver is the agent in the URL/ },
      { name: 'an unknown field', payload: { performative: 'INFORM', replywith: 'r1' }, status: 400, code: 'REQUEST_INVALID', message: /body\.replywith is not a known field/ },
      { name: 'numeric content', payload: { performative: 'INFORM', content: 42 }, status: 400, code: 'REQUEST_INVALID', message: /body\.content must be a string, or \{ "base64": "\.\.\." \}/ },
      { name: 'content object without base64', payload: { performative: 'INFORM', content: { text: 'x' } }, status: 400, code: 'REQUEST_INVALID', message: /body\.content must be a string, or/ },
      { name: 'an empty performative', payload: { performative: '' }, status: 400, code: 'REQUEST_INVALID', message: /body\.performative must NOT have fewer than 1 characters/ },
      { name: 'a numeric performative', payload: { performative: 7 }, status: 400, code: 'REQUEST_INVALID', message: /body\.performative must be string/ },
      { name: 'an unknown performative (ACL_INVALID from the node)', payload: { performative: 'SHOUT' }, status: 400, code: 'ACL_INVALID', message: /performative: unknown performative "SHOUT"/ },
      { name: 'a sender that is not an agent id', payload: { performative: 'INFORM', sender: '' }, status: 400, code: 'REQUEST_INVALID', message: /body\.sender must be an agent id/ },
      { name: 'replyBy as a string', payload: { performative: 'INFORM', replyBy: 'tomorrow' }, status: 400, code: 'REQUEST_INVALID', message: /body\.replyBy must be integer/ },
      { name: 'malformed JSON', type: 'application/json', payload: '{"performative":', status: 400, code: 'JSON_INVALID' },
      { name: 'a wasm body', type: 'application/wasm', payload: Buffer.from(TINY_WASM), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: /use application\/json/ },
      { name: 'an agent no node hosts', url: '/agents/nobody/messages', payload: { performative: 'INFORM' }, status: 404, code: 'AGENT_NOT_FOUND' }
    ]
    for (const c of badSends) {
      it(`rejects ${c.name}: ${c.status} ${c.code}`, async () => {
        const headers: Record<string, string> = c.type === undefined ? {} : { 'content-type': c.type }
        const res = await inject({ method: 'POST', url: c.url ?? '/agents/worker/messages', headers, payload: c.payload as string })
        assert.equal(res.statusCode, c.status, res.body)
        const error = errorOf(res.body)
        assert.equal(error.code, c.code)
        if (c.message !== undefined) assert.match(error.message, c.message)
      })
    }

    it('answers 503 OUTBOX_FULL with Retry-After in whole seconds', async () => {
      const res = await inject({ method: 'POST', url: '/agents/full/messages', payload: { performative: 'INFORM' } })
      assert.equal(res.statusCode, 503)
      assert.equal(errorOf(res.body).code, 'OUTBOX_FULL')
      assert.equal(res.headers['retry-after'], '3')
    })

    it('answers 500 without leaking the message, and logs the cause', async () => {
      const res = await inject({ method: 'POST', url: '/agents/boom/messages', payload: { performative: 'INFORM' } })
      assert.equal(res.statusCode, 500)
      const error = errorOf(res.body)
      assert.equal(error.code, 'INTERNAL')
      assert.doesNotMatch(error.message, /secret-path/)
      assert.match(error.message, /request req-/)
      const logged = captured.lines.find(l => l.msg === 'request failed')
      assert.ok(logged !== undefined, 'the failure is logged')
      assert.equal(logged.component, 'caxton:api')
      assert.match(String((logged.err as { message: string }).message), /secret-path/)
    })

    it('answers a request still waiting when the server stops with 503 NOT_READY', async () => {
      const { url } = await server.start()
      const pending = fetch(`${url}/agents/hang/messages?wait=60000`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${access.admin}` }, body: JSON.stringify({ performative: 'REQUEST' })
      })
      await facade.whenHung()
      await server.stop()
      const res = await pending
      assert.equal(res.status, 503)
      const body = await res.json() as ErrorBody
      assert.equal(body.error.code, 'NOT_READY')
    })
  })

  describe('GET /messages', () => {
    beforeEach(async () => {
      await deployEcho('a1')
      await deployEcho('a2')
      for (const [to, cid] of [['a1', 'c1'], ['a2', 'c2'], ['a1', 'c3']]) {
        const res = await inject({ method: 'POST', url: `/agents/${to}/messages`, payload: { performative: 'INFORM', conversationId: cid, content: { base64: 'AQ==' } } })
        assert.equal(res.statusCode, 202)
      }
    })

    it('lists recent messages newest first with content in JSON form', async () => {
      const res = await inject({ method: 'GET', url: '/messages' })
      assert.equal(res.statusCode, 200)
      const { messages } = res.json<MessageListResponse>()
      assert.deepEqual(messages.map(m => m.message.conversationId), ['c3', 'c2', 'c1'])
      assert.deepEqual(messages[0].message.content, { base64: 'AQ==' })
      assert.equal(messages[0].direction, 'local')
      assert.equal(messages[0].status, 'delivered')
    })

    it('filters by agent and conversation, and honours limit', async () => {
      const byAgent = (await inject({ method: 'GET', url: '/messages?agent=a1' })).json<MessageListResponse>()
      assert.deepEqual(byAgent.messages.map(m => m.message.conversationId), ['c3', 'c1'])
      const byConv = (await inject({ method: 'GET', url: '/messages?conversationId=c2' })).json<MessageListResponse>()
      assert.deepEqual(byConv.messages.map(m => m.message.receivers), [['a2']])
      const limited = (await inject({ method: 'GET', url: '/messages?limit=1' })).json<MessageListResponse>()
      assert.equal(limited.messages.length, 1)
    })

    it('rejects a limit outside 1..1000 and unknown parameters', async () => {
      for (const url of ['/messages?limit=0', '/messages?limit=1001', '/messages?limit=x', '/messages?since=1']) {
        const res = await inject({ method: 'GET', url })
        assert.equal(res.statusCode, 400, url)
        assert.equal(errorOf(res.body).code, 'REQUEST_INVALID')
      }
    })
  })

  describe('node endpoints', () => {
    it('GET /health is 200 { status: "ok" } even when the node is not ready', async () => {
      facade.readinessValue = { ready: false, checks: { libp2p: { ok: false, detail: 'not listening' } } }
      const res = await inject({ method: 'GET', url: '/health' })
      assert.equal(res.statusCode, 200)
      assert.deepEqual(res.json(), { status: 'ok' })
    })

    it('GET /ready is 200 with the checks when ready, 503 with them when not', async () => {
      const ok = await inject({ method: 'GET', url: '/ready' })
      assert.equal(ok.statusCode, 200)
      assert.deepEqual(ok.json(), facade.readinessValue)
      facade.readinessValue = { ready: false, checks: { storage: { ok: true }, libp2p: { ok: false, detail: 'not listening' } } }
      const notOk = await inject({ method: 'GET', url: '/ready' })
      assert.equal(notOk.statusCode, 503)
      assert.deepEqual(notOk.json(), facade.readinessValue)
    })

    it('GET /ready is 503 when the check itself throws', async () => {
      facade.readiness = () => { throw new Error('boom') }
      const res = await inject({ method: 'GET', url: '/ready' })
      assert.equal(res.statusCode, 503)
      assert.equal(res.json<{ ready: boolean }>().ready, false)
    })

    it('GET /node is the NodeInfo', async () => {
      const res = await inject({ method: 'GET', url: '/node' })
      assert.equal(res.statusCode, 200)
      assert.deepEqual(res.json(), facade.info())
    })

    it('GET /cluster/peers lists the peers', async () => {
      const res = await inject({ method: 'GET', url: '/cluster/peers' })
      assert.equal(res.statusCode, 200)
      assert.deepEqual(res.json(), { peers: facade.peerList })
    })

    it('GET /metrics is Prometheus text with the facade\'s content type', async () => {
      await deployEcho('a1')
      const res = await inject({ method: 'GET', url: '/metrics' })
      assert.equal(res.statusCode, 200)
      assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
      assert.match(res.body, /^caxton_agents_running_count 1$/m)
    })
  })

  describe('options', () => {
    it('start() on port 0 reports the real port and serves over HTTP; stop() is idempotent', async () => {
      const { host, port, url } = await server.start()
      assert.equal(host, '127.0.0.1')
      assert.ok(port > 0)
      assert.equal(url, `http://127.0.0.1:${port}`)
      const res = await fetch(`${url}/health`)
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('x-caxton-version'), CAXTON_VERSION)
      await server.stop()
      await server.stop()
      await assert.rejects(fetch(`${url}/health`))
    })

    it('stop() closes a connection that never sent a request instead of waiting for it', async () => {
      const patient = createApiServer({ facade, host: '127.0.0.1', port: 0, closeGraceMs: 600_000, auth: access.auth })
      const { port } = await patient.start()
      const socket = connect(port, '127.0.0.1')
      await once(socket, 'connect')
      const closed = once(socket, 'close')
      await patient.stop()
      await closed
    })

    it('names its logger caxton:api once, whether given the root logger or an already named child', async () => {
      const raw: string[] = []
      const root = pino({ level: 'debug' }, { write: (line: string) => { raw.push(line) } })
      for (const logger of [root, root.child({ component: 'caxton:api' })]) {
        raw.length = 0
        const named = createApiServer({ facade, logger, host: '127.0.0.1', port: 0, auth: access.auth })
        await injectWith(named.app, access.admin)({ method: 'GET', url: '/health' })
        assert.ok(raw.length > 0)
        for (const line of raw) assert.equal(line.split('"component":"caxton:api"').length, 2, line)
        await named.stop()
      }
    })

    it('errorStatus maps a new code; an unmapped CaxtonError code is a 500 that names its code only', async () => {
      const custom = createApiServer({ facade, host: '127.0.0.1', port: 0, errorStatus: { MAILBOX_FULL: 429 }, auth: access.auth })
      facade.getAgent = (id) => { throw new FakeError(id === 'full' ? 'MAILBOX_FULL' : 'STORAGE_FAILED', 'leveldb: /secret/path corrupt') }
      const full = await injectWith(custom.app, access.admin)({ method: 'GET', url: '/agents/full' })
      assert.equal(full.statusCode, 429)
      assert.equal(errorOf(full.body).code, 'MAILBOX_FULL')
      const other = await injectWith(custom.app, access.admin)({ method: 'GET', url: '/agents/x' })
      assert.equal(other.statusCode, 500)
      assert.equal(errorOf(other.body).code, 'STORAGE_FAILED')
      assert.doesNotMatch(other.body, /secret/)
      await custom.stop()
    })

    it('counts requests in the given metrics registry by route pattern', async () => {
      const registry = createMetricsRegistry()
      const measured = createApiServer({ facade, host: '127.0.0.1', port: 0, metrics: registry, auth: access.auth })
      await injectWith(measured.app, access.admin)({ method: 'GET', url: '/agents/x' })
      await injectWith(measured.app, access.admin)({ method: 'GET', url: '/health' })
      const text = await registry.metrics()
      assert.match(text, /caxton_api_requests_total\{method="GET",route="\/agents\/:id",status="404"\} 1/)
      assert.match(text, /caxton_api_requests_total\{method="GET",route="\/health",status="200"\} 1/)
      assert.match(text, /caxton_api_request_duration_seconds_count\{method="GET",route="\/health"\} 1/)
      await measured.stop()
    })
  })
})
