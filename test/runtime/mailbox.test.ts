import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Mailbox } from '../../src/runtime/mailbox.js'
import { ByteWriter, FRAME_FLAGS, FRAME_HEADER_BYTES } from '../../src/runtime/worker-protocol.js'

const msg = (n: number): Uint8Array => Uint8Array.of(n & 255, n >> 8)
const id = (m: Uint8Array): number => m[0] | (m[1] << 8)

/** The messages not yet posted, by id, read from the batch frames the mailbox writes. */
function unposted (box: Mailbox): number[] {
  const out: number[] = []
  const batch = new ByteWriter(64)
  box.takeUnposted(Infinity, batch)
  const { buf, length } = batch.take()
  const view = new DataView(buf)
  for (let off = 0; off < length;) {
    const len = view.getUint32(off + 8, true)
    out.push(id(new Uint8Array(buf, off + FRAME_HEADER_BYTES, len)))
    off += FRAME_HEADER_BYTES + len
  }
  return out
}

describe('Mailbox', () => {
  it('refuses messages past its capacity', () => {
    const box = new Mailbox(3, 1)
    assert.deepEqual([1, 2, 3, 4].map(n => box.push(msg(n))), [true, true, true, false])
    assert.equal(box.size, 3)
    box.ack()
    assert.equal(box.push(msg(5)), true)
  })

  it('keeps FIFO order through growth and wrap-around', () => {
    const box = new Mailbox(1000, 1)
    const expected: number[] = []
    const seen: number[] = []
    let next = 0
    // Interleave pushes and acks so the ring wraps and grows several times.
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 17; i++) { box.push(msg(next)); expected.push(next++) }
      seen.push(...unposted(box))
      for (let i = 0; i < 11 && box.size > 0; i++) box.ack()
    }
    assert.deepEqual(seen, expected)
    assert.equal(box.size, 50 * 17 - 50 * 11)
  })

  it('posts each message once, and again after resetPosted (a new worker)', () => {
    const box = new Mailbox(8, 1)
    for (let n = 0; n < 4; n++) box.push(msg(n))
    assert.deepEqual(unposted(box), [0, 1, 2, 3])
    assert.deepEqual(unposted(box), [])
    box.ack()
    box.push(msg(4))
    assert.deepEqual(unposted(box), [4])
    box.resetPosted()
    assert.deepEqual(unposted(box), [1, 2, 3, 4])
  })

  it('sets flags in the batch\'s copy of the last frame it takes, not in its own', () => {
    const box = new Mailbox(10, 7)
    for (const n of [1, 2, 3]) box.push(msg(n), `t${n}`, false, FRAME_FLAGS.fromSelf)
    const flagsOf = (length: number, view: DataView): number[] => {
      const out: number[] = []
      for (let off = 0; off < length; off += FRAME_HEADER_BYTES + view.getUint32(off + 8, true)) out.push(view.getUint32(off + 4, true))
      return out
    }
    const first = new ByteWriter(64)
    assert.equal(box.takeUnposted(2, first, FRAME_FLAGS.flushAfter), 2)
    const a = first.take()
    assert.deepEqual(flagsOf(a.length, new DataView(a.buf)), [FRAME_FLAGS.fromSelf, FRAME_FLAGS.fromSelf | FRAME_FLAGS.flushAfter])
    box.resetPosted()
    const again = new ByteWriter(64)
    assert.equal(box.takeUnposted(3, again), 3)
    const b = again.take()
    assert.deepEqual(flagsOf(b.length, new DataView(b.buf)), [FRAME_FLAGS.fromSelf, FRAME_FLAGS.fromSelf, FRAME_FLAGS.fromSelf])
  })

  it('clears, reporting the tokens of what it dropped, oldest first', () => {
    const box = new Mailbox(8, 1)
    for (let n = 0; n < 5; n++) box.push(msg(n), n === 2 ? undefined : `t${n}`)
    box.ack()
    assert.deepEqual(box.clear(), ['t1', 't3', 't4'])
    assert.equal(box.size, 0)
    assert.deepEqual(unposted(box), [])
    box.push(msg(9))
    assert.deepEqual(unposted(box), [9])
  })

  it('hands each message\'s token back when it is acked, across growth and wrap-around', () => {
    const box = new Mailbox(64, 1)
    const tokens: Array<string | undefined> = []
    let next = 0
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 7; i++) box.push(msg(next), `t${next++}`)
      for (let i = 0; i < 5; i++) tokens.push(box.ack())
    }
    assert.deepEqual(tokens, Array.from({ length: 50 }, (_, i) => `t${i}`))
    assert.equal(box.ack(), 't50')
  })

  it('keeps every message\'s bytes, flags and token through pushes, posts, acks and reposts of any sizes (model check)', () => {
    const op = fc.oneof(
      fc.record({ push: fc.nat(3000), flags: fc.nat(1) }),
      fc.record({ take: fc.integer({ min: 1, max: 5 }) }),
      fc.constant({ ack: true }),
      fc.constant({ repost: true })
    )
    fc.assert(fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const box = new Mailbox(1000, 7)
      /** The model: messages in the mailbox, oldest first, and how many are posted. */
      const model: Array<{ n: number, len: number, flags: number }> = []
      let posted = 0
      let next = 0
      for (const o of ops) {
        if ('push' in o) {
          const bytes = new Uint8Array(o.push + 2).fill(next & 255)
          bytes.set(msg(next))
          box.push(bytes, `t${next}`, false, o.flags)
          model.push({ n: next++, len: bytes.length, flags: o.flags })
        } else if ('take' in o) {
          const batch = new ByteWriter(64)
          assert.equal(box.takeUnposted(o.take, batch), Math.min(o.take, model.length - posted))
          const { buf, length } = batch.take()
          const view = new DataView(buf)
          let off = 0
          for (const m of model.slice(posted, posted + o.take)) {
            assert.deepEqual([view.getUint32(off, true), view.getUint32(off + 4, true), view.getUint32(off + 8, true)], [7, m.flags, m.len])
            const bytes = new Uint8Array(buf, off + FRAME_HEADER_BYTES, m.len)
            assert.equal(id(bytes), m.n)
            assert.ok(bytes.subarray(2).every(b => b === (m.n & 255)))
            off += FRAME_HEADER_BYTES + m.len
          }
          assert.equal(off, length)
          posted = Math.min(model.length, posted + o.take)
        } else if ('ack' in o) {
          if (posted === 0) continue
          assert.equal(box.ack(), `t${(model.shift() as { n: number }).n}`)
          posted--
        } else {
          box.resetPosted()
          posted = 0
        }
        assert.equal(box.size, model.length)
        assert.equal(box.posted, posted)
      }
    }), { numRuns: 300 })
  })

  it('takes a message past its capacity only when forced (a durable inbox being restored)', () => {
    const box = new Mailbox(1, 1)
    assert.equal(box.push(msg(0), 'a'), true)
    assert.equal(box.push(msg(1), 'b'), false)
    assert.equal(box.push(msg(1), 'b', true), true)
    assert.equal(box.size, 2)
  })
})
