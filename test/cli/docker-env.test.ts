/**
 * The Docker image's environment: the node it starts and the CLI run inside it
 * (`docker compose exec node1 caxton agent list`) agree on where the REST API is.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { loadConfig } from '../../src/config/index.js'
import { run } from '../../src/cli/index.js'

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
})
