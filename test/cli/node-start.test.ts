/**
 * `caxton node start` refusing to start: an address another process holds is reported as
 * ADDRESS_IN_USE naming the address and the flag that moves it, and nothing is left
 * running.
 */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
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
