/**
 * `caxton cluster keygen` and `caxton node start --cluster-key`.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runNodeStart } from '../../src/cli/commands/node/start.js'
import { parseClusterKey } from '../../src/transport/index.js'
import { runCli } from './harness.js'

const tmp = (): string => mkdtempSync(join(tmpdir(), 'caxton-keygen-'))

describe('caxton cluster keygen', () => {
  it('prints a new key in the private-network format, nothing else', async () => {
    const r = await runCli(['cluster', 'keygen'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/)
    assert.notEqual((await runCli(['cluster', 'keygen'])).stdout, r.stdout)
  })

  it('--json gives the key and its fingerprint', async () => {
    const r = await runCli(['cluster', 'keygen', '--json'])
    const body = JSON.parse(r.stdout) as { key: string, fingerprint: string }
    assert.equal(parseClusterKey(body.key, 'stdout').fingerprint, body.fingerprint)
  })

  it('--out writes the key to a file of mode 0600 and never replaces one', async () => {
    const path = join(tmp(), 'cluster.key')
    const r = await runCli(['cluster', 'keygen', '--out', path])
    assert.equal(r.code, 0, r.stderr)
    const { fingerprint } = parseClusterKey(readFileSync(path, 'utf8'), path)
    assert.equal(r.stdout, `wrote a new cluster key to ${path} (mode 0600, fingerprint ${fingerprint})\n`)
    assert.equal(statSync(path).mode & 0o777, 0o600)
    const again = await runCli(['cluster', 'keygen', '--out', path])
    assert.equal(again.code, 1)
    assert.match(again.stderr, /the file exists/)
    assert.equal(parseClusterKey(readFileSync(path, 'utf8'), path).fingerprint, fingerprint, 'the key is still the first one')
  })
})

describe('caxton node start --cluster-key', function () {
  this.timeout(30_000)
  const io = { stdout: () => {}, untilStopped: async () => 'test' }

  it('refuses to start with a file that holds no key, naming it', async () => {
    const path = join(tmp(), 'cluster.key')
    writeFileSync(path, 'not a key\n')
    await assert.rejects(
      runNodeStart({ name: 'badkey', data: join(tmp(), 'data'), listen: ['/ip4/127.0.0.1/tcp/0'], api: '127.0.0.1:0', logLevel: 'silent', clusterKey: path }, io),
      (err: Error & { code?: string }) => err.code === 'CLUSTER_KEY_INVALID' && err.message.includes(path))
  })
})
