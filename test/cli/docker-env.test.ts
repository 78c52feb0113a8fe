/**
 * The Docker image's environment: the node it starts and the CLI run inside it
 * (`docker compose exec node1 caxton agent list`) agree on where the REST API is, the
 * API refuses callers without a token, and the CLI in the container finds the node's
 * generated admin token.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/index.js'
import { run } from '../../src/cli/index.js'
import { startNode } from '../../src/node/index.js'

/** The `ENV KEY=VALUE ...` instructions of a Dockerfile (continuation lines joined). */
function dockerfileEnv (text: string): Record<string, string> {
  const env: Record<string, string> = {}
  const instructions = text.replace(/\\\n/g, ' ').split('\n')
  for (const line of instructions) {
    const m = /^ENV\s+(.*)$/.exec(line.trim())
    if (m === null) continue
    for (const pair of m[1].trim().split(/\s+/)) {
      const eq = pair.indexOf('=')
      assert.ok(eq > 0, `ENV ${pair} is KEY=VALUE`)
      env[pair.slice(0, eq)] = pair.slice(eq + 1)
    }
  }
  return env
}

describe('docker image environment', () => {
  it('has the node listen where the CLI in the same container calls', async () => {
    const env = dockerfileEnv(await readFile(new URL('../../docker/Dockerfile', import.meta.url), 'utf8'))
    assert.equal(env.CAXTON_DATA, '/data')

    const { api } = loadConfig({ env })
    assert.deepEqual(api.host, '0.0.0.0', 'the node serves every interface, so the published port reaches it')

    let called: string | undefined
    const code = await run(['agent', 'list', '--json'], {
      stdout: () => {},
      stderr: (t) => { assert.fail(t) },
      env,
      fetch: async (input) => {
        called = String(input)
        return new Response('{"agents":[]}', { headers: { 'content-type': 'application/json' } })
      }
    })
    assert.equal(code, 0)
    assert.equal(called, `http://127.0.0.1:${api.port}/agents`)
  })

  it('serves nothing but /health and /ready without a token; the CLI in the container finds the generated one', async function () {
    this.timeout(30_000)
    const env = dockerfileEnv(await readFile(new URL('../../docker/Dockerfile', import.meta.url), 'utf8'))
    const data = await mkdtemp(join(tmpdir(), 'caxton-docker-'))
    // The image's environment, on free ports and a temporary volume.
    const image = { ...env, CAXTON_DATA: data, CAXTON_LISTEN: '/ip4/127.0.0.1/tcp/0', CAXTON_API_PORT: '0', CAXTON_PRESET: 'local' }
    const node = await startNode(loadConfig({ env: image }), { processMetrics: false })
    try {
      const port = new URL(node.info().api).port
      assert.equal(node.config.api.host, '0.0.0.0')
      const base = `http://127.0.0.1:${port}`
      assert.equal((await fetch(`${base}/health`)).status, 200)
      for (const path of ['/agents', '/node', '/messages', '/metrics', '/openapi.json']) assert.equal((await fetch(base + path)).status, 401, path)
      let stdout = ''
      const code = await run(['agent', 'list', '--json'], {
        stdout: (t) => { stdout += t },
        stderr: (t) => { assert.fail(t) },
        env: { ...image, CAXTON_API: `127.0.0.1:${port}` }
      })
      assert.equal(code, 0)
      assert.deepEqual(JSON.parse(stdout), { agents: [] })
    } finally {
      await node.stop()
      await rm(data, { recursive: true, force: true })
    }
  })
})
