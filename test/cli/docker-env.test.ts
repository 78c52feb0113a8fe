/**
 * The Docker image's environment: the node it starts and the CLI run inside it
 * (`docker compose exec node1 caxton agent list`) agree on where the REST API is, the
 * API refuses callers without a token, and the CLI in the container finds the node's
 * generated admin token. The compose file's cluster key: made once by its `cluster-key`
 * service, and every node started with it, so they form a cluster nobody else can reach.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/index.js'
import { run } from '../../src/cli/index.js'
import { startNode, type CaxtonNode } from '../../src/node/index.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { stat } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import { waitFor } from '../../sim/cluster/index.js'
import { createTransport } from '../../src/transport/index.js'

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

  it('compose: a one-shot service makes the cluster key once, every node starts with it; keyed nodes join, a peer without it cannot connect', async function () {
    this.timeout(60_000)
    interface Service { entrypoint?: string[], command?: string[], environment?: Record<string, string>, volumes?: string[], depends_on?: Record<string, { condition: string }> }
    const compose = parseYaml(await readFile(new URL('../../docker/compose.yml', import.meta.url), 'utf8'), { merge: true }) as { services: Record<string, Service> }
    const keygen = compose.services['cluster-key']
    const nodes = Object.entries(compose.services).filter(([, s]) => s.command?.[0] === 'node')
    assert.equal(nodes.length, 3)
    const script = keygen.entrypoint?.join(' ') ?? ''
    const m = /test -s (\S+) \|\| caxton (cluster keygen --out \S+)$/.exec(script)
    assert.ok(m !== null, `the cluster-key service makes a key only when there is none: ${script}`)
    const keyPath = m[1]
    const keyVolume = keygen.volumes?.find(v => keyPath.startsWith(v.split(':')[1] + '/'))?.split(':')[0]
    assert.ok(keyVolume !== undefined, 'the key is written to a volume')
    for (const [name, service] of nodes) {
      assert.equal(service.environment?.CAXTON_CLUSTER_KEY, keyPath, name)
      assert.ok(service.volumes?.includes(`${keyVolume}:${keyPath.slice(0, keyPath.lastIndexOf('/'))}:ro`), `${name} mounts the key read-only`)
      assert.equal(service.depends_on?.['cluster-key']?.condition, 'service_completed_successfully', name)
    }

    // The service's command, run here: the key file, 0600.
    const dockerEnv = dockerfileEnv(await readFile(new URL('../../docker/Dockerfile', import.meta.url), 'utf8'))
    const dir = await mkdtemp(join(tmpdir(), 'caxton-docker-keys-'))
    const key = join(dir, 'cluster.key')
    const args = m[2].split(' ')
    args[args.length - 1] = key
    assert.equal(await run(args, { stdout: () => {}, stderr: (t) => { assert.fail(t) }, env: dockerEnv }), 0)
    assert.equal((await stat(key)).mode & 0o777, 0o600)

    // Two nodes with the image's and the compose file's environment (free ports, temporary volumes).
    const started: CaxtonNode[] = []
    const outsider = await createTransport({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    try {
      for (const [name, service] of nodes.slice(0, 2)) {
        const env = {
          ...dockerEnv,
          ...service.environment,
          CAXTON_CLUSTER_KEY: key,
          CAXTON_DATA: await mkdtemp(join(tmpdir(), `caxton-docker-${name}-`)),
          CAXTON_LISTEN: '/ip4/127.0.0.1/tcp/0',
          CAXTON_API_PORT: '0',
          CAXTON_PRESET: 'local',
          ...(started.length > 0 ? { CAXTON_JOIN: started[0].info().multiaddrs[0] } : {})
        }
        started.push(await startNode(loadConfig({ env }), { processMetrics: false }))
      }
      const [a, b] = started
      await waitFor('the keyed nodes to see each other alive', () => a.clusterMembership.alive().length === 1 && b.clusterMembership.alive().length === 1 ? true : undefined, 15_000)
      await outsider.start()
      await assert.rejects(outsider.dial(a.libp2p.getMultiaddrs()[0], { signal: AbortSignal.timeout(2000) }))
      assert.equal(a.libp2p.getConnections(outsider.peerId).length, 0)
    } finally {
      await outsider.stop()
      for (const n of started) {
        await n.stop()
        await rm(n.config.dataDir, { recursive: true, force: true })
      }
      await rm(dir, { recursive: true, force: true })
    }
  })
})
