/**
 * Agents' durable state on a node (ABI SPEC.md §7-§8): a store and timers that survive
 * the node's restart, written with the messages that change them, deleted with the agent.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, type ConfigInput } from '../../src/config/index.js'
import { startNode, type CaxtonNode } from '../../src/node/index.js'
import { ROOT, waitFor } from '../../sim/cluster/index.js'

const agent = (name: string): Uint8Array => readFileSync(join(ROOT, 'dist', 'agents', `${name}.wasm`))

async function start (name: string, dataDir = mkdtempSync(join(tmpdir(), `caxton-state-${name}-`)), extra: ConfigInput = {}): Promise<CaxtonNode> {
  const config = loadConfig({ env: {}, flags: { preset: 'local', name, dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], api: { port: 0 }, ...extra } })
  return await startNode(config, { processMetrics: false })
}

async function ask (node: CaxtonNode, to: string, content: string, extra: Record<string, unknown> = {}): Promise<{ performative?: string, content?: unknown }> {
  const out = await node.sendMessage({ to, draft: { performative: 'REQUEST', content, ...extra }, waitMs: 5000 })
  return { performative: out.reply?.performative, content: out.reply?.content }
}

describe('agent state on a node', function () {
  this.timeout(60_000)
  const nodes: CaxtonNode[] = []
  afterEach(async () => { await Promise.all(nodes.splice(0).map(async n => { await n.stop() })) })

  async function restart (node: CaxtonNode): Promise<CaxtonNode> {
    await node.stop()
    nodes.splice(nodes.indexOf(node), 1)
    const next = await start(node.config.name, node.config.dataDir)
    nodes.push(next)
    return next
  }

  it('the counter at 42 answers 43 after its node restarts; its store goes with it when removed', async () => {
    let node = await start('counter')
    nodes.push(node)
    await node.deployAgent({ id: 'counter', wasm: agent('counter') })
    assert.deepEqual(await ask(node, 'counter', 'add 42'), { performative: 'INFORM', content: '42' })

    node = await restart(node)
    assert.deepEqual(await ask(node, 'counter', 'increment'), { performative: 'INFORM', content: '43' })
    assert.equal(node.agentState.kv.bytes('counter'), 'count'.length + 8 + 32)

    await node.removeAgent('counter')
    assert.deepEqual(node.agentState.kv.entries('counter'), [])
    await node.deployAgent({ id: 'counter', wasm: agent('counter') })
    assert.deepEqual(await ask(node, 'counter', 'get'), { performative: 'INFORM', content: '0' })
    // Nothing of the first counter is left on disk either.
    node = await restart(node)
    assert.deepEqual(await ask(node, 'counter', 'get'), { performative: 'INFORM', content: '0' })
  })

  it('a key-value store agent keeps its entries across a restart', async () => {
    let node = await start('store')
    nodes.push(node)
    await node.deployAgent({ id: 'store', wasm: agent('kv-store') })
    assert.deepEqual(await ask(node, 'store', 'put colour blue'), { performative: 'INFORM', content: 'ok' })
    assert.deepEqual(await ask(node, 'store', 'put size 42'), { performative: 'INFORM', content: 'ok' })
    assert.deepEqual(await ask(node, 'store', 'delete size'), { performative: 'INFORM', content: 'deleted' })
    node = await restart(node)
    assert.deepEqual(await ask(node, 'store', 'list'), { performative: 'INFORM', content: 'colour' })
    assert.deepEqual(await ask(node, 'store', 'get colour'), { performative: 'INFORM', content: 'blue' })
  })

  it('a timer set before a restart fires after it, once, through the agent\'s inbox', async () => {
    let node = await start('timers')
    nodes.push(node)
    await node.deployAgent({ id: 'scheduler', wasm: agent('scheduler') })
    await node.deployAgent({ id: 'sink', wasm: agent('sink') })
    // Replies go to reply-to: the sink gets the AGREE and, later, the reminder.
    await node.sendMessage({ to: 'scheduler', draft: { performative: 'REQUEST', content: 'in 1500 wake up', replyTo: ['sink'] } })
    const agreed = await waitFor('the AGREE', () => node.recentMessages({ agent: 'sink' }).find(r => r.message.performative === 'AGREE'), 5000, 20)
    assert.equal(agreed.message.content, '1')
    const pending = node.agentState.timers.list('scheduler')
    assert.deepEqual(pending.map(t => [t.id, t.fired]), [[1, false]])

    node = await restart(node)
    // The recent-message log is the new node's (in memory): what is there came after the restart.
    const reminder = await waitFor('the reminder to reach the sink', () =>
      node.recentMessages({ agent: 'sink' }).find(r => r.message.sender === 'scheduler' && r.message.performative === 'INFORM'), 10_000, 20)
    assert.equal(reminder.message.content, 'wake up')
    assert.ok(reminder.at >= pending[0].due, `fired at ${reminder.at}, due ${pending[0].due}`)
    await waitFor('the timer to be over', () => node.agentState.timers.list('scheduler').length === 0 ? true : undefined, 5000, 20)
    assert.deepEqual(await ask(node, 'scheduler', 'list'), { performative: 'INFORM', content: '' })
    assert.equal(node.recentMessages({ agent: 'sink' }).filter(r => r.message.content === 'wake up').length, 1)
  })

  it('a module importing the clock and the store is accepted, and listed with those imports', async () => {
    const node = await start('imports')
    nodes.push(node)
    const report = await node.runtime.inspect(agent('scheduler'))
    for (const name of ['env.kv_get', 'env.kv_put', 'env.kv_next', 'env.schedule', 'env.cancel']) assert.ok(report.imports.includes(name), name)
  })
})
