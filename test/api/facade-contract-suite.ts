/**
 * The contract of the REST API's main calls, as a mocha suite to run against every
 * {@link NodeFacade} behind a real API server: the test fake (`fake-facade.ts`) and an
 * in-process node. It asserts statuses and error codes over HTTP, so the fake, the node
 * and docs/api.md cannot drift apart unnoticed:
 *
 * ```ts
 * apiContractSuite('in-process node', {
 *   setup: async () => { node = await startNode(config); return { url: node.info().api, module: ECHO, token } },
 *   teardown: async () => { await node.stop() }
 * })
 * ```
 */
import assert from 'node:assert/strict'
import type { ErrorBody } from '../../src/api/types.js'

export interface ApiUnderTest {
  /** Base URL of the REST API, e.g. `http://127.0.0.1:7420`. */
  url: string
  /** A module the node accepts, whose agent answers a REQUEST with an INFORM carrying the same content. */
  module: Uint8Array
  /** An admin token of the API. */
  token: string
}

export interface ApiContractHarness {
  /** Starts the API (once for the suite). */
  setup: () => Promise<ApiUnderTest>
  /** Stops what `setup` started. */
  teardown: () => Promise<void>
}

interface Answer {
  status: number
  headers: Headers
  body: any
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')

export function apiContractSuite (name: string, { setup, teardown }: ApiContractHarness): void {
  describe(`REST API contract: ${name}`, function () {
    this.timeout(30_000)
    let api: ApiUnderTest

    before(async () => { api = await setup() })
    after(async () => { await teardown() })

    async function call (method: string, path: string, body?: unknown): Promise<Answer> {
      const headers: Record<string, string> = { authorization: `Bearer ${api.token}` }
      const init: RequestInit = { method, headers }
      if (body instanceof Uint8Array) {
        headers['content-type'] = 'application/wasm'
        init.body = Buffer.from(body)
      } else if (body !== undefined) {
        headers['content-type'] = 'application/json'
        init.body = JSON.stringify(body)
      }
      const res = await fetch(api.url + path, init)
      const text = await res.text()
      return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) }
    }

    const deploy = async (id: string, wasm = api.module): Promise<Answer> => await call('POST', '/agents', { id, wasm: b64(wasm) })

    /** Asserts a failure's status and code; returns its error for further checks. */
    function failed (answer: Answer, status: number, code: string): ErrorBody['error'] {
      assert.equal(answer.status, status, JSON.stringify(answer.body))
      assert.equal(answer.body?.error?.code, code, JSON.stringify(answer.body))
      assert.equal(typeof answer.body.error.message, 'string')
      return (answer.body as ErrorBody).error
    }

    const ids = async (): Promise<string[]> => ((await call('GET', '/agents')).body.agents as Array<{ id: string }>).map(a => a.id)

    it('deploys a module (JSON or raw): 201, Location, the agent running; GET and the list show it', async () => {
      const json = await deploy('first')
      assert.equal(json.status, 201, JSON.stringify(json.body))
      assert.equal(json.headers.get('location'), '/agents/first')
      assert.equal(json.body.id, 'first')
      assert.equal(json.body.state, 'running')
      const raw = await call('POST', '/agents?id=first-raw', api.module)
      assert.equal(raw.status, 201, JSON.stringify(raw.body))
      assert.equal(raw.body.id, 'first-raw')

      const one = await call('GET', '/agents/first')
      assert.equal(one.status, 200)
      assert.equal(one.body.id, 'first')
      const list = await call('GET', '/agents')
      assert.equal(list.status, 200)
      assert.ok(Array.isArray(list.body.agents))
      assert.deepEqual((await ids()).filter(id => id.startsWith('first')).sort(), ['first', 'first-raw'])
    })

    it('refuses bytes that are not WebAssembly: 400 MODULE_INVALID with the reason, nothing deployed', async () => {
      const error = failed(await deploy('junk', Uint8Array.of(1, 2, 3, 4)), 400, 'MODULE_INVALID')
      assert.equal(typeof (error.details as { reason?: unknown }).reason, 'string')
      assert.ok(!(await ids()).includes('junk'))
    })

    it('refuses bad ids: 400 REQUEST_INVALID for the syntax, 400 AGENT_ID_INVALID for the node\'s own', async () => {
      failed(await deploy('bad id'), 400, 'REQUEST_INVALID')
      failed(await deploy('a'.repeat(129)), 400, 'REQUEST_INVALID')
      for (const id of ['ams', 'client-7']) {
        const error = failed(await deploy(id), 400, 'AGENT_ID_INVALID')
        assert.deepEqual(error.details, { agentId: id })
      }
      const listed = await ids()
      assert.ok(!listed.includes('ams') && !listed.includes('client-7'))
    })

    it('refuses an id already deployed: 409 AGENT_EXISTS naming it', async () => {
      assert.equal((await deploy('twice')).status, 201)
      const error = failed(await deploy('twice'), 409, 'AGENT_EXISTS')
      assert.deepEqual(error.details, { agentId: 'twice' })
    })

    it('reaches an agent whose id has the longest length allowed (128)', async () => {
      const id = 'L'.repeat(128)
      assert.equal((await deploy(id)).status, 201)
      assert.equal((await call('GET', `/agents/${id}`)).status, 200)
      assert.equal((await call('DELETE', `/agents/${id}`)).status, 204)
      failed(await call('GET', `/agents/${id}`), 404, 'AGENT_NOT_FOUND')
      failed(await call('GET', `/agents/${id}L`), 400, 'REQUEST_INVALID')
    })

    it('removes an agent: 204 with no body, then it is gone', async () => {
      assert.equal((await deploy('short-lived')).status, 201)
      const removed = await call('DELETE', '/agents/short-lived')
      assert.equal(removed.status, 204)
      assert.equal(removed.body, undefined)
      assert.ok(!(await ids()).includes('short-lived'))
    })

    it('answers 404 AGENT_NOT_FOUND naming an unknown agent, to GET and DELETE', async () => {
      assert.deepEqual(failed(await call('GET', '/agents/ghost'), 404, 'AGENT_NOT_FOUND').details, { agentId: 'ghost' })
      assert.deepEqual(failed(await call('DELETE', '/agents/ghost'), 404, 'AGENT_NOT_FOUND').details, { agentId: 'ghost' })
    })

    it('stops, starts, suspends and resumes an agent: 200 with the agent afterwards; 409 AGENT_STATE_CONFLICT out of turn', async () => {
      assert.equal((await deploy('cycled')).status, 201)
      const state = async (path: string, body?: unknown): Promise<Answer> => await call('POST', `/agents/cycled/${path}`, body)
      const suspended = await state('suspend', { reason: 'maintenance' })
      assert.equal(suspended.status, 200, JSON.stringify(suspended.body))
      assert.equal(suspended.body.state, 'suspended')
      assert.equal(suspended.body.reason, 'suspended by an operator: maintenance')
      assert.equal((await call('GET', '/agents/cycled')).body.reason, 'suspended by an operator: maintenance')
      const conflict = failed(await state('start'), 409, 'AGENT_STATE_CONFLICT')
      assert.deepEqual(conflict.details, { agentId: 'cycled', state: 'suspended', action: 'start' })
      assert.equal((await state('resume')).body.state, 'running')
      assert.equal((await state('resume')).body.state, 'running', 'resume of a running agent is a no-op')
      assert.equal((await state('stop')).body.state, 'stopped')
      failed(await state('resume'), 409, 'AGENT_STATE_CONFLICT')
      const started = await state('start')
      assert.equal(started.status, 200)
      assert.equal(started.body.state, 'running')
      assert.equal(started.body.reason, undefined)
      failed(await state('suspend', { reason: 'bell\u0007' }), 400, 'REQUEST_INVALID')
      failed(await state('suspend', { why: 'unknown field' }), 400, 'REQUEST_INVALID')
      for (const verb of ['stop', 'start', 'suspend', 'resume']) {
        assert.deepEqual(failed(await call('POST', `/agents/ghost/${verb}`), 404, 'AGENT_NOT_FOUND').details, { agentId: 'ghost' }, verb)
      }
    })

    it('upgrades in place (JSON or raw): 200 with the next version; a bad module is 400 MODULE_INVALID and changes nothing', async () => {
      assert.equal((await deploy('grown')).status, 201)
      assert.equal((await call('GET', '/agents/grown')).body.version, 1)
      const json = await call('PUT', '/agents/grown', { wasm: b64(api.module), limits: { fuelPerMessage: 2_000_000 } })
      assert.equal(json.status, 200, JSON.stringify(json.body))
      assert.equal(json.body.id, 'grown')
      assert.equal(json.body.version, 2)
      assert.equal(json.body.state, 'running')
      assert.equal(json.body.limits.fuelPerMessage, 2_000_000)
      const raw = await call('PUT', '/agents/grown?mailboxCapacity=64', api.module)
      assert.equal(raw.status, 200, JSON.stringify(raw.body))
      assert.equal(raw.body.version, 3)
      assert.equal(raw.body.limits.mailboxCapacity, 64)

      failed(await call('PUT', '/agents/grown', { wasm: b64(Uint8Array.of(1, 2, 3, 4)) }), 400, 'MODULE_INVALID')
      failed(await call('PUT', '/agents/grown', Uint8Array.of(1, 2, 3, 4)), 400, 'MODULE_INVALID')
      failed(await call('PUT', '/agents/grown', { id: 'grown', wasm: b64(api.module) }), 400, 'REQUEST_INVALID')
      failed(await call('PUT', '/agents/grown?id=grown', api.module), 400, 'REQUEST_INVALID')
      failed(await call('PUT', '/agents/grown', { wasm: '' }), 400, 'REQUEST_INVALID')
      const after = await call('GET', '/agents/grown')
      assert.equal(after.body.version, 3)
      assert.equal(after.body.state, 'running')
      assert.deepEqual(failed(await call('PUT', '/agents/ghost', { wasm: b64(api.module) }), 404, 'AGENT_NOT_FOUND').details, { agentId: 'ghost' })

      assert.equal((await call('POST', '/agents/grown/messages', { performative: 'REQUEST', content: 'still here' })).status, 202)
    })

    it('lists kept versions and rolls back (default: the previous one) as a new version; 404 AGENT_VERSION_NOT_FOUND', async () => {
      assert.equal((await deploy('rolled')).status, 201)
      failed(await call('POST', '/agents/rolled/rollback'), 404, 'AGENT_VERSION_NOT_FOUND')
      assert.equal((await call('PUT', '/agents/rolled', { wasm: b64(api.module), limits: { fuelPerMessage: 3_000_000 } })).status, 200)
      const back = await call('POST', '/agents/rolled/rollback')
      assert.equal(back.status, 200, JSON.stringify(back.body))
      assert.equal(back.body.version, 3)
      assert.notEqual(back.body.limits.fuelPerMessage, 3_000_000)
      const to2 = await call('POST', '/agents/rolled/rollback', { version: 2 })
      assert.equal(to2.body.version, 4)
      assert.equal(to2.body.limits.fuelPerMessage, 3_000_000)
      const error = failed(await call('POST', '/agents/rolled/rollback', { version: 99 }), 404, 'AGENT_VERSION_NOT_FOUND')
      assert.deepEqual(error.details, { agentId: 'rolled', version: 99 })
      failed(await call('POST', '/agents/rolled/rollback', { version: 0 }), 400, 'REQUEST_INVALID')

      const listed = await call('GET', '/agents/rolled/versions')
      assert.equal(listed.status, 200)
      assert.equal(listed.body.id, 'rolled')
      assert.equal(listed.body.version, 4)
      assert.deepEqual(listed.body.versions.map((v: { version: number, rollbackOf?: number }) => [v.version, v.rollbackOf]), [[1, undefined], [2, undefined], [3, 1], [4, 2]])
      for (const v of listed.body.versions) {
        assert.match(v.moduleHash, /^[0-9a-f]{64}$/)
        assert.equal(v.moduleBytes, api.module.byteLength)
        assert.equal(typeof v.deployedAt, 'number')
        assert.equal(typeof v.limits, 'object')
      }
      failed(await call('GET', '/agents/ghost/versions'), 404, 'AGENT_NOT_FOUND')
      failed(await call('POST', '/agents/ghost/rollback'), 404, 'AGENT_NOT_FOUND')
    })

    it('answers 404 AGENT_NOT_FOUND to a message for an agent no node hosts, waiting or not', async () => {
      for (const path of ['/agents/ghost/messages', '/agents/ghost/messages?wait=1000']) {
        assert.deepEqual(failed(await call('POST', path, { performative: 'INFORM' }), 404, 'AGENT_NOT_FOUND').details, { agentId: 'ghost' })
      }
    })

    it('refuses malformed messages: REQUEST_INVALID for the schema, ACL_INVALID naming the field for the rest', async () => {
      assert.equal((await deploy('inbox')).status, 201)
      failed(await call('POST', '/agents/inbox/messages', { content: 'no performative' }), 400, 'REQUEST_INVALID')
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ performative: 'SHOUT' }, 'performative'],
        [{ performative: 'INFORM', traceparent: 'not-a-traceparent' }, 'traceparent'],
        [{ performative: 'INFORM', sender: 'inbox' }, 'sender'],
        [{ performative: 'INFORM', sender: 'ams' }, 'sender']
      ]
      for (const [draft, field] of cases) {
        const error = failed(await call('POST', '/agents/inbox/messages', draft), 400, 'ACL_INVALID')
        const issues = (error.details as { issues: Array<{ field: string }> }).issues
        assert.deepEqual(issues.map(i => i.field), [field], JSON.stringify(draft))
      }
      // the draft is checked before the receiver
      failed(await call('POST', '/agents/ghost/messages', { performative: 'SHOUT' }), 400, 'ACL_INVALID')
    })

    it('sends to a deployed agent: 202 without waiting, 200 with the reply when waiting', async () => {
      assert.equal((await deploy('echo')).status, 201)
      const sent = await call('POST', '/agents/echo/messages', { performative: 'REQUEST', content: 'one' })
      assert.equal(sent.status, 202, JSON.stringify(sent.body))
      for (const field of ['messageId', 'conversationId', 'sender']) assert.equal(typeof sent.body[field], 'string', field)
      assert.equal(sent.body.reply, undefined)

      const waited = await call('POST', '/agents/echo/messages?wait=10000', { performative: 'REQUEST', content: 'two' })
      assert.equal(waited.status, 200, JSON.stringify(waited.body))
      assert.equal(waited.body.reply.performative, 'INFORM')
      assert.equal(waited.body.reply.sender, 'echo')
      assert.equal(waited.body.reply.content, 'two')
      assert.equal(waited.body.reply.inReplyTo, waited.body.messageId)
      assert.equal(waited.body.reply.conversationId, waited.body.conversationId)
    })
  })
}
