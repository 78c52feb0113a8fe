/**
 * The registry's and fault injection's REST routes against a fake facade (no libp2p):
 * shapes, query checks, errors; capabilities in both forms of `POST /agents`.
 */
import assert from 'node:assert/strict'
import { RegistryAgentNotFoundError } from '../../protocols/registry/index.js'
import { createApiServer, type ApiServer } from '../../src/api/index.js'
import type { FaultFacade, RegisteredAgentJson, RegistryFacade, RegistryListQuery } from '../../src/api/facade.js'
import { InvalidFaultRequestError, FAULT_ERROR_STATUS } from '../../src/faults/index.js'
import { REGISTRY_ERROR_STATUS, parseCapabilities } from '../../src/registry/index.js'
import { injectWith, testAuth, type TestAuth } from '../api/auth-fixture.js'
import { FakeFacade, TINY_WASM } from '../api/fake-facade.js'

function agent (id: string, caps: string[], reachable = true): RegisteredAgentJson {
  return {
    id, node: '12D3KooWNodeB', state: 'running', status: reachable ? 'running' : 'unreachable', reachable, local: false,
    capabilities: caps.map(name => ({ name })), updatedAt: 1, version: { by: '12D3KooWNodeB', seq: 1, hlc: { wall: 1, logical: 0 } }, conflicts: 0
  }
}

class RegistryFake extends FakeFacade {
  queries: RegistryListQuery[] = []
  faultCalls: Array<[string, { peers?: string[] }]> = []
  readonly agentsInRegistry = [agent('a', ['echo']), agent('b', ['echo', 'plan'], false), agent('c', [])]

  readonly registry: RegistryFacade = {
    list: (q) => {
      this.queries.push(q)
      let list = this.agentsInRegistry.filter(a => q.capability === undefined || a.capabilities.some(c => c.name === q.capability))
      if (q.reachable !== undefined) list = list.filter(a => a.reachable === q.reachable)
      return { agents: list.slice(0, q.limit), total: list.length }
    },
    get: (id) => {
      const a = this.agentsInRegistry.find(x => x.id === id)
      if (a === undefined) throw new RegistryAgentNotFoundError(id)
      return a
    },
    summary: () => ({ nodeId: 'self', agents: 3, entries: 4, tombstones: 1, digest: 'ab', capabilities: ['echo', 'plan'], unreachableNodes: [], healthy: true, stats: { deltasSent: 2 } })
  }

  readonly faults: FaultFacade = {
    state: () => ({ isolated: false, blocked: [] }),
    partition: async (req) => {
      this.faultCalls.push(['partition', req])
      if (req.peers?.includes('nope') === true) throw new InvalidFaultRequestError('peers[0]', '"nope" is not a peer id')
      return { isolated: req.peers === undefined, blocked: req.peers ?? [] }
    },
    heal: async (req) => {
      this.faultCalls.push(['heal', req])
      return { isolated: false, blocked: [] }
    }
  }

  override async deployAgent (req: Parameters<FakeFacade['deployAgent']>[0]): ReturnType<FakeFacade['deployAgent']> {
    if (req.capabilities !== undefined) parseCapabilities(req.capabilities)
    return await super.deployAgent(req)
  }
}

