/**
 * A node in-process: deploy, persistence across restart, removal, bad input, and two
 * nodes delivering to each other through the gossip table and the DHT fallback.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, type ConfigInput } from '../../src/config/index.js'
import { startNode, type CaxtonNode } from '../../src/node/index.js'
import { ROOT, waitFor } from '../../sim/cluster/index.js'

const ECHO = readFileSync(join(ROOT, 'dist', 'agents', 'echo.wasm'))
const COUNTER = readFileSync(join(ROOT, 'dist', 'agents', 'counter.wasm'))

async function start (name: string, dataDir = mkdtempSync(join(tmpdir(), `caxton-node-${name}-`)), extra: ConfigInput = {}): Promise<CaxtonNode> {
  const config = loadConfig({ env: {}, flags: { preset: 'local', name, dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], api: { port: 0 }, ...extra } })
  return await startNode(config, { processMetrics: false })
}

describe('node (in-process)', function () {
  this.timeout(60_000)
  const nodes: CaxtonNode[] = []
  afterEach(async () => { await Promise.all(nodes.splice(0).map(async n => { await n.stop() })) })

  it('deploys an agent, keeps it and its PeerId across a restart, and forgets it once removed', async () => {
    let node = await start('solo')
    nodes.push(node)
    const { peerId } = node.info()
    const info = await node.deployAgent({ id: 'counter', wasm: COUNTER })
    assert.equal(info.state, 'running')
    const r1 = await node.sendMessage({ to: 'counter', draft: { performative: 'REQUEST', content: 'add 5' }, waitMs: 5000 })
    assert.equal(r1.reply?.content, '5')
    await node.stop()
    nodes.pop()

    node = await start('solo', node.config.dataDir)
    nodes.push(node)
    assert.equal(node.info().peerId, peerId)
    assert.deepEqual(node.listAgents().map(a => [a.id, a.state]), [['counter', 'running']])
    await node.removeAgent('counter')
    await node.stop()
    nodes.pop()

    node = await start('solo', node.config.dataDir)
    nodes.push(node)
    assert.deepEqual(node.listAgents(), [])
    assert.throws(() => node.getAgent('counter'), { code: 'AGENT_NOT_FOUND' })
  })

  it('refuses reserved ids and bad modules with a named error, storing nothing', async () => {
    const node = await start('strict')
    nodes.push(node)
    await assert.rejects(node.deployAgent({ id: 'ams', wasm: ECHO }), { code: 'AGENT_ID_INVALID' })
    await assert.rejects(node.deployAgent({ id: 'client-1', wasm: ECHO }), /reserved/)
    await assert.rejects(node.deployAgent({ id: 'bad id', wasm: ECHO }), { code: 'AGENT_ID_INVALID' })
    await assert.rejects(node.deployAgent({ id: 'junk', wasm: Uint8Array.of(1, 2, 3) }), { code: 'MODULE_INVALID' })
    await assert.rejects(node.removeAgent('nobody'), { code: 'AGENT_NOT_FOUND' })
    assert.deepEqual(node.listAgents(), [])
  })

  it('delivers between two nodes: through the gossip table, and through the DHT when the table does not know', async () => {
    const a = await start('a')
    nodes.push(a)
    const b = await start('b', undefined, { join: [a.info().multiaddrs[0]] })
    nodes.push(b)
    await b.deployAgent({ id: 'echo', wasm: ECHO })

    await waitFor('a to hear b announce echo', () => a.locator.lookup('echo'))
    const viaGossip = await a.sendMessage({ to: 'echo', draft: { performative: 'REQUEST', content: 'over gossip' }, waitMs: 5000 })
    assert.equal(viaGossip.reply?.content, 'over gossip')
    assert.equal(viaGossip.reply?.inReplyTo, viaGossip.messageId)

    // Drop what a learned by gossip: the provider record b put in the DHT must answer.
    a.locator.forget('echo', b.info().peerId)
    assert.equal(a.locator.lookup('echo'), undefined)
    const viaDht = await waitFor('a DHT-routed reply', async () => {
      const out = await a.sendMessage({ to: 'echo', draft: { performative: 'REQUEST', content: 'over the DHT' }, waitMs: 5000 })
      return out.reply
    }, 20_000, 200)
    assert.equal(viaDht.content, 'over the DHT')
    assert.equal(a.locator.lookup('echo'), b.info().peerId, 'the DHT answer is remembered')
  })

  it('keeps a message for a node that is down, and delivers it when the node is back', async () => {
    const a = await start('a3')
    nodes.push(a)
    const bDir = mkdtempSync(join(tmpdir(), 'caxton-node-b3-'))
    let b = await start('b3', bDir, { join: [a.info().multiaddrs[0]] })
    await b.deployAgent({ id: 'echo', wasm: ECHO })
    await waitFor('a to hear b announce echo', () => a.locator.lookup('echo'))
    await b.stop()
    const sent = a.sendMessage({ to: 'echo', draft: { performative: 'REQUEST', content: 'still there?' }, waitMs: 20_000 })
    await waitFor('the message to wait in a\'s outbox', () => a.delivery.summary().outbox.messages === 1 ? true : undefined)
    b = await start('b3', bDir, { join: [a.info().multiaddrs[0]] })
    nodes.push(b)
    const out = await sent
    assert.equal(out.reply?.performative, 'INFORM')
    assert.equal(out.reply?.content, 'still there?')
    assert.equal(a.delivery.summary().outbox.messages, 0)
  })

  it('dead-letters a message whose deadline passes while its node is gone, and tells the sender with FAILURE', async () => {
    const a = await start('a2')
    nodes.push(a)
    const b = await start('b2', undefined, { join: [a.info().multiaddrs[0]], messages: { ackTimeoutMs: 1000 } })
    await b.deployAgent({ id: 'echo', wasm: ECHO })
    await waitFor('a to hear b announce echo', () => a.locator.lookup('echo'))
    await b.stop()
    const out = await a.sendMessage({ to: 'echo', draft: { performative: 'REQUEST', content: 'anyone?', replyBy: Date.now() + 1500 }, waitMs: 15_000 })
    assert.equal(out.reply?.performative, 'FAILURE')
    assert.equal(out.reply?.sender, 'ams')
    assert.equal(out.reply?.inReplyTo, out.messageId)
    assert.match(String(out.reply?.content), /message to echo not delivered: not delivered before its deadline/)
    const { entries } = await a.delivery.listDeadLetters({})
    assert.equal(entries.length, 1)
    assert.equal(entries[0].messageId, out.messageId)
    assert.equal(entries[0].cause, 'expired')
    const status = await a.messageStatus(out.messageId)
    assert.equal(status.receivers[0].state, 'dead-lettered')
  })
})
