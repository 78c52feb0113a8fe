/**
 * `GET /cluster/members` and `caxton cluster members` against a real API server over a
 * fake facade: the JSON shape, the `state` filter and its validation, the table and
 * `--json` output, and no route at all on a node without membership.
 */
import assert from 'node:assert/strict'
import { createApiServer, type ApiServer } from '../../src/api/index.js'
import type { MemberListJson, MembershipFacade } from '../../src/api/facade.js'
import { run, type CliIo } from '../../src/cli/index.js'
import { injectWith, testAuth, type TestAuth } from '../api/auth-fixture.js'
import { FakeFacade } from '../api/fake-facade.js'

const NOW = 1_700_000_000_000
const A = '12D3KooWSelfSelfSelfSelfSelfSelfSelfSelfSelfSelfSelf'
const B = '12D3KooWBobBobBobBobBobBobBobBobBobBobBobBobBobBobBo'
const C = '12D3KooWCarolCarolCarolCarolCarolCarolCarolCarolCaro'

const LIST: MemberListJson = {
  self: A,
  incarnation: 2,
  healthScore: 1,
  counts: { alive: 2, suspect: 0, dead: 1, left: 0 },
  members: [
    { id: A, state: 'alive', incarnation: 2, addrs: [`/ip4/127.0.0.1/tcp/7400/p2p/${A}`], self: true, changedAt: NOW - 3_600_000 },
    { id: B, state: 'alive', incarnation: 0, addrs: [`/ip4/127.0.0.1/tcp/7401/p2p/${B}`, `/ip4/127.0.0.2/tcp/7401/p2p/${B}`], self: false, changedAt: NOW - 120_000 },
    { id: C, state: 'dead', incarnation: 5, addrs: [], self: false, changedAt: NOW - 7000 }
  ]
}

class MembersFacade extends FakeFacade {
  readonly queries: Array<{ state?: string }> = []
  readonly membership: MembershipFacade = {
    list: (query) => {
      this.queries.push(query)
      return { ...LIST, members: LIST.members.filter(m => query.state === undefined || m.state === query.state) }
    }
  }
}

describe('cluster members: REST API and CLI', () => {
  let facade: MembersFacade
  let server: ApiServer
  let url: string
  let access: TestAuth

  beforeEach(async () => {
    facade = new MembersFacade()
    access = await testAuth()
    server = createApiServer({ facade, host: '127.0.0.1', port: 0, auth: access.auth })
    url = (await server.start()).url
  })
  afterEach(async () => { await server.stop() })

  async function cli (args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
    let stdout = ''
    let stderr = ''
    const io: CliIo = { stdout: t => { stdout += t }, stderr: t => { stderr += t }, env: { CAXTON_TOKEN: access.admin }, now: () => NOW }
    const code = await run([...args, '--api', url], io)
    return { code, stdout, stderr }
  }

  it('GET /cluster/members answers the list, filtered by ?state', async () => {
    const all = await injectWith(server.app, access.admin)({ method: 'GET', url: '/cluster/members' })
    assert.equal(all.statusCode, 200)
    assert.deepEqual(all.json(), LIST)
    const dead = await injectWith(server.app, access.admin)({ method: 'GET', url: '/cluster/members?state=dead' })
    assert.deepEqual((dead.json() as MemberListJson).members.map(m => m.id), [C])
    assert.deepEqual(facade.queries, [{}, { state: 'dead' }])
    const bad = await injectWith(server.app, access.admin)({ method: 'GET', url: '/cluster/members?state=zombie' })
    assert.equal(bad.statusCode, 400)
    assert.match(bad.body, /state/)
    assert.equal(facade.queries.length, 2, 'a bad query never reaches the node')
  })

  it('has no /cluster/members on a node without membership', async () => {
    const bare = createApiServer({ facade: new FakeFacade(), host: '127.0.0.1', port: 0, auth: access.auth })
    const res = await injectWith(bare.app, access.admin)({ method: 'GET', url: '/cluster/members' })
    assert.equal(res.statusCode, 404)
    await bare.stop()
  })

  it('caxton cluster members prints a table, or the API\'s JSON with --json', async () => {
    const table = await cli(['cluster', 'members'])
    assert.equal(table.code, 0, table.stderr)
    const lines = table.stdout.trimEnd().split('\n')
    assert.match(lines[0], /^3 members: 2 alive, 0 suspect, 1 dead, 0 left · incarnation 2 · health score 1$/)
    assert.match(lines[1], /^MEMBER\s+STATE\s+INCARNATION\s+CHANGED\s+ADDRESS$/)
    assert.match(lines[2], new RegExp(`^${A} \\(this node\\)\\s+alive\\s+2\\s+1h ago\\s+/ip4/127.0.0.1/tcp/7400/p2p/${A}$`))
    assert.match(lines[3], new RegExp(`^${B}\\s+alive\\s+0\\s+2m ago\\s+/ip4/127.0.0.1/tcp/7401/p2p/${B} \\(\\+1\\)$`))
    assert.match(lines[4], new RegExp(`^${C}\\s+dead\\s+5\\s+7s ago\\s+-$`))

    const json = await cli(['cluster', 'members', '--json', '--state', 'alive'])
    assert.equal(json.code, 0, json.stderr)
    assert.deepEqual((JSON.parse(json.stdout) as MemberListJson).members.map(m => m.id), [A, B])

    const none = await cli(['cluster', 'members', '--state', 'suspect'])
    assert.match(none.stdout, /no member is suspect/)

    const usage = await cli(['cluster', 'members', '--state', 'zombie'])
    assert.equal(usage.code, 2)
    assert.match(usage.stderr, /zombie/)
  })
})
