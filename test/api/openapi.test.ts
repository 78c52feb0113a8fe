/**
 * `GET /openapi.json` and `GET /docs`: every route the server registers is in the
 * document with its schema, the document describes no route that does not exist, and
 * Swagger UI's files come from the node itself.
 */
import assert from 'node:assert/strict'
import { Ajv } from 'ajv'
import type { RouteOptions } from 'fastify'
import { createApiServer, type ApiServer } from '../../src/api/index.js'
import type { FaultFacade, MembershipFacade, RegistryFacade } from '../../src/api/facade.js'
import { errorBodySchema } from '../../src/api/openapi.js'
import { CAXTON_VERSION } from '../../src/api/version.js'
import { declaredPolicy } from '../../src/api/access.js'
import { injectWith, testAuth } from './auth-fixture.js'
import { FakeFacade } from './fake-facade.js'

interface Operation {
  summary?: string
  parameters?: Array<{ in: string, name: string, required?: boolean }>
  requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown>, required?: string[] } }> }
  responses: Record<string, unknown>
}

interface OpenApiDocument {
  openapi: string
  info: { title: string, version: string }
  paths: Record<string, Record<string, Operation>>
}

interface RouteSchema {
  summary?: string
  hide?: boolean
  params?: { properties: Record<string, unknown> }
  querystring?: { properties: Record<string, unknown> }
  body?: { content?: Record<string, unknown>, properties?: Record<string, unknown>, required?: string[] }
  response?: Record<string, unknown>
}

const unused = (): never => { throw new Error('not called by this test') }

/** A facade with every optional part, so that every optional route is registered. */
class FullFacade extends FakeFacade {
  readonly registry: RegistryFacade = { list: unused, get: unused, summary: unused }
  readonly faults: FaultFacade = { state: unused, partition: unused, heal: unused }
  readonly membership: MembershipFacade = { list: unused }
}

/**
 * Every `METHOD /path` the router holds, read from `printRoutes()` (one line per tree
 * node: 4 characters of indent per level, `├── ` or `└── `, the path piece, the methods),
 * which lists routes however and whenever they were added.
 */
function routerTable (printed: string): string[] {
  const pieces: string[] = []
  const out: string[] = []
  for (const line of printed.split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line)
    if (m === null) continue
    const depth = m[1].length / 4
    pieces.length = depth
    pieces.push(m[2])
    for (const method of (m[3] ?? '').split(', ').filter(x => x !== '')) out.push(`${method} ${pieces.join('')}`)
  }
  return out
}

/** `/agents/:id` → `/agents/{id}` (OpenAPI's path template). */
const templated = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')

