/**
 * The REST API over TLS (a certificate made in the test): TLS 1.3 at least; the client and
 * the CLI trust it through a CA file, and refuse it without one.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:tls'
import selfsigned from 'selfsigned'
import { createApiServer, type ApiServer } from '../../src/api/index.js'
import { ApiUnreachableError, CaxtonClient } from '../../src/cli/index.js'
import { runCli } from '../cli/harness.js'
import { testAuth, type TestAuth } from './auth-fixture.js'
import { FakeFacade } from './fake-facade.js'

describe('api: TLS', function () {
  this.timeout(30_000)
  let cert: string
  let key: string
  let dir: string
  let access: TestAuth
  let server: ApiServer
  let url: string

  before(async () => {
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }]
    })
    cert = pems.cert
    key = pems.private
    dir = await mkdtemp(join(tmpdir(), 'caxton-tls-'))
    await writeFile(join(dir, 'ca.pem'), cert)
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  beforeEach(async () => {
    access = await testAuth()
    server = createApiServer({ facade: new FakeFacade(), host: '127.0.0.1', port: 0, auth: access.auth, tls: { cert, key } })
    url = (await server.start()).url
  })
  afterEach(async () => { await server.stop() })

  it('serves https:// to a client that trusts the certificate', async () => {
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/)
    const client = new CaxtonClient({ url, token: access.admin, ca: cert })
    assert.deepEqual(await client.listAgents(), { agents: [] })
    const untrusting = new CaxtonClient({ url, token: access.admin })
    const err = await untrusting.listAgents().then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof ApiUnreachableError)
    assert.match(err.reason, /self[- ]signed/i)
  })

  it('refuses TLS 1.2', async () => {
    const port = Number(new URL(url).port)
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, ca: cert, maxVersion: 'TLSv1.2', servername: 'localhost' })
      socket.once('secureConnect', () => { resolve(`connected with ${String(socket.getProtocol())}`); socket.destroy() })
      socket.once('error', (err: NodeJS.ErrnoException) => { resolve(err.code ?? err.message) })
    })
    assert.match(outcome, /PROTOCOL_VERSION|VERSION|ALERT/i)
    const tls13 = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, ca: cert, servername: 'localhost' })
      socket.once('secureConnect', () => { resolve(String(socket.getProtocol())); socket.destroy() })
      socket.once('error', reject)
    })
    assert.equal(tls13, 'TLSv1.3')
  })

  it('the CLI takes an https:// API and a CA file (--ca or CAXTON_CA)', async () => {
    const ca = join(dir, 'ca.pem')
    const flag = await runCli(['agent', 'list', '--json', '--api', url, '--ca', ca], { env: { CAXTON_TOKEN: access.admin } })
    assert.equal(flag.code, 0, flag.stderr)
    assert.deepEqual(JSON.parse(flag.stdout), { agents: [] })
    const env = await runCli(['agent', 'list', '--json', '--api', url], { env: { CAXTON_TOKEN: access.admin, CAXTON_CA: ca } })
    assert.equal(env.code, 0, env.stderr)
    const none = await runCli(['agent', 'list', '--api', url], { env: { CAXTON_TOKEN: access.admin } })
    assert.equal(none.code, 1)
    assert.match(none.stderr, /cannot reach the Caxton API/)
    const missing = await runCli(['agent', 'list', '--api', url, '--ca', join(dir, 'nope.pem')], { env: { CAXTON_TOKEN: access.admin } })
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /cannot read the CA file/)
  })
})
