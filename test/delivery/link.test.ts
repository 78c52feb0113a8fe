import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { pack } from 'msgpackr'
import { decodeFrame, encodeMessage, type AclMessage, type DeliverFrame } from '../../protocols/fipa/index.js'
import { FipaLink, FIPA_PROTOCOL, type Ack, type LinkHandlers } from '../../src/delivery/index.js'
import { createFrameDecoder, encodeBatch } from '../../src/transport/framing.js'
import { createTransport, type CaxtonLibp2p } from '../../src/transport/index.js'
import { waitFor } from '../../sim/cluster/index.js'

const msg = (i: number): AclMessage => ({ messageId: `m-${i}`, createdAt: 1, performative: 'INFORM', sender: 'a', receivers: ['b'], content: `n${i}` })
const entry = (i: number): { header: { receiver: string, deadline: number, order: number, after: number, flags: number }, message: Uint8Array } =>
  ({ header: { receiver: 'b', deadline: Date.now() + 60_000, order: i + 1, after: i, flags: 0 }, message: encodeMessage(msg(i)) })

/** What a link reported, for a test to wait on. */
class Reports {
  readonly acked: Array<{ peer: string, order: number, ack: Ack }> = []
  readonly failed: Array<{ peer: string, orders: number[], reason: string }> = []
  readonly received: DeliverFrame[] = []
  answer: (frame: DeliverFrame, reply: (ack: Ack) => void) => void = (_f, reply) => { reply({ status: 'ok' }) }

  handlers (): LinkHandlers {
    return {
      receive: (_from, frame, reply) => { this.received.push(frame); this.answer(frame, reply) },
      acked: (peer, order, ack) => { this.acked.push({ peer, order, ack }) },
      failed: (peer, orders, reason) => { this.failed.push({ peer, orders, reason }) }
    }
  }
}

describe('delivery: FIPA 2.0.0 link over libp2p', function () {
  this.timeout(30_000)
  let a: CaxtonLibp2p
  let b: CaxtonLibp2p
  let linkA: FipaLink
  let linkB: FipaLink
  let ra: Reports
  let rb: Reports

  before(async () => {
    a = await createTransport({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    b = await createTransport({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    // Acks have ample time here (a loaded machine must not fail 2,000 entries); the overdue
    // case has a link of its own with a short timeout.
    linkA = new FipaLink({ libp2p: a, ackTimeoutMs: 10_000 })
    linkB = new FipaLink({ libp2p: b, ackTimeoutMs: 10_000 })
    ra = new Reports()
    rb = new Reports()
    await linkA.start(ra.handlers())
    await linkB.start(rb.handlers())
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
    ra.acked.length = 0
    ra.failed.length = 0
    rb.received.length = 0
    rb.answer = (_f, reply) => { reply({ status: 'ok' }) }
  })

  it('delivers many entries in order, each answered once, with its header', async () => {
    linkA.send(b.peerId.toString(), Array.from({ length: 2000 }, (_, i) => entry(i)))
    await waitFor('2000 acks', () => ra.acked.length === 2000 ? true : undefined, 10_000, 10)
    assert.deepEqual(rb.received.map(f => f.message.messageId), Array.from({ length: 2000 }, (_, i) => `m-${i}`))
    assert.deepEqual(rb.received[5].order, 6)
    assert.deepEqual(rb.received[5].after, 5)
    assert.deepEqual(new Set(ra.acked.map(x => x.order)).size, 2000)
    assert.ok(ra.acked.every(x => x.ack.status === 'ok'))
  })

  it('passes an answer given later (after persisting) and a refusal with its reason back', async () => {
    rb.answer = (f, reply) => {
      if (f.order === 1) setTimeout(() => { reply({ status: 'ok' }) }, 20)
      else reply({ status: 'mailbox-full', reason: 'agent b\'s inbox is full' })
    }
    linkA.send(b.peerId.toString(), [entry(0), entry(1)])
    await waitFor('two acks', () => ra.acked.length === 2 ? true : undefined)
    assert.deepEqual(ra.acked.map(x => [x.order, x.ack.status]).sort(), [[1, 'ok'], [2, 'mailbox-full']])
    assert.equal(ra.acked.find(x => x.order === 2)?.ack.reason, 'agent b\'s inbox is full')
  })

  it('gives the stream up when an ack is overdue, failing what waited on it; the next entry opens a new stream', async () => {
    const c = await createTransport({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    const linkC = new FipaLink({ libp2p: c, ackTimeoutMs: 300 })
    const rc = new Reports()
    await linkC.start(rc.handlers())
    await c.start()
    try {
      await c.dial(b.getMultiaddrs()[0])
      rb.answer = (f, reply) => { if (f.order !== 1) reply({ status: 'ok' }) }
      linkC.send(b.peerId.toString(), [entry(0)])
      await waitFor('the overdue entry to fail', () => rc.failed.find(x => x.orders.includes(1)), 5000, 10)
      assert.match(rc.failed[0].reason, /no ack within 300 ms/)
      linkC.send(b.peerId.toString(), [entry(5)])
      await waitFor('the next entry acked', () => rc.acked.find(x => x.order === 6), 5000, 10)
    } finally {
      await linkC.stop()
      await c.stop()
    }
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
    // A deliver frame whose message has no performative, one from protocol 1.0.0, then bytes that are no frame at all.
    stream.send(encodeBatch([pack([0, 7, 'b', 1, 2, 0, 0, ['id', 1]]), pack([0, 8, ['id', 1, 7, 'a', ['b']]]), Uint8Array.of(0xc1, 0xff, 0x00)]))
    await waitFor('two rejections', () => acks.length === 2 ? true : undefined, 5000, 5)
    assert.deepEqual(acks, [{ seq: 7, status: 'rejected' }, { seq: 8, status: 'rejected' }])
    assert.equal(rb.received.length, 0)
    await stream.close()
    linkA.send(b.peerId.toString(), [entry(9)])
    await waitFor('the node still serves', () => ra.acked.find(x => x.order === 10), 5000, 10)
  })

  it('reports entries for an unreachable peer as failed', async () => {
    const ghost = await createTransport({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    linkA.send(ghost.peerId.toString(), [entry(20), entry(21)])
    const f = await waitFor('the failure', () => ra.failed.find(x => x.peer === ghost.peerId.toString()), 10_000, 10)
    assert.deepEqual(f.orders, [21, 22])
    assert.match(f.reason, /cannot reach node/)
  })
})
