/**
 * `caxton node start` refusing to start: an address another process holds is reported as
 * ADDRESS_IN_USE naming the address and the flag that moves it, and nothing is left
 * running. And what a running node leaves on disk: private files only.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runNodeStart } from '../../src/cli/commands/node/start.js'

async function holdPort (): Promise<{ server: Server, port: number }> {
  const server = createServer()
  await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
  return { server, port: (server.address() as { port: number }).port }
}

describe('caxton node start: addresses in use', function () {
  this.timeout(30_000)
  const io = { stdout: () => {}, untilStopped: async () => await new Promise<string>(() => {}) }

  it('names the libp2p listen address in use and --listen', async () => {
    const { server, port } = await holdPort()
    try {
      const listen = `/ip4/127.0.0.1/tcp/${port}`
      await assert.rejects(
        runNodeStart({ name: 'busy-p2p', data: mkdtempSync(join(tmpdir(), 'caxton-busy-')), listen: [listen], api: '127.0.0.1:0', logLevel: 'silent' }, io),
        (err: Error & { code?: string }) => err.code === 'ADDRESS_IN_USE' && err.message.includes(listen) && err.message.includes('--listen'))
    } finally {
      server.close()
    }
  })

  it('names the REST API address in use and --api', async () => {
    const { server, port } = await holdPort()
    try {
      await assert.rejects(
        runNodeStart({ name: 'busy-api', data: mkdtempSync(join(tmpdir(), 'caxton-busy-')), listen: ['/ip4/127.0.0.1/tcp/0'], api: `127.0.0.1:${port}`, logLevel: 'silent' }, io),
        (err: Error & { code?: string }) => err.code === 'ADDRESS_IN_USE' && err.message.includes(`127.0.0.1:${port}`) && err.message.includes('--api'))
    } finally {
      server.close()
    }
  })
})

describe('caxton node start: files on disk', function () {
  this.timeout(30_000)

  it('keeps the data folder 0700 and every file in it, the node key\'s included, 0600; the umask is restored after', async () => {
    const data = join(mkdtempSync(join(tmpdir(), 'caxton-files-')), 'n1')
    const umask = process.umask(0o022)
    const modes: Record<string, number> = {}
    try {
      await runNodeStart({ name: 'files', data, listen: ['/ip4/127.0.0.1/tcp/0'], api: '127.0.0.1:0', logLevel: 'silent' }, {
        stdout: () => {},
        untilStopped: async () => {
          modes['.'] = statSync(data).mode & 0o777
          for (const f of readdirSync(data)) modes[f] = statSync(join(data, f)).mode & 0o777
          return 'test'
        }
      })
      assert.equal(process.umask(0o022), 0o022, 'restored')
    } finally {
      process.umask(umask)
    }
    assert.equal(modes['.'], 0o700)
    const files = Object.entries(modes).filter(([f]) => f !== '.')
    assert.ok(files.some(([f]) => /\.log$/.test(f)), `LevelDB's files: ${Object.keys(modes).join(', ')}`)
    for (const [f, mode] of files) assert.equal(mode, 0o600, f)
  })
})