describe('api: OpenAPI document and docs', () => {
  let server: ApiServer
  let routes: RouteOptions[]
  let doc: OpenApiDocument
  let inject: ReturnType<typeof injectWith>

  beforeEach(async () => {
    const { auth, admin } = await testAuth()
    server = createApiServer({ facade: new FullFacade(), host: '127.0.0.1', port: 0, auth })
    inject = injectWith(server.app, admin)
    // Routes are added when the app loads (in a plugin), so a hook added now sees them all.
    routes = []
    server.app.addHook('onRoute', (route) => { routes.push(route) })
    const res = await inject({ method: 'GET', url: '/openapi.json' })
    assert.equal(res.statusCode, 200)
    assert.match(String(res.headers['content-type']), /^application\/json/)
    doc = res.json<OpenApiDocument>()
  })

  afterEach(async () => { await server.stop() })

  /** The API's routes: without fastify's implicit HEAD routes and the documentation's own. */
  const apiRoutes = (): Array<{ method: string, url: string, schema: RouteSchema }> => routes
    .flatMap(r => (Array.isArray(r.method) ? r.method : [r.method]).map(method => ({ method, url: r.url, schema: (r.schema ?? {}) as RouteSchema })))
    .filter(r => r.method !== 'HEAD' && r.schema.hide !== true)

  it('names the role of every route the router holds (the access policy has no gaps)', () => {
    const held = routerTable(server.app.printRoutes({ commonPrefix: false }))
    assert.ok(held.length >= 30, held.join('\n'))
    for (const route of held) {
      const [method, url] = route.split(' ')
      assert.ok(declaredPolicy(method, url) !== undefined, `${route} has a role in ROUTE_POLICY (src/api/access.ts)`)
    }
  })

  it('is OpenAPI 3.1 with this build\'s version', () => {
    assert.equal(doc.openapi, '3.1.0')
    assert.equal(doc.info.version, CAXTON_VERSION)
  })

  it('has every route the router holds', () => {
    const held = routerTable(server.app.printRoutes({ commonPrefix: false }))
      .filter(r => !r.startsWith('HEAD ') && r !== 'GET /openapi.json' && !/^GET \/docs(\/|$)/.test(r))
    assert.ok(held.length >= 15, held.join('\n'))
    for (const route of held) {
      const [method, url] = route.split(' ')
      assert.ok(doc.paths[templated(url)]?.[method.toLowerCase()] !== undefined, `${route} is in the document`)
    }
  })

  it('has every registered route, with its summary, parameters, body and responses', () => {
    const found = apiRoutes()
    // the optional routes are there too, so the check below covers them
    for (const expected of ['POST /agents', 'DELETE /agents/:id', 'POST /agents/:id/messages', 'GET /registry/agents/:id', 'POST /faults/heal', 'GET /cluster/members']) {
      assert.ok(found.some(r => `${r.method} ${r.url}` === expected), `${expected} is registered`)
    }
    for (const { method, url, schema } of found) {
      const where = `${method} ${url}`
      const op = doc.paths[templated(url)]?.[method.toLowerCase()]
      assert.ok(op !== undefined, `${where} is in the document`)
      assert.equal(op.summary, schema.summary, `${where}: summary`)
      const params = (place: string): string[] => (op.parameters ?? []).filter(p => p.in === place).map(p => p.name).sort()
      assert.deepEqual(params('path'), Object.keys(schema.params?.properties ?? {}).sort(), `${where}: path parameters`)
      assert.deepEqual(params('query'), Object.keys(schema.querystring?.properties ?? {}).sort(), `${where}: query parameters`)
      if (schema.body === undefined) {
        assert.equal(op.requestBody, undefined, `${where}: no body`)
      } else {
        const content = op.requestBody?.content ?? {}
        const media = schema.body.content ?? { 'application/json': { schema: schema.body } }
        assert.deepEqual(Object.keys(content).sort(), Object.keys(media).sort(), `${where}: body media types`)
        for (const [type, { schema: body }] of Object.entries(media as Record<string, { schema: RouteSchema['body'] }>)) {
          assert.deepEqual(Object.keys(content[type].schema.properties ?? {}).sort(), Object.keys(body?.properties ?? {}).sort(), `${where}: ${type} fields`)
          assert.deepEqual(content[type].schema.required, body?.required, `${where}: ${type} required fields`)
        }
      }
      assert.deepEqual(Object.keys(op.responses).sort(), [...Object.keys(schema.response ?? {}), 'default'].sort(), `${where}: responses`)
    }
  })

  it('documents /metrics as text, the way it answers', async () => {
    const res = await inject({ method: 'GET', url: '/metrics' })
    assert.match(String(res.headers['content-type']), /^text\/plain/)
    const ok = doc.paths['/metrics'].get.responses['200'] as { content: Record<string, unknown> }
    assert.deepEqual(Object.keys(ok.content), ['text/plain'])
  })

  it('describes no operation the server does not have', () => {
    const registered = new Set(apiRoutes().map(r => `${r.method.toLowerCase()} ${templated(r.url)}`))
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) assert.ok(registered.has(`${method} ${path}`), `${method} ${path} is a route`)
    }
  })

  it('documents the error body the server sends', async () => {
    const res = await inject({ method: 'GET', url: '/agents/ghost' })
    assert.equal(res.statusCode, 404)
    const validate = new Ajv().compile(errorBodySchema)
    assert.ok(validate(res.json()), JSON.stringify(validate.errors))
    assert.deepEqual(doc.paths['/agents/{id}'].get.responses.default, {
      description: 'a failure',
      content: { 'application/json': { schema: { description: 'a failure', ...errorBodySchema } } }
    })
  })

  it('serves Swagger UI at /docs from its own files, nothing fetched from elsewhere', async () => {
    const page = await inject({ method: 'GET', url: '/docs' })
    assert.equal(page.statusCode, 200)
    assert.match(String(page.headers['content-type']), /^text\/html/)
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map(m => m[1])
    assert.ok(assets.some(a => a.endsWith('swagger-ui-bundle.js')), page.body)
    for (const asset of assets) {
      assert.ok(asset.startsWith('/docs/'), `${asset} is served by the node`)
      const res = await inject({ method: 'GET', url: asset })
      assert.equal(res.statusCode, 200, asset)
      assert.ok(res.rawPayload.byteLength > 0, asset)
    }
    const json = await inject({ method: 'GET', url: '/docs/json' })
    assert.deepEqual(json.json(), doc, 'the UI reads the same document')
  })
})
