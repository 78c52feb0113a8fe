/**
 * `caxton token` and `caxton audit`, and how the CLI finds a token: `--token`,
 * `CAXTON_TOKEN`, or the admin token of a node started from the same folder.
 */
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Packr } from 'msgpackr'
import { createApiServer, type ApiServer } from '../../src/api/index.js'
import { writeApiFile } from '../../src/auth/index.js'
import { testAuth, type TestAuth } from '../api/auth-fixture.js'
import { FakeFacade } from '../api/fake-facade.js'
import { runCli } from './harness.js'

describe('cli: tokens, audit, and finding a token', () => {
  let access: TestAuth
  let server: ApiServer
  let url: string
  let dir: string

  beforeEach(async () => {
    access = await testAuth()
    server = createApiServer({ facade: new FakeFacade(), host: '127.0.0.1', port: 0, auth: access.auth })
    url = (await server.start()).url
    dir = await mkdtemp(join(tmpdir(), 'caxton-cli-access-'))
  })
  afterEach(async () => {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const admin = (args: string[]): ReturnType<typeof runCli> => runCli([...args, '--api', url], { env: { CAXTON_TOKEN: access.admin } })

  it('token create prints the token once (--json: { token, ... }); list and revoke', async () => {
    const created = await admin(['token', 'create', '--role', 'deployer', '--name', 'ci', '--ttl', '30d', '--json'])
    assert.equal(created.code, 0, created.stderr)
    const body = JSON.parse(created.stdout) as { token: string, id: string, role: string, expiresAt: number, createdAt: number }
    assert.match(body.token, /^cxt_/)
    assert.equal(body.expiresAt - body.createdAt, 30 * 86_400_000)
    assert.equal(access.auth.tokens.verify(body.token).ok, true)

    const plain = await admin(['token', 'create', '--role', 'reader', '--name', 'grafana'])
    assert.equal(plain.code, 0, plain.stderr)
    assert.match(plain.stdout, /^cxt_[0-9a-f]{12}_\S+\n$/, 'stdout is the token alone')
    assert.match(plain.stderr, /created reader token [0-9a-f]{12} \(grafana\); it is not shown again/)

    await admin(['token', 'revoke', body.id])
    const list = await admin(['token', 'list'])
    assert.equal(list.code, 0, list.stderr)
    const lines = list.stdout.trimEnd().split('\n')
    assert.match(lines[0], /^ID\s+NAME\s+ROLE\s+STATE\s+CREATED\s+EXPIRES$/)
    assert.match(lines[2], new RegExp(`^${body.id}\\s+ci\\s+deployer\\s+revoked\\s`))
    assert.match(lines[3], /\s+grafana\s+reader\s+valid\s+.*\s+-$/)
    assert.ok(!list.stdout.includes(body.token))

    const usage = await admin(['token', 'create', '--role', 'root', '--name', 'x'])
    assert.equal(usage.code, 2)
    const ttl = await admin(['token', 'create', '--role', 'reader', '--name', 'x', '--ttl', 'forever'])
    assert.equal(ttl.code, 2)
    assert.match(ttl.stderr, /duration/)
  })

  it('a token without the role: the API says 403 and the CLI exits 1', async () => {
    const reader = await access.token('reader')
    const r = await runCli(['token', 'list', '--api', url, '--token', reader])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /a reader token may not GET \/tokens \(needs an admin token\) \(FORBIDDEN\)/)
  })

  it('without --token or CAXTON_TOKEN, finds the admin token of the node started from this folder', async () => {
    const nodeDir = join(dir, '.caxton', 'n1')
    await mkdir(nodeDir, { recursive: true })
    await writeFile(join(nodeDir, 'admin.token'), access.admin + '\n')
    await writeApiFile(nodeDir, url.replace('127.0.0.1', '0.0.0.0'))
    // another node's folder, for another address: not used
    await mkdir(join(dir, '.caxton', 'n2'), { recursive: true })
    await writeFile(join(dir, '.caxton', 'n2', 'admin.token'), 'cxt_000000000000_' + 'A'.repeat(43))
    await writeApiFile(join(dir, '.caxton', 'n2'), 'http://127.0.0.1:1')

    const found = await runCli(['agent', 'list', '--json', '--api', url], { cwd: dir })
    assert.equal(found.code, 0, found.stderr)
    const viaData = await runCli(['agent', 'list', '--json', '--api', url], { env: { CAXTON_DATA: nodeDir } })
    assert.equal(viaData.code, 0, viaData.stderr)

    const elsewhere = await runCli(['agent', 'list', '--api', url], { cwd: tmpdir() })
    assert.equal(elsewhere.code, 1)
    assert.match(elsewhere.stderr, /no bearer token .*\(UNAUTHENTICATED\)\n {2}give a token with --token or CAXTON_TOKEN/s)
    const wrong = await runCli(['agent', 'list', '--api', url, '--token', 'nope'], { cwd: dir })
    assert.equal(wrong.code, 1, '--token wins over the folder')
  })

  it('audit list shows entries; audit verify exits 1 naming a changed entry', async () => {
    for (const name of ['a', 'b', 'c']) assert.equal((await admin(['token', 'create', '--role', 'reader', '--name', name])).code, 0)
    const list = await admin(['audit', 'list'])
    assert.equal(list.code, 0, list.stderr)
    const lines = list.stdout.trimEnd().split('\n')
    assert.match(lines[0], /^SEQ\s+TIME\s+ACTION\s+OUTCOME\s+STATUS\s+WHO\s+TARGET\s+FROM\s+DETAIL$/)
    assert.match(lines[1], /^1\s+\S+ \S+\s+token\.create\s+ok\s+201\s+test-admin \(admin\)\s+[0-9a-f]{12}\s+127\.0\.0\.1\s+name a, role reader$/)
    const last = await admin(['audit', 'list', '--last', '1', '--json'])
    assert.deepEqual((JSON.parse(last.stdout) as { entries: Array<{ seq: number }> }).entries.map(e => e.seq), [3])

    const ok = await admin(['audit', 'verify'])
    assert.equal(ok.code, 0, ok.stderr)
    assert.match(ok.stdout, /^audit log intact: 3 entries, head 3 [0-9a-f]{64}\n$/)

    const packr = new Packr({ useRecords: false, mapsAsObjects: true })
    const key = '0000000000000002'
    const entry = packr.unpack(await access.rows.audit.get(key) as Uint8Array) as Record<string, unknown>
    await access.rows.audit.put(key, packr.pack({ ...entry, detail: 'name b, role admin' }))
    const broken = await admin(['audit', 'verify'])
    assert.equal(broken.code, 1)
    assert.match(broken.stdout, /^audit log BROKEN at entry 2: entry 2 was changed or replaced: entry 3 carries another hash of it\n/)
  })
})
