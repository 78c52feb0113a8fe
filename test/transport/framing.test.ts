import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Uint8ArrayList } from 'uint8arraylist'
import { createFrameDecoder, encodeBatch } from '../../src/transport/framing.js'

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

  it('throws on a frame longer than the limit instead of buffering it', () => {
    const decoder = createFrameDecoder(16)
    assert.throws(() => [...decoder.decode(encodeBatch([new Uint8Array(17)]))])
  })
})
