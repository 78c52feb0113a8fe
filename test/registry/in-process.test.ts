/**
 * The registry on real nodes in one process (libp2p on loopback, LevelDB in temp
 * folders): deploy with capabilities on one node and the others learn it by gossip; the
 * REST API and the CLI answer discovery; the router resolves through the registry; a
 * removal reaches everyone; a partition (fault injection) heals into one registry; a
 * restart keeps the replica.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RegisteredAgentJson } from '../../src/api/types.js'
import { run, type CliIo } from '../../src/cli/index.js'
import { loadConfig, type ConfigInput } from '../../src/config/index.js'
import { startNode, type CaxtonNode, type StartNodeOptions } from '../../src/node/index.js'
import { ROOT, waitFor } from '../../sim/cluster/index.js'
import { adminTokenOf, fetchWith } from '../api/auth-fixture.js'

const ECHO = readFileSync(join(ROOT, 'dist', 'agents', 'echo.wasm'))
const FAST = { antiEntropyIntervalMs: 500, maintenanceIntervalMs: 1000, connectSyncFallbackMs: 200 }

async function start (name: string, options: { dataDir?: string, join?: string[], node?: StartNodeOptions, config?: ConfigInput } = {}): Promise<CaxtonNode> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), `caxton-reg-${name}-`))
  const config = loadConfig({
    env: {},
    flags: { preset: 'local', name, dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], api: { port: 0 }, join: options.join ?? [], ...options.config }
  })
  const node = await startNode(config, { processMetrics: false, registryTiming: FAST, ...options.node })
  dataDirOf.set(node.info().api, dataDir)
  return node
}

/** API URL → data folder of the nodes started, for the CLI to find each node's admin token (CAXTON_DATA). */
const dataDirOf = new Map<string, string>()

/** `fetch(node's API + path)` with the node's admin token. */
async function fetchFrom (n: CaxtonNode, path: string, init?: RequestInit): Promise<Response> {
  return await fetchWith(await adminTokenOf(n.config.dataDir))(n.info().api + path, init)
}

async function cli (args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  let stdout = ''
  let stderr = ''
  const io: CliIo = { stdout: t => { stdout += t }, stderr: t => { stderr += t }, env: { CAXTON_DATA: dataDirOf.get(args[args.indexOf('--api') + 1]) } }
  const code = await run(args, io)
  return { code, stdout, stderr }
}

const digest = (n: CaxtonNode): string => n.clusterRegistry.summary().digest
const ids = (n: CaxtonNode): string[] => n.clusterRegistry.list().map(a => a.agentId)

