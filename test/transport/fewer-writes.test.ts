import assert from 'node:assert/strict'
import { createServer, connect, type Socket, type Server } from 'node:net'
import { once } from 'node:events'
import type { MultiaddrConnection } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { StreamState, YamuxStream } from '@libp2p/yamux/stream'
import { Uint8ArrayList } from 'uint8arraylist'
import { corkSocketWrites, fewerWindowUpdates } from '../../src/transport/fewer-writes.js'

/** yamux frame types (the yamux spec: 0 data, 1 window update). */
const DATA = 0
const WINDOW_UPDATE = 1

function yamuxStream (state: StreamState, window: number): { stream: YamuxStream, sent: Array<{ type: number, flag: number, length: number }> } {
  const sent: Array<{ type: number, flag: number, length: number }> = []
  const stream = new YamuxStream({
    id: '1',
    streamId: 1,
    state,
    direction: 'inbound',
    log: logger('test:yamux'),
    initialStreamWindowSize: window,
    sendFrame: (header) => { sent.push({ type: header.type, flag: header.flag, length: header.length }); return true },
    getRTT: () => -1
  })
  return { stream, sent }
}

function receive (stream: YamuxStream, bytes: number): void {
  const frame = { header: { type: DATA, flag: 0, streamID: 1, length: bytes }, data: new Uint8ArrayList(new Uint8Array(bytes)) }
  ;(stream as unknown as { handleData: (f: unknown) => void }).handleData(frame)
}

describe('transport: fewer writes per message', () => {
  describe('fewerWindowUpdates', () => {
    it('sends a window update only once half of the receive window is used, then frees all of it', () => {
      const window = 256 * 1024
      const { stream, sent } = yamuxStream(StreamState.Established, window)
      assert.equal(fewerWindowUpdates(stream), true)
      for (let i = 0; i < 13; i++) receive(stream, 10_000) // 130,000 bytes: under half (131,072)
      assert.deepEqual(sent.filter(f => f.type === WINDOW_UPDATE), [])
      receive(stream, 10_000) // 140,000 bytes: past half
      const updates = sent.filter(f => f.type === WINDOW_UPDATE)
      assert.equal(updates.length, 1)
      assert.equal(updates[0].length, 140_000, 'the update gives back every byte used')
      receive(stream, 10_000)
      assert.equal(sent.filter(f => f.type === WINDOW_UPDATE).length, 1, 'the window is free again')
    })

    it('leaves an update that carries a flag to yamux (an inbound stream acks with its first one)', () => {
      const { stream, sent } = yamuxStream(StreamState.SYNReceived, 256 * 1024)
      fewerWindowUpdates(stream)
      receive(stream, 100)
      assert.equal(sent.length, 1)
      assert.equal(sent[0].type, WINDOW_UPDATE)
      assert.notEqual(sent[0].flag, 0, 'the ACK flag went out')
      assert.equal(stream.state, StreamState.Established)
    })

    it('without it, yamux sends an update after every data frame (what it saves)', () => {
      const { stream, sent } = yamuxStream(StreamState.Established, 256 * 1024)
      for (let i = 0; i < 3; i++) receive(stream, 100)
      assert.equal(sent.filter(f => f.type === WINDOW_UPDATE).length, 3)
    })

    it('leaves a stream of another muxer as it is', () => {
      const other = { sendWindowUpdate: () => {} }
      assert.equal(fewerWindowUpdates(other as never), false)
    })
  })

  describe('corkSocketWrites', () => {
    let server: Server
    let client: Socket
    let accepted: Socket

    beforeEach(async () => {
      server = createServer()
      server.listen(0, '127.0.0.1')
      await once(server, 'listening')
      const address = server.address() as { port: number }
      const acceptedP = once(server, 'connection')
      client = connect(address.port, '127.0.0.1')
      await once(client, 'connect')
      accepted = (await acceptedP)[0] as Socket
    })

    afterEach(async () => {
      client.destroy()
      accepted.destroy()
      server.close()
      await once(server, 'close')
    })

    /** A stand-in for @libp2p/tcp's connection: one socket write per buffer. */
    function tcpConnection (socket: Socket): MultiaddrConnection & { sendData: (d: Uint8ArrayList) => unknown } {
      return {
        socket,
        sendData (data: Uint8ArrayList) {
          for (const buf of data) socket.write(buf)
          return { sentBytes: data.byteLength, canSendMore: true }
        }
      } as unknown as MultiaddrConnection & { sendData: (d: Uint8ArrayList) => unknown }
    }

    it('holds the writes of a turn in the socket and sends them together at its end', async () => {
      const conn = tcpConnection(client)
      corkSocketWrites(conn)
      conn.sendData(new Uint8ArrayList(Uint8Array.of(1), Uint8Array.of(2, 3)))
      conn.sendData(new Uint8ArrayList(Uint8Array.of(4)))
      assert.equal(client.writableCorked, 1, 'corked for the rest of the turn')
      assert.equal(client.writableLength, 4, 'held, not written')
      await new Promise(resolve => process.nextTick(resolve))
      assert.equal(client.writableCorked, 0)
      const got: number[] = []
      while (got.length < 4) got.push(...(await once(accepted, 'data'))[0] as Buffer)
      assert.deepEqual(got, [1, 2, 3, 4])
    })

    it('leaves a connection without a net.Socket as it is', () => {
      const sendData = (): void => {}
      const conn = { socket: {}, sendData } as unknown as MultiaddrConnection & { sendData: unknown }
      corkSocketWrites(conn)
      assert.equal(conn.sendData, sendData)
    })
  })
})
