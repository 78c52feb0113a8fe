import assert from 'node:assert/strict'
import { ByteWriter, COPY_MAX_BYTES } from '../../src/runtime/worker-protocol.js'

describe('ByteWriter', () => {
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

  it('sizes the next buffer to what the last one held, not to the largest it grew to', () => {
    const out = new ByteWriter(1024)
    out.raw(new Uint8Array(300 * 1024)) // a burst
    assert.ok(out.take().buf.byteLength >= 300 * 1024)
    out.raw(new Uint8Array(500))
    assert.equal(out.take().buf.byteLength, 512 * 1024, 'the first after the burst starts at its size')
    out.raw(new Uint8Array(500))
    assert.equal(out.take().buf.byteLength, 1024, 'then at the size 500 bytes need')
  })

  it('hands small content over as a copy and keeps its buffer; larger content as the buffer itself, to transfer', () => {
    const out = new ByteWriter(1024)
    out.u32(7)
    out.u32(8)
    const small = out.hand()
    assert.equal(small.transfer, false)
    assert.equal(small.length, 8)
    assert.equal(small.buf.byteLength, 8, 'a copy of the content only, not of the whole buffer')
    assert.deepEqual([...new Uint32Array(small.buf)], [7, 8])
    // The writer starts empty and writing again leaves the copy as it was.
    assert.equal(out.length, 0)
    out.u32(9)
    assert.deepEqual([...new Uint32Array(small.buf)], [7, 8])
    assert.deepEqual([...new Uint32Array(out.hand().buf)], [9])

    out.raw(new Uint8Array(COPY_MAX_BYTES).fill(1))
    const exact = out.hand()
    assert.equal(exact.transfer, false, 'up to the limit is copied')
    out.raw(new Uint8Array(COPY_MAX_BYTES + 1).fill(2))
    const large = out.hand()
    assert.equal(large.transfer, true)
    assert.equal(large.length, COPY_MAX_BYTES + 1)
    assert.ok(large.buf.byteLength >= COPY_MAX_BYTES + 1)
    out.u32(3)
    assert.equal(new Uint8Array(large.buf)[0], 2, 'the writer writes in a new buffer after handing one over')
  })
})