describe('registry and fault routes (fake facade)', () => {
  let facade: RegistryFake
  let server: ApiServer
  let access: TestAuth

  beforeEach(async () => {
    facade = new RegistryFake()
    access = await testAuth()
    server = createApiServer({ facade, host: '127.0.0.1', port: 0, errorStatus: { ...REGISTRY_ERROR_STATUS, ...FAULT_ERROR_STATUS }, auth: access.auth })
  })
  afterEach(async () => { await server.stop() })

  const inject = async (method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number, json: any }> => {
    const res = await injectWith(server.app, access.admin)({ method, url, ...(body === undefined ? {} : { payload: body as object }) })
    return { status: res.statusCode, json: res.body === '' ? undefined : JSON.parse(res.body) }
  }

  it('lists by capability and reachability with a limit and a total, shows one agent, summarises', async () => {
    const r = await inject('GET', '/registry/agents?capability=echo&limit=1')
    assert.equal(r.status, 200)
    assert.deepEqual(r.json.agents.map((a: RegisteredAgentJson) => a.id), ['a'])
    assert.equal(r.json.total, 2)
    assert.deepEqual(facade.queries.at(-1), { limit: 1, capability: 'echo' })
    assert.deepEqual((await inject('GET', '/registry/agents?reachable=false')).json.agents.map((a: RegisteredAgentJson) => a.id), ['b'])
    assert.deepEqual(facade.queries.at(-1), { limit: 1000, reachable: false })
    assert.equal((await inject('GET', '/registry/agents/b')).json.status, 'unreachable')
    const summary = await inject('GET', '/registry')
    assert.equal(summary.json.digest, 'ab')
    assert.deepEqual(summary.json.stats, { deltasSent: 2 })
  })

  it('refuses bad queries with 400 naming the parameter, an unknown agent with 404', async () => {
    for (const [url, field] of [['/registry/agents?limit=0', 'querystring.limit'], ['/registry/agents?limit=100001', 'querystring.limit'],
      ['/registry/agents?reachable=maybe', 'querystring.reachable'], ['/registry/agents?colour=red', 'querystring.colour'],
      ['/registry/agents/bad%20id', 'params.id']] as const) {
      const r = await inject('GET', url)
      assert.equal(r.status, 400, url)
      assert.equal(r.json.error.code, 'REQUEST_INVALID')
      assert.ok(String(r.json.error.message).includes(field), `${url}: ${r.json.error.message}`)
    }
    const missing = await inject('GET', '/registry/agents/ghost')
    assert.equal(missing.status, 404)
    assert.deepEqual(missing.json.error, { code: 'REGISTRY_AGENT_NOT_FOUND', message: 'agent "ghost" is not registered', details: { agentId: 'ghost' } })
  })

  it('takes capabilities in the JSON form and as repeated ?capability= with the raw module', async () => {
    const json = await inject('POST', '/agents', { id: 'j', wasm: Buffer.from(TINY_WASM).toString('base64'), capabilities: [{ name: 'plan', schema: { type: 'object' } }] })
    assert.equal(json.status, 201, JSON.stringify(json.json))
    assert.deepEqual(facade.deployed.at(-1)?.capabilities, [{ name: 'plan', schema: { type: 'object' } }])
    const raw = await injectWith(server.app, access.admin)({ method: 'POST', url: '/agents?id=r&capability=echo@1.0&capability=plan', headers: { 'content-type': 'application/wasm' }, payload: Buffer.from(TINY_WASM) })
    assert.equal(raw.statusCode, 201, raw.body)
    assert.deepEqual(facade.deployed.at(-1)?.capabilities, [{ name: 'echo', version: '1.0' }, { name: 'plan' }])
    const one = await injectWith(server.app, access.admin)({ method: 'POST', url: '/agents?id=o&capability=solo', headers: { 'content-type': 'application/wasm' }, payload: Buffer.from(TINY_WASM) })
    assert.equal(one.statusCode, 201)
    assert.deepEqual(facade.deployed.at(-1)?.capabilities, [{ name: 'solo' }])

    const badSchema = await inject('POST', '/agents', { id: 'x', wasm: Buffer.from(TINY_WASM).toString('base64'), capabilities: [{ name: 'p', schema: { type: 7 } }] })
    assert.equal(badSchema.status, 400)
    assert.equal(badSchema.json.error.code, 'CAPABILITY_INVALID')
    assert.match(badSchema.json.error.message, /capabilities\[0\]\.schema\.type/)
    const unknownField = await inject('POST', '/agents', { id: 'x', wasm: Buffer.from(TINY_WASM).toString('base64'), capabilities: [{ title: 'p' }] })
    assert.equal(unknownField.status, 400)
    assert.equal(unknownField.json.error.code, 'REQUEST_INVALID')
    const badRef = await injectWith(server.app, access.admin)({ method: 'POST', url: '/agents?id=y&capability=echo@', headers: { 'content-type': 'application/wasm' }, payload: Buffer.from(TINY_WASM) })
    assert.equal(badRef.statusCode, 400)
    assert.match(JSON.parse(badRef.body).error.message, /querystring\.capability\[0\]\.version/)
  })

  it('drives fault injection: isolate with no body, cut named peers, heal; a bad peer id is a 400', async () => {
    assert.deepEqual((await inject('GET', '/faults')).json, { isolated: false, blocked: [] })
    assert.deepEqual((await inject('POST', '/faults/partition')).json, { isolated: true, blocked: [] })
    assert.deepEqual((await inject('POST', '/faults/partition', { peers: ['12D3KooWA'] })).json, { isolated: false, blocked: ['12D3KooWA'] })
    const bad = await inject('POST', '/faults/partition', { peers: ['nope'] })
    assert.equal(bad.status, 400)
    assert.equal(bad.json.error.code, 'FAULT_REQUEST_INVALID')
    assert.equal((await inject('POST', '/faults/heal', {})).status, 200)
    assert.deepEqual(facade.faultCalls.map(([k, r]) => [k, r.peers]), [['partition', undefined], ['partition', ['12D3KooWA']], ['partition', ['nope']], ['heal', undefined]])
  })

  it('has no /faults and no /registry routes when the facade has neither', async () => {
    const plain = createApiServer({ facade: new FakeFacade(), host: '127.0.0.1', port: 0, auth: access.auth })
    try {
      for (const url of ['/faults', '/registry', '/registry/agents']) {
        assert.equal((await injectWith(plain.app, access.admin)({ method: 'GET', url })).statusCode, 404, url)
      }
      assert.equal((await injectWith(plain.app, access.admin)({ method: 'POST', url: '/faults/partition' })).statusCode, 404)
    } finally {
      await plain.stop()
    }
  })
})
