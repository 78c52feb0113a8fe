import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { MessageStream } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import { noise } from '@libp2p/noise'
import { LengthPrefixedDecoder, multiaddrConnectionPair } from '@libp2p/utils'
import fc from 'fast-check'
import { Uint8ArrayList } from 'uint8arraylist'
import { quietenNoiseSplitter, quietUint16Length, withQuietNoiseFrames } from '../../src/transport/quiet-noise.js'

/** Frames with Noise's 2-byte big-endian length prefix, one after the other. */
function prefixed (frames: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + 2 + f.length, 0))
  let off = 0
  for (const f of frames) {
    out[off] = f.length >> 8
    out[off + 1] = f.length & 0xff
    out.set(f, off + 2)
    off += 2 + f.length
  }
  return out
}

async function encrypter (): Promise<ReturnType<ReturnType<typeof noise>>> {
  const components = {
    privateKey: await generateKeyPair('Ed25519'),
    logger: defaultLogger(),
    upgrader: { getStreamMuxers: () => new Map() }
  }
  return withQuietNoiseFrames(noise())(components as unknown as Parameters<ReturnType<typeof noise>>[0])
}

/** Everything `stream` receives, once `bytes` have come (the test's timeout bounds the wait). */
async function receive (stream: MessageStream, bytes: number): Promise<Uint8Array> {
  const got = new Uint8ArrayList()
  return await new Promise((resolve) => {
    stream.addEventListener('message', (evt) => {
      got.append(evt.data)
      if (got.byteLength >= bytes) resolve(got.subarray())
    })
  })
}

describe('transport: Noise without an exception per chunk', () => {
  it('reads a length only when both bytes are there, and answers "incomplete" otherwise', () => {
    const read = quietUint16Length(4096)
    assert.equal(read(new Uint8Array(0)), 4096)
    assert.equal(read(new Uint8Array([0x12])), 4096)
    assert.equal(read(new Uint8Array([0x12, 0x34])), 0x1234)
    assert.equal(read(new Uint8Array([0xff, 0xff, 9])), 0xffff)
    assert.equal(read(new Uint8ArrayList(new Uint8Array([0x01]), new Uint8Array([0x02, 7]))), 0x0102, 'a prefix split across buffers')
    assert.equal(read(new Uint8ArrayList(new Uint8Array([0x01]))), 4096)
  })

  it('splits frames the same for any chunking, never throwing for a short prefix (LengthPrefixedDecoder of @libp2p/utils)', () => {
    fc.assert(fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 12 }),
      fc.array(fc.nat(400), { maxLength: 20 }),
      (frames, cuts) => {
        const bytes = prefixed(frames)
        const quiet = quietUint16Length(65535)
        let short = 0
        const decoder = new LengthPrefixedDecoder({
          lengthDecoder: (data) => {
            if (data.byteLength < 2) short++
            return quiet(data)
          },
          encodingLength: () => 2,
          maxDataLength: 65535
        })
        const points = [...new Set(cuts.map(c => c % (bytes.length + 1)))].sort((a, b) => a - b)
        const out: Uint8Array[] = []
        let from = 0
        for (const to of [...points, bytes.length]) {
          for (const frame of decoder.decode(bytes.subarray(from, to))) out.push(frame.subarray())
          from = to
        }
        assert.deepEqual(out, frames)
        // Every chunk ends on a read of the prefix that finds fewer than 2 bytes: the case
        // that threw before, answered now without an exception.
        assert.ok(short >= 1)
      }
    ))
  })

  it('recognises the connections @libp2p/noise (the pinned version) secures, and they carry data both ways', async () => {
    const [outbound, inbound] = multiaddrConnectionPair()
    const [a, b] = await Promise.all([encrypter(), encrypter()])
    const [secureA, secureB] = await Promise.all([
      a.secureOutbound(outbound, { skipStreamMuxerNegotiation: true }),
      b.secureInbound(inbound, { skipStreamMuxerNegotiation: true })
    ])
    // The wrapper quietened both splitters: a short prefix is answered, not thrown.
    for (const secured of [secureA, secureB]) {
      const splitter = (secured.connection as unknown as { decoder: { lengthDecoder: (d: Uint8ArrayList) => number, maxDataLength: number } }).decoder
      assert.equal(splitter.lengthDecoder(new Uint8ArrayList(new Uint8Array([1]))), splitter.maxDataLength)
    }
    // And the shape is still the one expected.
    assert.equal(quietenNoiseSplitter(secureA.connection), true)
    assert.equal(quietenNoiseSplitter(secureB.connection), true)

    // More than one Noise message (65,519 bytes of plaintext each) and small ones.
    const big = Uint8Array.from({ length: 150_000 }, (_, i) => i % 251)
    const atB = receive(secureB.connection, big.length + 3)
    secureA.connection.send(big)
    secureA.connection.send(new Uint8Array([1, 2, 3]))
    const got = await atB
    assert.deepEqual(got.subarray(0, big.length), big)
    assert.deepEqual([...got.subarray(big.length)], [1, 2, 3])

    const atA = receive(secureA.connection, 5)
    secureB.connection.send(new Uint8Array([9, 8, 7, 6, 5]))
    assert.deepEqual([...await atA], [9, 8, 7, 6, 5])
    await Promise.all([secureA.connection.close(), secureB.connection.close()])
  })

  it('leaves a connection of another shape as it is', () => {
    assert.equal(quietenNoiseSplitter({}), false)
    assert.equal(quietenNoiseSplitter(undefined), false)
    const other = { decoder: { lengthDecoder: () => 0, encodingLength: () => 4, maxDataLength: 100 } }
    const before = other.decoder.lengthDecoder
    assert.equal(quietenNoiseSplitter(other), false, 'a 4-byte prefix is not Noise\'s')
    assert.equal(other.decoder.lengthDecoder, before)
  })
})
