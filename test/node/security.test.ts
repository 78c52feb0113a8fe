/**
 * A node's REST API behind its trust boundary, in-process: the bootstrap admin token in
 * the data folder, the deploy quota, and an audit log whose LevelDB rows are tampered with
 * while the node is down.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Packr } from 'msgpackr'
import { loadConfig, type ConfigInput } from '../../src/config/index.js'
import { startNode, type CaxtonNode } from '../../src/node/index.js'
import { openStorage } from '../../src/storage/index.js'
import { ROOT } from '../../sim/cluster/index.js'
import { adminTokenOf, fetchWith } from '../api/auth-fixture.js'
import { runCli } from '../cli/harness.js'

const ECHO = readFileSync(join(ROOT, 'dist', 'agents', 'echo.wasm'))

async function start (dataDir: string, extra: ConfigInput = {}): Promise<CaxtonNode> {
  const config = loadConfig({ env: {}, flags: { preset: 'local', name: 'guarded', dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], api: { port: 0 }, ...extra } })
  return await startNode(config, { processMetrics: false })
}

describe('node: REST API trust boundary (in-process)', function () {
  this.timeout(60_000)
  let dataDir: string
  let node: CaxtonNode | undefined

  beforeEach(() => { dataDir = mkdtempSync(join(tmpdir(), 'caxton-guarded-')) })
  afterEach(async () => {
    await node?.stop()
    node = undefined
    await rm(dataDir, { recursive: true, force: true })
  })

  it('writes an admin token to <data>/admin.token (0600) on first start, keeps it, and replaces it when it is gone or revoked', async () => {
    node = await start(dataDir)
    const file = join(dataDir, 'admin.token')
    assert.equal(statSync(file).mode & 0o777, 0o600)
    const token = await adminTokenOf(dataDir)
    assert.deepEqual(JSON.parse(readFileSync(join(dataDir, 'api.json'), 'utf8')), { url: node.info().api })
    const api = node.info().api
    assert.equal((await fetch(`${api}/agents`)).status, 401)
    assert.equal((await fetchWith(token)(`${api}/agents`)).status, 200)
    await node.stop()

    node = await start(dataDir)
    assert.equal(await adminTokenOf(dataDir), token, 'a restart keeps it')
    const id = node.tokens.verify(token)
    assert.ok(id.ok)
    await node.tokens.revoke(id.principal.id)
    await node.stop()

    node = await start(dataDir)
    const replaced = await adminTokenOf(dataDir)
    assert.notEqual(replaced, token, 'a revoked bootstrap token is replaced at the next start')
    assert.equal((await fetchWith(replaced)(`${node.info().api}/tokens`)).status, 200)
    assert.equal((await fetchWith(token)(`${node.info().api}/agents`)).status, 401)
    assert.equal(statSync(file).mode & 0o777, 0o600)
  })

  it('refuses deploys over the quota with a clear error', async () => {
    node = await start(dataDir, { quota: { maxAgents: 2, maxTotalMemoryPages: 1000, maxMemoryPages: 512, maxMailboxCapacity: 10_000, maxFuelPerMessage: 100_000_000, maxHandlerTimeoutMs: 60_000 } })
    const call = fetchWith(await adminTokenOf(dataDir))
    const deploy = async (query: string): Promise<{ status: number, body: any }> => {
      const res = await call(`${node!.info().api}/agents?${query}`, { method: 'POST', headers: { 'content-type': 'application/wasm' }, body: ECHO })
      return { status: res.status, body: await res.json() }
    }
    const huge = await deploy('id=big&maxMemoryPages=65536')
    assert.equal(huge.status, 400)
    assert.equal(huge.body.error.code, 'LIMIT_TOO_HIGH')
    assert.match(huge.body.error.message, /limits\.maxMemoryPages = 65536 is above this node's maximum of 512 \(config quota\.maxMemoryPages\)/)
    const slow = await deploy('id=slow&handlerTimeoutMs=600000')
    assert.deepEqual([slow.status, slow.body.error.details], [400, { field: 'handlerTimeoutMs', asked: 600_000, max: 60_000 }])
    assert.equal((await deploy('id=a&maxMemoryPages=512')).status, 201)
    const memory = await deploy('id=b&maxMemoryPages=512')
    assert.deepEqual([memory.status, memory.body.error.code, memory.body.error.details.quota], [409, 'AGENT_QUOTA_EXCEEDED', 'memoryPages'])
    assert.equal((await deploy('id=b&maxMemoryPages=256')).status, 201)
    const count = await deploy('id=c&maxMemoryPages=1')
    assert.deepEqual([count.status, count.body.error.details.quota], [409, 'agents'])
    assert.deepEqual(node.listAgents().map(a => a.id).sort(), ['a', 'b'])
  })

  it('audit verify names the entry changed in LevelDB while the node was down', async () => {
    node = await start(dataDir)
    const token = await adminTokenOf(dataDir)
    const call = fetchWith(token)
    const api = node.info().api
    assert.equal((await call(`${api}/agents?id=echo`, { method: 'POST', headers: { 'content-type': 'application/wasm' }, body: ECHO })).status, 201)
    assert.equal((await call(`${api}/agents/echo`, { method: 'DELETE' })).status, 204)
    assert.equal((await fetch(`${api}/agents`)).status, 401)
    assert.equal((await call(`${api}/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ci', role: 'deployer' }) })).status, 201)
    await node.stop()
    node = undefined

    // Someone with the database rewrites who removed the agent.
    const storage = await openStorage(dataDir)
    const audit = storage.sublevel('audit')
    const packr = new Packr({ useRecords: false, mapsAsObjects: true })
    const key = '0000000000000002'
    const entry = packr.unpack(await audit.get(key) as Uint8Array) as { action: string, actor: { name: string } }
    assert.equal(entry.action, 'agent.remove')
    await audit.put(key, packr.pack({ ...entry, actor: { ...entry.actor, name: 'someone-else' } }))
    await storage.close()

    node = await start(dataDir)
    const verified = await (await call(`${node.info().api}/audit/verify`)).json() as { ok: boolean, broken: { seq: number, reason: string } }
    assert.deepEqual(verified.broken, { seq: 2, reason: 'entry 2 was changed or replaced: entry 3 carries another hash of it' })
    assert.equal(verified.ok, false)
    const cli = await runCli(['audit', 'verify', '--api', node.info().api], { env: { CAXTON_DATA: dataDir } })
    assert.equal(cli.code, 1)
    assert.match(cli.stdout, /BROKEN at entry 2/)
  })
})
