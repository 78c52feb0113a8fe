/**
 * A peer that speaks for agents it does not host, against a real node: a libp2p peer with
 * its own FIPA link sends frames claiming to come from the node's own agent and from
 * another node's API client; the node refuses them (`rejected`), hands nothing to its
 * agent, learns no route from them, and counts them (in its metrics and its audit log).
 * An honest frame from the same peer goes through. Run twice: in an open cluster, and in a
 * keyed one by a peer holding the cluster key (a key can leak; a member that has it still
 * speaks only for itself). A peer without the key cannot open the message stream at all
 * (test/transport/admission.test.ts).
 */
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeMessage, type AclMessage } from '../../protocols/fipa/index.js'
import { loadConfig } from '../../src/config/index.js'
import { FipaLink, type Ack } from '../../src/delivery/index.js'
import { startNode, type CaxtonNode } from '../../src/node/index.js'
import { writeSecretFile } from '../../src/storage/index.js'
import { createTransport, generateClusterKey, parseClusterKey, type CaxtonLibp2p } from '../../src/transport/index.js'
import { ROOT, waitFor } from '../../sim/cluster/index.js'

const SINK = readFileSync(join(ROOT, 'dist', 'agents', 'sink.wasm'))

for (const keyed of [false, true]) describe(`delivery: a peer cannot speak for agents it does not host (real node, ${keyed ? 'a peer holding the cluster key' : 'an open cluster'})`, function () {
  this.timeout(60_000)
  let node: CaxtonNode
  let rogue: CaxtonLibp2p
  let link: FipaLink
  const answers = new Map<number, Ack>()

  before(async () => {
    const key = keyed ? generateClusterKey() : undefined
    const keyFile = join(mkdtempSync(join(tmpdir(), 'caxton-imp-key-')), 'cluster.key')
    if (key !== undefined) await writeSecretFile(keyFile, key)
    node = await startNode(loadConfig({
      env: {},
      flags: {
        preset: 'local',
        name: 'victim',
        dataDir: mkdtempSync(join(tmpdir(), 'caxton-imp-')),
        listen: ['/ip4/127.0.0.1/tcp/0'],
        api: { port: 0 },
        delivery: { handledLog: true },
        ...(key !== undefined ? { cluster: { keyFile } } : {})
      }
    }), { processMetrics: false })
    await node.deployAgent({ id: 'sink', wasm: SINK })
    await node.deployAgent({ id: 'victim-agent', wasm: SINK })
    rogue = await createTransport({
      privateKey: await generateKeyPair('Ed25519'),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      ...(key !== undefined ? { clusterKey: parseClusterKey(key, 'test').psk } : {})
    })
    link = new FipaLink({ libp2p: rogue, ackTimeoutMs: 5000 })
    await link.start({ receive: () => {}, acked: (_peer, order, ack) => { answers.set(order, ack) }, failed: () => {} })
    await rogue.start()
    await rogue.dial(node.libp2p.getMultiaddrs()[0])
  })

  after(async () => {
    await link.stop()
    await rogue.stop()
    await node.stop()
  })

  const frame = (order: number, sender: string): { header: { receiver: string, deadline: number, order: number, after: number, flags: number }, message: Uint8Array } => {
    const m: AclMessage = { messageId: `forged-${order}`, createdAt: Date.now(), performative: 'INFORM', sender, receivers: ['sink'], content: `from ${sender}` }
    return { header: { receiver: 'sink', deadline: Date.now() + 30_000, order, after: 0, flags: 0 }, message: encodeMessage(m) }
  }

  it('refuses the node\'s own agent as sender and another node\'s client; accepts its own client', async () => {
    const self = node.libp2p.peerId.toString()
    const ownClient = `client-${rogue.peerId.toString().slice(-8)}-0123abcd`
    link.send(self, [frame(1, 'victim-agent'), frame(2, `client-${self.slice(-8)}-0123abcd`), frame(3, ownClient)])
    await waitFor('three answers', () => answers.size === 3 ? true : undefined)
    assert.equal(answers.get(1)?.status, 'rejected')
    assert.match(answers.get(1)?.reason ?? '', /sender victim-agent is an agent of node .*, not of node /)
    assert.equal(answers.get(2)?.status, 'rejected')
    assert.equal(answers.get(3)?.status, 'ok')
    await waitFor('the honest one handled', async () => (await node.handledLog({})).some(e => e.messageId === 'forged-3') ? true : undefined)
    const handled = (await node.handledLog({})).map(e => e.messageId)
    assert.ok(!handled.includes('forged-1') && !handled.includes('forged-2'), 'nothing forged reached the agent')
    assert.notEqual(node.locator.lookup('victim-agent'), rogue.peerId.toString(), 'no route learned from a forged frame')
    assert.match((await node.metrics()).body, /caxton_delivery_forged_senders_total 2/)
  })

  it('writes the refusals to the audit log: one entry counting both, naming the peer and the protocol', async () => {
    await node.refusedFrames.flush()
    const refused = (await node.audit.list({ limit: 1000 })).filter(e => e.action === 'peer.frame')
    assert.equal(refused.length, 1, JSON.stringify(refused))
    assert.equal(refused[0].outcome, 'refused')
    assert.equal(refused[0].source, rogue.peerId.toString())
    assert.equal(refused[0].target, '/caxton/fipa/2.0.0')
    assert.match(refused[0].detail ?? '', /^2 × forged-sender: sender victim-agent is an agent of node /)
    assert.equal((await node.audit.verify()).ok, true)
  })
})