describe('registry on in-process nodes', function () {
  this.timeout(60_000)
  const nodes: CaxtonNode[] = []
  afterEach(async () => { await Promise.all(nodes.splice(0).map(async n => { await n.stop() })) })

  it('spreads a deployment with its capabilities, answers discovery over REST and the CLI, routes through it, and spreads the removal', async () => {
    // no tombstone collection here: the removal's tombstone is asserted below
    const node = { registryTiming: { ...FAST, maintenanceIntervalMs: 0 } }
    const a = await start('a', { node })
    nodes.push(a)
    const b = await start('b', { join: [a.info().multiaddrs[0]], node })
    nodes.push(b)
    const c = await start('c', { join: [a.info().multiaddrs[0]], node })
    nodes.push(c)

    const info = await b.deployAgent({
      id: 'echo',
      wasm: ECHO,
      capabilities: [{ name: 'echo', version: '1.0.0', description: 'says it back' }, { name: 'text', schema: { type: 'string' } }]
    })
    assert.deepEqual(info.capabilities.map(x => x.name), ['echo', 'text'])
    for (const n of [a, c]) await waitFor(`${n.config.name} to learn echo`, () => n.clusterRegistry.get('echo'))
    assert.equal(a.clusterRegistry.get('echo')?.node, b.info().peerId)
    assert.equal(a.locator.lookup('echo'), b.info().peerId, 'the router resolves through the registry')

    // REST: discovery by capability, one agent, the summary
    const found = await (await fetchFrom(c, '/registry/agents?capability=text')).json() as { agents: RegisteredAgentJson[], total: number }
    assert.deepEqual(found.agents.map(x => [x.id, x.node, x.status, x.local]), [['echo', b.info().peerId, 'running', false]])
    assert.deepEqual(found.agents[0].capabilities[1], { name: 'text', schema: { type: 'string' } })
    const one = await fetchFrom(b, '/registry/agents/echo')
    assert.equal(one.status, 200)
    assert.equal(((await one.json()) as RegisteredAgentJson).local, true)
    const missing = await fetchFrom(a, '/registry/agents/ghost')
    assert.equal(missing.status, 404)
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'REGISTRY_AGENT_NOT_FOUND')
    const bad = await fetchFrom(a, `/agents?id=x&capability=ok&capability=${encodeURIComponent('bad\u0001')}`, {
      method: 'POST', headers: { 'content-type': 'application/wasm' }, body: ECHO
    })
    assert.equal(bad.status, 400)
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'CAPABILITY_INVALID')

    // CLI
    const find = await cli(['registry', 'find', 'echo', '--api', a.info().api])
    assert.equal(find.code, 0, find.stderr)
    assert.match(find.stdout, /^ID\s+NODE\s+STATUS\s+CAPABILITIES\s+UPDATED\n/)
    assert.match(find.stdout, /echo\s+12D3KooW\S+…\S+\s+running\s+echo@1\.0\.0, text\s+\d+s ago/)
    const show = await cli(['registry', 'show', 'echo', '--api', b.info().api, '--json'])
    assert.equal(JSON.parse(show.stdout).node, b.info().peerId)
    const none = await cli(['registry', 'find', 'nothing', '--api', a.info().api])
    assert.equal(none.stdout, 'no agent offers "nothing"\n')

    // deploy through the CLI with --capability and --capabilities
    const dir = mkdtempSync(join(tmpdir(), 'caxton-reg-cli-'))
    await writeFile(join(dir, 'echo.wasm'), ECHO)
    await writeFile(join(dir, 'caps.json'), JSON.stringify([{ name: 'greet', description: 'hello', schema: { type: 'object' } }]))
    const dep = await cli(['agent', 'deploy', join(dir, 'echo.wasm'), '--id', 'greeter', '--capability', 'echo@2', '--capabilities', join(dir, 'caps.json'), '--api', c.info().api])
    assert.equal(dep.code, 0, dep.stderr)
    assert.match(dep.stdout, /offering greet, echo@2/)
    const badCap = await cli(['agent', 'deploy', join(dir, 'echo.wasm'), '--id', 'x', '--capability', 'echo@', '--api', c.info().api])
    assert.equal(badCap.code, 2)
    await waitFor('a to learn greeter', () => a.clusterRegistry.list({ capability: 'echo' }).length === 2 ? true : undefined)

    // a message from a reaches echo on b through the registry's answer
    const out = await a.sendMessage({ to: 'echo', draft: { performative: 'REQUEST', content: 'via the registry' }, waitMs: 5000 })
    assert.equal(out.reply?.content, 'via the registry')

    await b.removeAgent('echo')
    for (const n of [a, c]) await waitFor(`${n.config.name} to learn the removal`, () => n.clusterRegistry.get('echo') === undefined ? true : undefined)
    assert.deepEqual(a.clusterRegistry.lookup('echo'), { removedBy: b.info().peerId })
    await assert.rejects(a.sendMessage({ to: 'echo', draft: { performative: 'REQUEST', content: 'x' } }), { code: 'AGENT_NOT_FOUND' })
    await waitFor('one registry on all three', () => new Set([a, b, c].map(digest)).size === 1 ? true : undefined)
  })

  it('heals a partition into one registry where the removed agent stays removed, and keeps the replica across a restart', async () => {
    const a = await start('pa')
    nodes.push(a)
    const b = await start('pb', { join: [a.info().multiaddrs[0]], node: { faults: true } })
    nodes.push(b)
    await a.deployAgent({ id: 'doomed', wasm: ECHO, capabilities: [{ name: 'x' }] })
    await waitFor('b to learn doomed', () => b.clusterRegistry.get('doomed'))

    assert.ok(b.faults !== undefined)
    await b.faults.partition({})
    await waitFor('a to see b gone', () => a.clusterRegistry.isHealthy && a.peers().length === 0 ? true : undefined)
    await b.deployAgent({ id: 'from-b', wasm: ECHO })
    await a.deployAgent({ id: 'from-a', wasm: ECHO })
    await a.removeAgent('doomed')
    assert.equal(b.clusterRegistry.get('from-a'), undefined, 'nothing crossed the partition')
    assert.ok(b.clusterRegistry.get('doomed') !== undefined)

    await b.faults.heal({})
    await waitFor('one registry after the heal', () => digest(a) === digest(b) ? true : undefined, 10_000, 50)
    for (const n of [a, b]) assert.deepEqual(ids(n), ['from-a', 'from-b'], n.config.name)

    const dataDir = b.config.dataDir
    await b.stop()
    nodes.splice(nodes.indexOf(b), 1)
    // a stops too: the restarted replica must show what it read from disk, not what an
    // anti-entropy exchange with a (which may have collected doomed's tombstone by then) gave it
    await a.stop()
    nodes.splice(nodes.indexOf(a), 1)
    // after stop: exchanges and collections still running at the heal are over and written
    const before = digest(b)
    const again = await start('pb', { dataDir })
    nodes.push(again)
    assert.equal(digest(again), before, 'the replica came back from disk as it was')
    assert.deepEqual(ids(again), ['from-a', 'from-b'])
  })

  it('refuses fault injection on a non-loopback API', async () => {
    await assert.rejects(start('unsafe', { config: { api: { host: '0.0.0.0', port: 0 } }, node: { faults: true } }), { code: 'FAULTS_REFUSED' })
  })
})
