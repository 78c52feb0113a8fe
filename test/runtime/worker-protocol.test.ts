import assert from 'node:assert/strict'
import { ByteWriter } from '../../src/runtime/worker-protocol.js'

describe('ByteWriter', () => {
  it('appends what a writer function puts at the end, growing and calling it again when it asks for room', () => {
    const out = new ByteWriter(8)
    out.u32(7)
    const payload = Uint8Array.from({ length: 100 }, (_, i) => i)
    const offsets: number[] = []
    // Asks for room until the buffer holds the whole payload after the offset it is given.
    const write = (p: Uint8Array, bytes: Uint8Array, offset: number): number => {
      offsets.push(offset)
      if (offset + p.length > bytes.length) return -1
      bytes.set(p, offset)
      return offset + p.length
    }
    assert.equal(out.put(write, payload), 100)
    assert.ok(offsets.length > 1, 'called again after growing')
    assert.deepEqual(offsets, offsets.map(() => 4))
    const { buf, length } = out.take()
    assert.equal(length, 104)
    assert.equal(new DataView(buf).getUint32(0, true), 7)
    assert.deepEqual(new Uint8Array(buf, 4, 100), payload)
  })

  it('writes the next batch in a buffer handed back to it, when large enough and not over 1 MiB', () => {
    const out = new ByteWriter(4096)
    out.u32(1)
    const first = out.take().buf
    out.recycle(first)
    out.u32(2)
    const second = out.take()
    assert.equal(second.buf, first, 'the recycled buffer was written again')
    assert.equal(new DataView(second.buf).getUint32(0, true), 2)
    // One too small for what is asked is not used; one over 1 MiB is not kept.
    out.recycle(new ArrayBuffer(8))
    out.raw(new Uint8Array(200))
    assert.ok(out.take().buf.byteLength >= 200)
    const large = new ArrayBuffer(2 << 20)
    out.recycle(large)
    out.u32(3)
    assert.notEqual(out.take().buf, large)
  })
})
