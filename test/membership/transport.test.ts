/**
 * The libp2p transport against a fake libp2p: frames of one tick leave in ONE write on ONE
 * stream per member, in order; a member that cannot be dialled costs its frames (counted),
 * not the others'; a broken stream is replaced; inbound frames are attributed to the
 * connection's peer; a corrupt length prefix closes only that stream; seeds without
 * /p2p/<id> are resolved by dialling them.
 */
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Connection, PeerId, Stream, StreamHandler } from '@libp2p/interface'
import { Libp2pSwimTransport, SWIM_PROTOCOL, SeedUnreachableError, type SwimLibp2p } from '../../src/membership/index.js'
import { createFrameDecoder, encodeBatch } from '../../src/transport/framing.js'
import { settle } from './fakes.js'

class FakeStream extends EventTarget {
  readonly writes: Uint8Array[] = []
  closed = false
  failWrites = false
  send (data: Uint8Array): boolean {
    if (this.failWrites || this.closed) throw new Error('stream is closed')
    this.writes.push(data)
    return true
  }

  async close (): Promise<void> { this.shut() }
  abort (): void { this.shut() }
  shut (): void {
    if (this.closed) return
    this.closed = true
    this.dispatchEvent(new Event('close'))
  }

  frames (): Uint8Array[] {
    const d = createFrameDecoder(1 << 20)
    return this.writes.flatMap(w => [...d.decode(w)])
  }
}

class FakeLibp2p {
  handler?: StreamHandler
  readonly opened: Array<{ target: string, stream: FakeStream }> = []
  readonly unreachable = new Set<string>()
  readonly listeners = new Map<string, (evt: CustomEvent<PeerId>) => void>()

  async handle (_protocol: string, handler: StreamHandler): Promise<void> { this.handler = handler }
  async unhandle (): Promise<void> { this.handler = undefined }
  getConnections (): Connection[] { return [] }
  addEventListener (type: string, fn: (evt: CustomEvent<PeerId>) => void): void { this.listeners.set(type, fn) }
  removeEventListener (type: string): void { this.listeners.delete(type) }

  async dialProtocol (target: PeerId | Array<{ toString: () => string }>, protocol: string): Promise<FakeStream> {
    assert.equal(protocol, SWIM_PROTOCOL)
    const key = Array.isArray(target) ? target.map(String).join(',') : target.toString()
    if ([...this.unreachable].some(u => key.includes(u))) throw new Error('connect ECONNREFUSED 127.0.0.1:1')
    const stream = new FakeStream()
    this.opened.push({ target: key, stream })
    return stream
  }

  async dial (addr: { toString: () => string }): Promise<{ remotePeer: { toString: () => string } }> {
    if (String(addr).includes('/tcp/9')) throw new Error('connect ECONNREFUSED 127.0.0.1:9')
    return { remotePeer: { toString: () => PEERS[2] } }
  }
}

let PEERS: string[] = []
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values)

describe('Libp2pSwimTransport (fake libp2p)', () => {
  let libp2p: FakeLibp2p
  let transport: Libp2pSwimTransport
  const received: Array<[string, number[]]> = []

  before(async () => {
    PEERS = await Promise.all([1, 2, 3].map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()))
  })

  beforeEach(async () => {
    received.length = 0
    libp2p = new FakeLibp2p()
    transport = new Libp2pSwimTransport({ libp2p: libp2p as unknown as SwimLibp2p })
    await transport.start({ frame: (from, b) => { received.push([from, [...b]]) } })
  })
  afterEach(async () => { await transport.stop() })

  it('coalesces the frames of one tick into one write on one stream per member, in order', async () => {
    const [a, b] = PEERS
    transport.send(a, [`/ip4/127.0.0.1/tcp/1/p2p/${a}`], bytes(1))
    transport.send(a, [], bytes(2, 2))
    transport.send(b, [], bytes(3))
    transport.send(a, [], bytes(4))
    await settle()
    assert.equal(libp2p.opened.length, 2)
    const toA = libp2p.opened.find(o => o.target.includes(a))!.stream
    assert.equal(toA.writes.length, 1, 'one write for the tick')
    assert.deepEqual(toA.frames().map(f => [...f]), [[1], [2, 2], [4]])
    assert.ok(libp2p.opened[0].target.startsWith('/ip4/127.0.0.1/tcp/1/p2p/'), 'not connected: dials the member\'s address')

    transport.send(a, [], bytes(5))
    await settle()
    assert.equal(libp2p.opened.length, 2, 'the stream stays open for the next tick')
    assert.deepEqual(toA.frames().map(f => [...f]), [[1], [2, 2], [4], [5]])
    assert.equal(transport.framesDropped, 0)
  })

  it('drops (and counts) the frames of a member it cannot reach, and replaces a broken stream', async () => {
    const [a, b] = PEERS
    libp2p.unreachable.add(a)
    transport.send(a, [], bytes(1))
    transport.send(a, [], bytes(2))
    transport.send(b, [], bytes(3))
    await settle()
    assert.equal(transport.framesDropped, 2)
    assert.deepEqual(libp2p.opened.map(o => o.stream.frames().length), [1])

    const first = libp2p.opened[0].stream
    first.failWrites = true
    transport.send(b, [], bytes(4))
    await settle()
    assert.equal(transport.framesDropped, 3)
    transport.send(b, [], bytes(5))
    await settle()
    assert.equal(libp2p.opened.length, 2, 'a fresh stream')
    assert.deepEqual(libp2p.opened[1].stream.frames().map(f => [...f]), [[5]])
    await transport.flush()
  })

  it('reads inbound frames as sent by the connection\'s peer, and closes a stream whose framing is corrupt', async () => {
    const [a] = PEERS
    const inbound = new FakeStream()
    const connection = { remotePeer: { toString: () => a } } as unknown as Connection
    await libp2p.handler!(inbound as unknown as Stream, connection)
    const batch = encodeBatch([bytes(7), bytes(8, 8)])
    inbound.dispatchEvent(Object.assign(new Event('message'), { data: batch.subarray(0, 2) }))
    inbound.dispatchEvent(Object.assign(new Event('message'), { data: batch.subarray(2) }))
    assert.deepEqual(received, [[a, [7]], [a, [8, 8]]])
    // A length prefix of 2^35: no frame is that long.
    inbound.dispatchEvent(Object.assign(new Event('message'), { data: bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x01) }))
    assert.ok(inbound.closed)
    assert.equal(received.length, 2)
  })

  it('resolves a seed address by dialling it, and names the address it cannot reach', async () => {
    assert.deepEqual(await transport.resolve('/ip4/127.0.0.1/tcp/7400'), { id: PEERS[2], addrs: [`/ip4/127.0.0.1/tcp/7400/p2p/${PEERS[2]}`] })
    await assert.rejects(transport.resolve('/ip4/127.0.0.1/tcp/9'), (err: unknown) => err instanceof SeedUnreachableError && err.addr === '/ip4/127.0.0.1/tcp/9')
    await assert.rejects(transport.resolve('not a multiaddr'), SeedUnreachableError)
  })

  it('drops what is sent after stop', async () => {
    await transport.stop()
    transport.send(PEERS[0], [], bytes(1))
    await settle()
    assert.equal(libp2p.opened.length, 0)
    assert.equal(transport.framesDropped, 1)
  })
})
