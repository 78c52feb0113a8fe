import assert from 'node:assert/strict'
import fc from 'fast-check'
import { pack, unpack } from 'msgpackr'
import {
  ACK_STATUSES, FIPA_PROTOCOL_ID, FrameDecodeError, FrameEncodeError, MAX_ACK_REASON_CHARS, decodeFrame,
  deliverMessageOffset, encodeDeliverFrame, encodeFrame, encodeMessage, type AclMessage, type DeliverHeader, type FipaFrame
} from '../../../protocols/fipa/index.js'
import { validMessage } from './arbitraries.js'

const message: AclMessage = {
  messageId: 'm-7', createdAt: 1_764_000_000_000, performative: 'INFORM', sender: 'a', receivers: ['b'], content: 'hi'
}
const header: DeliverHeader = { receiver: 'b', deadline: 1_764_000_030_000, order: 2 ** 32 + 7, after: 2 ** 32 + 5, flags: 0 }
const deliver = (seq: number, msg: AclMessage = message, h: DeliverHeader = header): FipaFrame => ({ type: 'deliver', seq, ...h, message: msg })

function decodesOrRejects (bytes: Uint8Array): void {
  try {
    const frame = decodeFrame(bytes)
    assert.deepEqual(decodeFrame(encodeFrame(frame)), frame)
  } catch (err) {
    if (!(err instanceof FrameDecodeError)) throw new Error(`decodeFrame threw ${String(err)} for ${Buffer.from(bytes).toString('hex')}`)
    assert.equal(err.code, 'FRAME_DECODE')
    if (err.seq !== undefined) assert.ok(Number.isSafeInteger(err.seq) && err.seq >= 0)
  }
}

