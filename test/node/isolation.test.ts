/**
 * Issue 10's flood, on a node in-process: an agent that sends 1,000 copies of every message
 * it receives to itself must not take the node down. It is held to its send budget and,
 * past the grace period, suspended; the echo agent on the same node keeps answering.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, type ConfigInput } from '../../src/config/index.js'
import { startNode, type CaxtonNode } from '../../src/node/index.js'
import { ROOT, waitFor } from '../../sim/cluster/index.js'

const ECHO = readFileSync(join(ROOT, 'dist', 'agents', 'echo.wasm'))
const FLOOD = readFileSync(join(ROOT, 'dist', 'agents', 'flood.wasm'))

async function start (name: string, extra: ConfigInput = {}, dataDir = mkdtempSync(join(tmpdir(), `caxton-isolation-${name}-`))): Promise<CaxtonNode> {
  const config = loadConfig({ env: {}, flags: { preset: 'local', name, dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], api: { port: 0 }, ...extra } })
  return await startNode(config, { processMetrics: false })
}

describe('node: one agent cannot take the node down (issue 10)', function () {
  this.timeout(60_000)
  let node: CaxtonNode | undefined
  afterEach(async () => { await node?.stop() })

  it('holds a self-flooding agent to its send budget and suspends it; echo on the node keeps answering', async () => {
    // One worker: echo's round trips then come after the flood's batches (see the end).
    node = await start('flood', { agents: { overBudgetGraceMs: 1500, workers: 1 } } as ConfigInput)
    const n = node
    await n.deployAgent({ id: 'echo', wasm: ECHO })
    await n.deployAgent({ id: 'flood', wasm: FLOOD })
    // Fed a message now and then, as by traffic, the flood tries 1,000 sends a call, for
    // good (alone, under its budget it dies out: a call gets about as many sends as time
    // passed since the last one). Every echo request is answered within a second meanwhile.
    const started = Date.now()
    let flood = n.getAgent('flood')
    let fed = 0
    for (let i = 0; flood.state !== 'suspended'; i++, fed++) {
      assert.ok(Date.now() - started < 15_000, `not suspended after 15 s: ${JSON.stringify(flood)}`)
      await n.sendMessage({ to: 'flood', draft: { performative: 'INFORM', content: `go ${i}` } })
      const r = await n.sendMessage({ to: 'echo', draft: { performative: 'REQUEST', content: `ping ${i}` }, waitMs: 1000 })
      assert.equal(r.reply?.content, `ping ${i}`)
      flood = n.getAgent('flood')
    }
    const suspendedAfter = Date.now() - started
    assert.ok(suspendedAfter >= 1500, `suspended after ${suspendedAfter} ms, before the grace period`)
    assert.match(flood.reason ?? '', /^over its send budget \(1000 messages\/s, burst 1000, 4194304 bytes\/s\) for more than 1500 ms$/)
    assert.ok((flood.stats.overBudget ?? 0) > 0, 'refused sends are counted')
    // What it managed to send is bounded by the budget: the burst, then 1000/s, plus one
    // free send (a reply) per message it was fed.
    const seconds = (Date.now() - started) / 1000
    assert.ok(flood.stats.sent <= 1000 + 1000 * (seconds + 1) + fed, `sent ${flood.stats.sent} in ${seconds.toFixed(1)} s, fed ${fed}`)
    await waitFor('the registry to say suspended', () => n.clusterRegistry.get('flood')?.state === 'suspended' ? true : undefined, 5000, 20)
    assert.match((await n.metrics()).body, /caxton_runtime_agent_suspensions_total\{by="budget"\} 1/)
    assert.equal(n.getAgent('echo').state, 'running')
    // Batches posted to the worker before the suspension still come back; echo's next
    // request is posted after them, so once it is answered they are all counted.
    assert.equal((await n.sendMessage({ to: 'echo', draft: { performative: 'REQUEST', content: 'drained' }, waitMs: 1000 })).reply?.content, 'drained')
    const handled = n.getAgent('flood').stats.handled
    // What is sent to it now waits; echo answers as before.
    await n.sendMessage({ to: 'flood', draft: { performative: 'INFORM', content: 'after' } })
    assert.equal((await n.sendMessage({ to: 'echo', draft: { performative: 'REQUEST', content: 'after' }, waitMs: 1000 })).reply?.content, 'after')
    assert.equal(n.getAgent('flood').stats.handled, handled)
  })

  it('publishes lifecycle states in the registry and keeps a stopped or suspended agent so across a restart', async () => {
    node = await start('lifecycle')
    const n = node
    for (const id of ['held', 'paused', 'live']) await n.deployAgent({ id, wasm: ECHO })
    const published = async (id: string, state: string): Promise<void> => {
      await waitFor(`the registry to say ${id} is ${state}`, () => n.clusterRegistry.get(id)?.state === state ? true : undefined, 5000, 20)
    }
    assert.equal((await n.stopAgent('held')).state, 'stopped')
    await published('held', 'stopped')
    assert.equal((await n.suspendAgent('paused', 'suspended by an operator: audit')).state, 'suspended')
    await published('paused', 'suspended')
    // A message for a stopped agent is accepted and waits for its start.
    await n.sendMessage({ to: 'held', draft: { performative: 'REQUEST', content: 'waited' } })

    const dataDir = n.config.dataDir
    await n.stop()
    node = await start('lifecycle', {}, dataDir)
    const again = node
    assert.equal(again.getAgent('held').state, 'stopped')
    assert.equal(again.getAgent('paused').state, 'suspended')
    assert.equal(again.getAgent('paused').reason, 'suspended by an operator: audit')
    assert.equal(again.getAgent('live').state, 'running')
    assert.equal(again.clusterRegistry.get('held')?.state, 'stopped')

    assert.equal((await again.startAgent('held')).state, 'running')
    await waitFor('the registry to say held is running', () => again.clusterRegistry.get('held')?.state === 'running' ? true : undefined, 5000, 20)
    // The request that waited is handled: echo's reply to it is on record.
    await waitFor('the waiting request to be answered', () => again.getAgent('held').stats.handled >= 1 ? true : undefined, 10_000, 20)
    assert.equal((await again.resumeAgent('paused')).state, 'running')
  })
})
