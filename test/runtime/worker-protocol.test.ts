import assert from 'node:assert/strict'
import { ByteWriter } from '../../src/runtime/worker-protocol.js'

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
})