describe('protocols/fipa wire frames (/caxton/fipa/2.0.0)', () => {
  it('names its protocol', () => {
    assert.equal(FIPA_PROTOCOL_ID, '/caxton/fipa/2.0.0')
  })

  it('round-trips deliver frames, with seq up to 2^53 - 1 (property)', () => {
    const seq = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1), fc.maxSafeNat())
    const headers = fc.record({
      receiver: fc.constantFrom('b', 'seller-7', 'x'.repeat(128)),
      deadline: fc.maxSafeNat(),
      order: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      flags: fc.integer({ min: 0, max: 255 })
    }).chain(h => fc.integer({ min: 0, max: h.order - 1 }).map(after => ({ ...h, after })))
    fc.assert(fc.property(seq, headers, validMessage(), (s, h, msg) => {
      const frame = deliver(s, msg, h)
      assert.deepEqual(decodeFrame(encodeFrame(frame)), frame)
      // Splicing a pre-encoded message gives the same frame and the same bytes.
      const spliced = encodeDeliverFrame(s, h, encodeMessage(msg))
      assert.deepEqual(decodeFrame(spliced), frame)
      assert.deepEqual(Buffer.from(spliced), Buffer.from(encodeFrame(frame)))
    }), { numRuns: 500 })
  })

  it('finds the message\'s own bytes inside any deliver frame (property)', () => {
    fc.assert(fc.property(fc.maxSafeNat(), fc.maxSafeNat(), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), validMessage(), (s, deadline, order, msg) => {
      const h = { receiver: 'r-' + 'x'.repeat(s % 127), deadline, order, after: order - 1, flags: s % 256 }
      const bytes = encodeDeliverFrame(s, h, encodeMessage(msg))
      const at = deliverMessageOffset(bytes)
      assert.deepEqual(Buffer.from(bytes.subarray(at)), Buffer.from(encodeMessage(msg)))
    }), { numRuns: 300 })
    assert.equal(deliverMessageOffset(encodeFrame({ type: 'ack', seq: 1, status: 'ok' })), -1)
    assert.equal(deliverMessageOffset(Uint8Array.of(0x98, 0x00)), -1)
  })

  it('embeds the message array in the frame rather than nesting its bytes', () => {
    const bytes = encodeFrame(deliver(3))
    const raw = unpack(bytes) as unknown[]
    assert.deepEqual(raw.slice(0, 7), [0, 3, 'b', header.deadline, header.order, header.after, 0])
    assert.ok(Array.isArray(raw[7]))
    assert.ok(Buffer.from(bytes).subarray(bytes.length - encodeMessage(message).length).equals(encodeMessage(message)))
  })

  it('round-trips ack frames of every status, with and without a reason', () => {
    for (const status of ACK_STATUSES) {
      for (const reason of [undefined, 'mailbox of b holds 1024 messages']) {
        const frame: FipaFrame = reason === undefined ? { type: 'ack', seq: 9, status } : { type: 'ack', seq: 9, status, reason }
        assert.deepEqual(decodeFrame(encodeFrame(frame)), frame)
      }
    }
    assert.deepEqual(Buffer.from(encodeFrame({ type: 'ack', seq: 1, status: 'ok' })), Buffer.from([0x93, 0x01, 0x01, 0x00]))
  })

  it('truncates an over-long ack reason instead of sending a frame the peer would refuse', () => {
    const long = '😀'.repeat(MAX_ACK_REASON_CHARS)
    const frame = decodeFrame(encodeFrame({ type: 'ack', seq: 1, status: 'rejected', reason: long }))
    assert.ok(frame.type === 'ack' && frame.reason !== undefined)
    assert.ok(frame.reason.length <= MAX_ACK_REASON_CHARS)
    assert.ok(long.startsWith(frame.reason))
  })

  it('refuses to encode a bad seq, type or status', () => {
    for (const seq of [-1, 1.5, NaN, 2 ** 53]) {
      assert.throws(() => encodeFrame({ type: 'ack', seq, status: 'ok' }), FrameEncodeError)
      assert.throws(() => encodeDeliverFrame(seq, header, encodeMessage(message)), FrameEncodeError)
    }
    const bad: Array<Partial<DeliverHeader>> = [{ receiver: 'not an id' }, { deadline: -1 }, { order: 0 }, { after: header.order }, { flags: 256 }]
    for (const h of bad) {
      assert.throws(() => encodeFrame(deliver(1, message, { ...header, ...h })), FrameEncodeError)
      assert.throws(() => encodeDeliverFrame(1, { ...header, ...h }, encodeMessage(message)), FrameEncodeError)
    }
    assert.throws(() => encodeFrame({ type: 'ack', seq: 1, status: 'lost' as never }), FrameEncodeError)
    assert.throws(() => encodeFrame({ type: 'nack', seq: 1 } as never), FrameEncodeError)
  })

  describe('decodeFrame failures', () => {
    it('carries the seq of a deliver frame whose message is invalid, so it can be acked rejected', () => {
      const bytes = pack([0, 41, 'b', 1, 2, 0, 0, ['m-9', 1, 7, 'a', ['not ok']]])
      assert.throws(() => decodeFrame(bytes), (err: unknown) => {
        assert.ok(err instanceof FrameDecodeError)
        assert.equal(err.seq, 41)
        assert.equal(err.messageId, 'm-9')
        assert.match(err.reason, /receivers\[0\]: must be an agent id/)
        return true
      })
    })

    it('applies the limits given to the message', () => {
      const bytes = encodeFrame(deliver(2, { ...message, content: 'x'.repeat(20) }))
      assert.throws(() => decodeFrame(bytes, { maxContentBytes: 10 }), (err: unknown) =>
        err instanceof FrameDecodeError && err.seq === 2 && /content: is 20 bytes/.test(err.reason))
      assert.equal(decodeFrame(bytes).type, 'deliver')
    })

    const cases: Array<[string, Uint8Array, RegExp, number | undefined]> = [
      ['no bytes', new Uint8Array(0), /no bytes/, undefined],
      ['not msgpack', Buffer.from([0xd9, 0x05, 0x61]), /not msgpack/, undefined],
      ['not an array', pack({ type: 'deliver' }), /expected a msgpack array/, undefined],
      ['a bad seq', pack([0, -1, []]), /seq must be an integer/, undefined],
      ['an unknown frame type', pack([7, 5, 0]), /unknown frame type 7/, 5],
      ['a 1.0.0 deliver frame', pack([0, 5, ['m', 1, 7, 'a', ['b']]]), /deliver frame has 8 elements/, 5],
      ['a deliver frame with extra elements', pack([0, 5, 'b', 1, 2, 0, 0, [], 1]), /deliver frame has 8 elements/, 5],
      ['a deliver frame with a bad receiver', pack([0, 5, '', 1, 2, 0, 0, []]), /receiver must be an agent id/, 5],
      ['a deliver frame with order 0', pack([0, 5, 'b', 1, 0, 0, 0, []]), /order must be/, 5],
      ['a deliver frame whose after is not below its order', pack([0, 5, 'b', 1, 3, 3, 0, []]), /after must be/, 5],
      ['a deliver frame whose message is not an array', pack([0, 6, 'b', 1, 2, 0, 0, 'hello']), /expected a msgpack array/, 6],
      ['an ack with an unknown status', pack([1, 5, 9]), /unknown ack status 9/, 5],
      ['an ack with a non-string reason', pack([1, 5, 0, 42]), /ack reason must be a string/, 5],
      ['an ack with too long a reason', pack([1, 5, 0, 'x'.repeat(MAX_ACK_REASON_CHARS + 1)]), /ack reason/, 5],
      ['an ack with extra elements', pack([1, 5, 0, 'r', 'x']), /3 or 4 elements/, 5]
    ]
    for (const [what, bytes, reason, seq] of cases) {
      it(what, () => {
        assert.throws(() => decodeFrame(bytes), (err: unknown) => {
          assert.ok(err instanceof FrameDecodeError, `got ${String(err)}`)
          assert.match(err.reason, reason)
          assert.equal(err.seq, seq)
          return true
        })
      })
    }

    it('random bytes only ever give FrameDecodeError (property)', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), decodesOrRejects), { numRuns: 3000 })
    })

    it('random msgpack values only ever give FrameDecodeError (property)', () => {
      const shaped = fc.oneof(
        fc.tuple(fc.constantFrom(0, 1, 2), fc.oneof(fc.nat(), fc.anything()), fc.anything()).map(a => a as unknown),
        fc.tuple(fc.constant(0), fc.nat(), fc.constantFrom('b', 7), fc.nat(), fc.nat(), fc.nat(), fc.nat(), fc.anything()).map(a => a as unknown)
      )
      fc.assert(fc.property(fc.oneof(fc.anything(), shaped), v => decodesOrRejects(pack(v))), { numRuns: 1000 })
    })

    it('mutated valid frames only ever give FrameDecodeError (property)', () => {
      const frames = fc.oneof(
        fc.tuple(fc.maxSafeNat(), validMessage()).map(([seq, m]): FipaFrame => deliver(seq, m)),
        fc.tuple(fc.nat(), fc.constantFrom(...ACK_STATUSES), fc.string()).map(([seq, status, reason]): FipaFrame => ({ type: 'ack', seq, status, reason }))
      )
      fc.assert(fc.property(frames, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()), { minLength: 1, maxLength: 4 }), (frame, edits) => {
        const bytes = Array.from(encodeFrame(frame))
        for (const [at, byte, insert] of edits) {
          const i = at % (bytes.length + 1)
          if (insert) bytes.splice(i, 0, byte)
          else if (i < bytes.length) bytes[i] = byte
          else bytes.pop()
        }
        decodesOrRejects(Uint8Array.from(bytes))
      }), { numRuns: 3000 })
    })
  })
})
