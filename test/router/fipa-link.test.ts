import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { pack } from 'msgpackr'
import { decodeFrame, type AclMessage } from '../../protocols/fipa/index.js'
import { createFrameDecoder, DeliveryError, encodeBatch, FipaLink, FIPA_PROTOCOL, type Ack } from '../../src/router/index.js'
import { createTransport, type CaxtonLibp2p } from '../../src/transport/index.js'

const msg = (i: number): AclMessage => ({ messageId: `m-${i}`, createdAt: 1, performative: 'INFORM', sender: 'a', receivers: ['b'], content: `n${i}` })

describe('router: FIPA link over libp2p', function () {
  this.timeout(30_000)
  let a: CaxtonLibp2p
  let b: CaxtonLibp2p
  let linkA: FipaLink
  let linkB: FipaLink
  const received: AclMessage[] = []
  let answer: (m: AclMessage) => Ack = () => ({ status: 'ok' })

  before(async () => {
    a = await createTransport({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    b = await createTransport({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    linkA = new FipaLink({ libp2p: a, onMessage: () => ({ status: 'ok' }), ackTimeoutMs: 2000, maxBatch: 64 })
    linkB = new FipaLink({ libp2p: b, onMessage: (_from, m) => { received.push(m); return answer(m) }, ackTimeoutMs: 2000, maxBatch: 64 })
    await linkA.start()
    await linkB.start()
    await a.start()
    await b.start()
    await a.dial(b.getMultiaddrs()[0])
  })

  after(async () => {
    await linkA.stop()
    await linkB.stop()
    await a.stop()
    await b.stop()
  })

  beforeEach(() => {
    received.length = 0
    answer = () => ({ status: 'ok' })
  })

  it('delivers many messages in order, each acknowledged', async () => {
    const acks = await Promise.all(Array.from({ length: 2000 }, async (_, i) => await linkA.send(b.peerId, msg(i))))
    assert.ok(acks.every(x => x.status === 'ok'))
    assert.deepEqual(received.map(m => m.messageId), Array.from({ length: 2000 }, (_, i) => `m-${i}`))
  })

  it('passes the receiver\'s negative ack back with its reason', async () => {
    answer = () => ({ status: 'mailbox-full', reason: 'agent b\'s mailbox is full' })
    assert.deepEqual(await linkA.send(b.peerId, msg(1)), { status: 'mailbox-full', reason: 'agent b\'s mailbox is full' })
  })

  it('survives garbage from a peer: a rejected ack for a bad message, the stream still serves', async () => {
    const stream = await a.dialProtocol(b.peerId, FIPA_PROTOCOL)
    const acks: Array<{ seq: number, status: string }> = []
    const decoder = createFrameDecoder(65536)
    stream.addEventListener('message', (evt) => {
      for (const f of decoder.decode(evt.data)) {
        const frame = decodeFrame(f)
        if (frame.type === 'ack') acks.push({ seq: frame.seq, status: frame.status })
      }
    })
    // A deliver frame whose message has no performative, then bytes that are no frame at all.
    stream.send(encodeBatch([pack([0, 7, ['id', 1]]), Uint8Array.of(0xc1, 0xff, 0x00)]))
    const deadline = Date.now() + 5000
    while (acks.length === 0 && Date.now() < deadline) await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(acks, [{ seq: 7, status: 'rejected' }])
    assert.equal(received.length, 0)
    await stream.close()
    assert.equal((await linkA.send(b.peerId, msg(3))).status, 'ok', 'the node still serves')
  })

  it('fails with DeliveryError when the peer is unreachable', async () => {
    const ghost = await createTransport({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    await assert.rejects(linkA.send(ghost.peerId, msg(4)), DeliveryError)
  })
})
