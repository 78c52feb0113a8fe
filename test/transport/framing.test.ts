import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Uint8ArrayList } from 'uint8arraylist'
import type { Stream } from '@libp2p/interface'
import { createFrameDecoder, encodeBatch, FrameWriter } from '../../src/transport/framing.js'

describe('transport framing', () => {
  it('splits any batch back into its frames, whatever the chunking', () => {
    fc.assert(fc.property(
      // Frames are never empty (a frame is one msgpack value), so empty ones are not generated.
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 20 }),
      fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }),
      (frames, cuts) => {
        const bytes = encodeBatch(frames)
        const decoder = createFrameDecoder(1024)
        const out: Uint8Array[] = []
        let offset = 0
        let i = 0
        while (offset < bytes.length) {
          const size = cuts[i++ % cuts.length]
          for (const f of decoder.decode(bytes.subarray(offset, offset + size))) out.push(f.slice())
          offset += size
        }
        assert.deepEqual(out, frames)
      }))
  })

  it('accepts Uint8ArrayList chunks', () => {
    const decoder = createFrameDecoder(1024)
    const bytes = encodeBatch([Uint8Array.of(1, 2), Uint8Array.of(3)])
    const list = new Uint8ArrayList(bytes.subarray(0, 2), bytes.subarray(2))
    assert.deepEqual([...decoder.decode(list)].map(f => [...f]), [[1, 2], [3]])
  })

  it('skips empty frames and reads a length prefix split across chunks', () => {
    const decoder = createFrameDecoder(1024)
    const bytes = encodeBatch([new Uint8Array(200), Uint8Array.of(7)])
    // 200 needs a two-byte prefix: the first chunk ends inside it. The 0 in front is an empty frame.
    assert.deepEqual([...decoder.decode(Uint8Array.of(0, bytes[0]))], [])
    assert.deepEqual([...decoder.decode(bytes.subarray(1))].map(f => f.byteLength), [200, 1])
  })

  it('throws on a length prefix of more than 8 bytes instead of waiting for more', () => {
    const decoder = createFrameDecoder(1024)
    assert.throws(() => [...decoder.decode(new Uint8Array(8).fill(0x80))], /more than 8 bytes/)
  })

  it('throws on a frame longer than the limit instead of buffering it', () => {
    const decoder = createFrameDecoder(16)
    assert.throws(() => [...decoder.decode(encodeBatch([new Uint8Array(17)]))])
  })
})

describe('transport FrameWriter', () => {
  /** A stream that records what it was handed; `send` answers true (no back-pressure). */
  function recordingStream (): { stream: Stream, sent: number[][][] } {
    const sent: number[][][] = []
    const stream = {
      send (bytes: Uint8Array) {
        const decoder = createFrameDecoder(1024)
        sent.push([...decoder.decode(bytes)].map(f => [...f]))
        return true
      },
      addEventListener () {},
      removeEventListener () {}
    } as unknown as Stream
    return { stream, sent }
  }
  const turn = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

  it('sends the frames of one turn in one send', async () => {
    const { stream, sent } = recordingStream()
    const w = new FrameWriter(stream, { maxQueuedBytes: 1024 })
    w.write(Uint8Array.of(1))
    w.write(Uint8Array.of(2))
    assert.deepEqual(sent, [])
    await turn()
    assert.deepEqual(sent, [[[1], [2]]])
  })

  it('with holdMs, holds frames until sendNow, which sends them in the same turn', async () => {
    const { stream, sent } = recordingStream()
    const w = new FrameWriter(stream, { maxQueuedBytes: 1024, holdMs: 60_000 })
    w.write(Uint8Array.of(1))
    await turn()
    assert.deepEqual(sent, [], 'held')
    w.sendNow()
    assert.deepEqual(sent, [[[1]]], 'sent synchronously')
  })

  it('with holdMs, sends held frames on their own once holdMs passed', async () => {
    const { stream, sent } = recordingStream()
    const w = new FrameWriter(stream, { maxQueuedBytes: 1024, holdMs: 5 })
    w.write(Uint8Array.of(1))
    await turn()
    assert.deepEqual(sent, [])
    const t0 = performance.now()
    while (sent.length === 0 && performance.now() - t0 < 5000) await new Promise(resolve => setTimeout(resolve, 1))
    assert.deepEqual(sent, [[[1]]])
  })

  it('with holdMs, sends at the end of the turn once holdFrames are queued', async () => {
    const { stream, sent } = recordingStream()
    const w = new FrameWriter(stream, { maxQueuedBytes: 1024, holdMs: 60_000, holdFrames: 2 })
    w.write(Uint8Array.of(1))
    w.write(Uint8Array.of(2))
    await turn()
    assert.deepEqual(sent, [[[1], [2]]])
  })

  it('calls beforeSend before each batch, in the same turn (what lets another writer send along)', async () => {
    const a = recordingStream()
    const b = recordingStream()
    const held = new FrameWriter(b.stream, { maxQueuedBytes: 1024, holdMs: 60_000 })
    const w = new FrameWriter(a.stream, { maxQueuedBytes: 1024, beforeSend: () => { held.sendNow() } })
    held.write(Uint8Array.of(9))
    w.write(Uint8Array.of(1))
    await turn()
    assert.deepEqual(b.sent, [[[9]]])
    assert.deepEqual(a.sent, [[[1]]])
  })

  it('flushed() sends held frames at once', async () => {
    const { stream, sent } = recordingStream()
    const w = new FrameWriter(stream, { maxQueuedBytes: 1024, holdMs: 60_000 })
    w.write(Uint8Array.of(1))
    await w.flushed()
    assert.deepEqual(sent, [[[1]]])
  })
})
