/**
 * The registry across three real node processes (the built CLI, `sim/cluster`): deploy on
 * one and the others learn it; cut one node off with fault injection, deploy and remove
 * on both sides, heal: every node ends with the same registry and the removed agent stays
 * removed; restart a node: its registry is intact.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, apiFetch, startNodeProcess, waitFor, type NodeProcess } from '../../sim/cluster/index.js'

const ECHO = readFileSync(join(ROOT, 'dist', 'agents', 'echo.wasm'))

/**
 * Bound on waits that go through SWIM's suspicion (a partition, a node marked unreachable),
 * ms: a few seconds on an idle machine; a loaded 2-core CI machine has taken over 10.
 */
const MEMBERSHIP_WAIT_MS = 30_000

interface Summary { digest: string, agents: number, tombstones: number, unreachableNodes: string[] }
interface Listed { agents: Array<{ id: string, node: string, status: string, capabilities: Array<{ name: string, version?: string }> }>, total: number }

async function get<T> (n: NodeProcess, path: string): Promise<{ status: number, body: T }> {
  const res = await apiFetch(n, path)
  return { status: res.status, body: await res.json() as T }
}

async function post (n: NodeProcess, path: string, body: unknown): Promise<number> {
  const res = await apiFetch(n, path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  await res.arrayBuffer()
  return res.status
}

async function deploy (n: NodeProcess, id: string, capability: string): Promise<void> {
  const res = await apiFetch(n, `/agents?id=${id}&capability=${encodeURIComponent(capability)}`, {
    method: 'POST', headers: { 'content-type': 'application/wasm' }, body: ECHO
  })
  assert.equal(res.status, 201, await res.text())
}

async function remove (n: NodeProcess, id: string): Promise<void> {
  const res = await apiFetch(n, `/agents/${id}`, { method: 'DELETE' })
  assert.equal(res.status, 204, await res.text())
}

const agentIds = async (n: NodeProcess): Promise<string[]> => (await get<Listed>(n, '/registry/agents')).body.agents.map(a => a.id)
const digestOf = async (n: NodeProcess): Promise<string> => (await get<Summary>(n, '/registry')).body.digest
const peersOf = async (n: NodeProcess): Promise<string[]> => (await get<{ peers: Array<{ peerId: string }> }>(n, '/cluster/peers')).body.peers.map(p => p.peerId)

describe('registry across three node processes, a partition and a restart', function () {
  this.timeout(120_000)
  const nodes: NodeProcess[] = []
  after(async () => { await Promise.all(nodes.map(async n => await n.stop('SIGKILL'))) })

  it('converges after a healed partition with removals on both sides, and survives a restart', async () => {
    const args = ['--enable-faults']
    const n1 = await startNodeProcess({ name: 'r1', args })
    nodes.push(n1)
    const n2 = await startNodeProcess({ name: 'r2', join: [n1.multiaddrs[0]], args })
    nodes.push(n2)
    const n3 = await startNodeProcess({ name: 'r3', join: [n1.multiaddrs[0]], args })
    nodes.push(n3)
    await waitFor('n1 to connect to n2 and n3', async () => {
      const p = await peersOf(n1)
      return p.includes(n2.peerId) && p.includes(n3.peerId) ? true : undefined
    })

    // deploy on one node: the others learn it
    await deploy(n1, 'echo', 'echo@1.0.0')
    await deploy(n1, 'doomed', 'temp')
    await deploy(n3, 'local3', 'three')
    for (const n of [n1, n2, n3]) {
      await waitFor(`${n.name} to learn echo, doomed and local3`, async () => {
        const ids = await agentIds(n)
        return ids.includes('echo') && ids.includes('doomed') && ids.includes('local3') ? true : undefined
      })
    }
    const echo = (await get<Listed['agents'][number]>(n3, '/registry/agents/echo')).body
    assert.equal(echo.node, n1.peerId)
    assert.deepEqual(echo.capabilities, [{ name: 'echo', version: '1.0.0' }])

    // cut n3 off
    assert.equal(await post(n3, '/faults/partition', {}), 200)
    await waitFor('the partition to take', async () => {
      const [p1, p3] = [await peersOf(n1), await peersOf(n3)]
      return !p1.includes(n3.peerId) && p3.length === 0 ? true : undefined
    }, MEMBERSHIP_WAIT_MS)
    await waitFor('n1 to mark n3 unreachable', async () => (await get<Summary>(n1, '/registry')).body.unreachableNodes.includes(n3.peerId) ? true : undefined, MEMBERSHIP_WAIT_MS)
    assert.equal((await get<Listed['agents'][number]>(n1, '/registry/agents/local3')).body.status, 'unreachable')

    // both sides change: the majority deploys and removes; n3 deploys, deploys-and-removes
    await deploy(n1, 'north', 'north')
    await remove(n1, 'doomed')
    await deploy(n3, 'south', 'south')
    await deploy(n3, 'south-temp', 'temp')
    await remove(n3, 'south-temp')
    await waitFor('n2 to learn the majority side', async () => {
      const ids = await agentIds(n2)
      return ids.includes('north') && !ids.includes('doomed') ? true : undefined
    })
    assert.deepEqual(await agentIds(n3), ['doomed', 'echo', 'local3', 'south'], 'n3 heard nothing of the other side')

    // heal: one registry everywhere, without the removed agents
    assert.equal(await post(n3, '/faults/heal', {}), 200)
    await waitFor('the three registries to be equal', async () => {
      const d = await Promise.all([n1, n2, n3].map(digestOf))
      return new Set(d).size === 1 ? true : undefined
    }, 30_000, 100)
    for (const n of [n1, n2, n3]) {
      assert.deepEqual(await agentIds(n), ['echo', 'local3', 'north', 'south'], n.name)
      assert.equal((await get(n, '/registry/agents/doomed')).status, 404, `${n.name}: doomed stays removed`)
      assert.equal((await get(n, '/registry/agents/south-temp')).status, 404, `${n.name}: south-temp stays removed`)
    }
    const found = (await get<Listed>(n2, '/registry/agents?capability=south')).body.agents
    assert.deepEqual(found.map(a => [a.id, a.node]), [['south', n3.peerId]])
    await waitFor('n1 to see n3 reachable again', async () =>
      (await get<Listed['agents'][number]>(n1, '/registry/agents/local3')).body.status === 'running' ? true : undefined)

    // a request across the healed cut, routed by the registry
    const sent = await apiFetch(n3, '/agents/north/messages?wait=10000', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ performative: 'REQUEST', content: 'over the healed cut' })
    })
    assert.equal(((await sent.json()) as { reply?: { content: string } }).reply?.content, 'over the healed cut')

    // restart n2: its registry comes back from its disk as it was. The others keep it
    // cut off meanwhile, so that no sync can change it before it is read.
    const before = await digestOf(n2)
    assert.equal(await n2.stop(), 0)
    for (const n of [n1, n3]) assert.equal(await post(n, '/faults/partition', { peers: [n2.peerId] }), 200)
    const n2b = await startNodeProcess({ name: 'r2', dataDir: n2.dataDir, args })
    nodes.push(n2b)
    assert.equal(n2b.peerId, n2.peerId)
    assert.equal(await digestOf(n2b), before, 'same registry right after the restart, before any sync')
    assert.deepEqual(await agentIds(n2b), ['echo', 'local3', 'north', 'south'])
    for (const n of [n1, n3]) assert.equal(await post(n, '/faults/heal', {}), 200)
  })
})
