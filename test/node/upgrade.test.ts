/**
 * In-place upgrades on a node with a data folder (issue 10, item 5): the agent keeps its
 * id, store, timers and inbox across a new version; no message is lost or reordered; a
 * bad module changes nothing; versions are kept, rolled back to, and survive a restart.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import type { ConfigInput } from '../../src/config/index.js'
import type { CaxtonNode } from '../../src/node/index.js'
import { waitFor } from '../../sim/cluster/index.js'
import { closeWat, wat } from '../runtime/helpers/wat.js'
import { agent, ask, TestNodes } from './helpers/nodes.js'

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

/**
 * Another build of a module: the same code with a custom section appended (WebAssembly
 * core spec §5.5.3), so its bytes and hash differ and its behaviour does not.
 */
function rebuilt (wasm: Uint8Array, tag: string): Uint8Array {
  const name = Buffer.from(tag)
  const payload = Buffer.concat([Buffer.of(name.length), name, Buffer.from('build')])
  return new Uint8Array(Buffer.concat([wasm, Buffer.of(0, payload.length), payload]))
}

// The handled log says which messages an agent handled, in order.
const HANDLED_LOG: ConfigInput = { delivery: { handledLog: true } }

describe('agent upgrades on a node', function () {
  this.timeout(60_000)
  const nodes = new TestNodes()
  afterEach(async () => { await nodes.stopAll() })
  after(async () => { await closeWat() })

  const start = async (name: string, extra: ConfigInput = {}): Promise<CaxtonNode> => await nodes.start(name, undefined, { ...HANDLED_LOG, ...extra })
  const restart = async (node: CaxtonNode): Promise<CaxtonNode> => await nodes.restart(node, HANDLED_LOG)

  it('the counter at 42 answers 43 after its node restarts and 44 after an in-place upgrade', async () => {
    let node = await start('counter')
    const v1 = agent('counter')
    const v2 = rebuilt(v1, 'v2')
    assert.equal((await node.deployAgent({ id: 'counter', wasm: v1 })).version, 1)
    assert.equal(node.clusterRegistry.get('counter')?.agentVersion, 1)
    assert.deepEqual(await ask(node, 'counter', 'add 42'), { performative: 'INFORM', content: '42' })

    node = await restart(node)
    assert.deepEqual(await ask(node, 'counter', 'increment'), { performative: 'INFORM', content: '43' })

    const upgraded = await node.upgradeAgent({ id: 'counter', wasm: v2 })
    assert.equal(upgraded.version, 2)
    assert.equal(upgraded.state, 'running')
    assert.equal(upgraded.moduleHash, sha256(v2))
    assert.deepEqual(await ask(node, 'counter', 'increment'), { performative: 'INFORM', content: '44' })
    assert.equal(node.getAgent('counter').version, 2)
    const entry = node.clusterRegistry.get('counter')
    assert.equal(entry?.state, 'running')
    assert.equal(entry?.agentVersion, 2, 'the registry record carries the version')
    assert.equal(node.registry.get('counter').agentVersion, 2)
  })

  it('messages sent during an upgrade are all handled, once, in the order they were sent', async () => {
    const node = await start('order')
    await node.deployAgent({ id: 'counter', wasm: agent('counter') })
    await node.deployAgent({ id: 'sink', wasm: agent('sink') })
    // One sender for all (order is per sender); the counter's answers go to the sink.
    const first = await node.sendMessage({ to: 'counter', draft: { performative: 'REQUEST', content: 'increment', replyTo: ['sink'] } })
    const sent = [first.messageId]
    const total = 60
    let upgrade: Promise<unknown> | undefined
    let sentBeforeUpgraded = 0
    for (let i = 1; i < total; i++) {
      if (i === 20) upgrade = node.upgradeAgent({ id: 'counter', wasm: rebuilt(agent('counter'), 'v2') }).finally(() => { sentBeforeUpgraded = sent.length })
      const out = await node.sendMessage({ to: 'counter', draft: { performative: 'REQUEST', content: 'increment', sender: first.sender, replyTo: ['sink'] } })
      sent.push(out.messageId)
    }
    assert.equal(((await upgrade) as { version: number }).version, 2)
    assert.ok(sentBeforeUpgraded > 21, `messages were sent while the upgrade ran (it ended after ${sentBeforeUpgraded})`)

    const handled = await waitFor(`${total} messages handled by the counter`, async () => {
      const lines = (await node.handledLog({ limit: 10_000 })).filter(l => l.receiver === 'counter')
      return lines.length >= total ? lines : undefined
    }, 20_000, 20)
    assert.deepEqual(handled.map(l => l.messageId), sent, 'each once, in order')
    // Each increment saw the one before it: the answers count 1..total, in order.
    const answers = await waitFor('every answer at the sink', () => {
      const got = node.recentMessages({ agent: 'sink', limit: 1000 }).filter(r => r.message.sender === 'counter')
      return got.length >= total ? got : undefined
    }, 20_000, 20)
    const counts = answers.map(r => Number(r.message.content)).sort((a, b) => a - b)
    assert.deepEqual(counts, Array.from({ length: total }, (_, i) => i + 1))
    assert.deepEqual(await ask(node, 'counter', 'get'), { performative: 'INFORM', content: String(total) })
  })

  it('a bad module leaves version 1 running, its state and messages untouched', async () => {
    const node = await start('bad')
    await node.deployAgent({ id: 'counter', wasm: agent('counter') })
    assert.deepEqual(await ask(node, 'counter', 'add 7'), { performative: 'INFORM', content: '7' })

    await assert.rejects(node.upgradeAgent({ id: 'counter', wasm: Uint8Array.of(0, 0x61, 0x73, 0x6d, 9, 9) }), { code: 'MODULE_INVALID' })
    const unknownImport = await wat(`(module
      (import "env" "memory" (memory 1))
      (import "env" "open_socket" (func (param i32) (result i32)))
      (func (export "alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "handle_message") (param i32 i32) (result i32) (i32.const 0)))`)
    await assert.rejects(node.upgradeAgent({ id: 'counter', wasm: unknownImport }), { code: 'MODULE_INVALID' })
    // Passes the policy, traps in its start function: the old version is started again.
    const trapsAtStart = await wat(`(module
      (import "env" "memory" (memory 1))
      (func $boom unreachable)
      (start $boom)
      (func (export "alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "handle_message") (param i32 i32) (result i32) (i32.const 0)))`)
    await assert.rejects(node.upgradeAgent({ id: 'counter', wasm: trapsAtStart }), { code: 'MODULE_INVALID' })
    // Limits past the node's quota (quota.maxMemoryPages 4096), as at deploy.
    await assert.rejects(node.upgradeAgent({ id: 'counter', wasm: agent('counter'), limits: { maxMemoryPages: 5000 } }), { code: 'LIMIT_TOO_HIGH' })

    const info = node.getAgent('counter')
    assert.equal(info.version, 1)
    assert.equal(info.state, 'running')
    assert.equal(info.moduleHash, sha256(agent('counter')))
    assert.deepEqual(node.agentVersions('counter').versions.map(v => v.version), [1])
    assert.deepEqual(await ask(node, 'counter', 'increment'), { performative: 'INFORM', content: '8' })
  })

  it('rolls back to the previous version by default, or to a kept one, each a new version; versions survive a restart', async () => {
    let node = await start('rollback', { agents: { keepVersions: 3 } })
    const builds = [agent('counter'), rebuilt(agent('counter'), 'v2'), rebuilt(agent('counter'), 'v3')]
    await node.deployAgent({ id: 'counter', wasm: builds[0], limits: { fuelPerMessage: 2_000_000 } })
    await node.upgradeAgent({ id: 'counter', wasm: builds[1] })
    assert.equal(node.getAgent('counter').limits.fuelPerMessage, 2_000_000, 'limits not given are the current version\'s')
    await node.upgradeAgent({ id: 'counter', wasm: builds[2], limits: { fuelPerMessage: 3_000_000 } })
    assert.deepEqual(await ask(node, 'counter', 'add 5'), { performative: 'INFORM', content: '5' })

    const back = await node.rollbackAgent('counter')
    assert.equal(back.version, 4)
    assert.equal(back.moduleHash, sha256(builds[1]))
    assert.equal(back.limits.fuelPerMessage, 2_000_000)
    assert.deepEqual(await ask(node, 'counter', 'increment'), { performative: 'INFORM', content: '6' }, 'the store is kept')

    // keepVersions 3: versions 2, 3 and 4 are kept; version 1 is gone.
    await assert.rejects(node.rollbackAgent('counter', 1), { code: 'AGENT_VERSION_NOT_FOUND' })
    const listed = node.agentVersions('counter')
    assert.equal(listed.version, 4)
    assert.deepEqual(listed.versions.map(v => [v.version, v.moduleHash, v.moduleBytes, v.rollbackOf]), [
      [2, sha256(builds[1]), builds[1].byteLength, undefined],
      [3, sha256(builds[2]), builds[2].byteLength, undefined],
      [4, sha256(builds[1]), builds[1].byteLength, 2]
    ])
    assert.deepEqual(listed.versions.map(v => v.limits.fuelPerMessage), [2_000_000, 3_000_000, 2_000_000])

    node = await restart(node)
    assert.deepEqual(node.agentVersions('counter'), listed)
    assert.equal(node.getAgent('counter').version, 4)
    assert.equal(node.clusterRegistry.get('counter')?.agentVersion, 4)
    assert.equal(node.getAgent('counter').moduleHash, sha256(builds[1]))
    const again = await node.rollbackAgent('counter', 3)
    assert.equal(again.version, 5)
    assert.equal(again.moduleHash, sha256(builds[2]))
    assert.equal(again.limits.fuelPerMessage, 3_000_000)
    assert.deepEqual(await ask(node, 'counter', 'get'), { performative: 'INFORM', content: '6' })
    // Version 1's module left the disk with it; removing the agent takes the rest.
    const modules = async (): Promise<string[]> => { const out: string[] = []; for await (const k of node.storage.modules.keys()) out.push(k); return out.sort() }
    assert.deepEqual(await modules(), [sha256(builds[1]), sha256(builds[2])].sort())
    await node.removeAgent('counter')
    assert.deepEqual(await modules(), [])
  })

  it('a stopped agent is upgraded in place and stays stopped; its waiting messages go to the new version', async () => {
    const node = await start('stopped')
    await node.deployAgent({ id: 'counter', wasm: agent('counter') })
    await node.stopAgent('counter')
    await node.sendMessage({ to: 'counter', draft: { performative: 'REQUEST', content: 'add 3' } })
    const upgraded = await node.upgradeAgent({ id: 'counter', wasm: rebuilt(agent('counter'), 'v2') })
    assert.equal(upgraded.state, 'stopped')
    assert.equal(upgraded.version, 2)
    await node.startAgent('counter')
    await waitFor('the waiting message handled', async () => (await node.handledLog({})).some(l => l.receiver === 'counter') ? true : undefined, 10_000, 20)
    assert.deepEqual(await ask(node, 'counter', 'get'), { performative: 'INFORM', content: '3' })
  })
})
