import assert from 'node:assert/strict'
import fc from 'fast-check'
import { pack } from 'msgpackr'
import {
  AclDecodeError, MSGPACK_POSITIONS, decodeMessage, encodeMessage, type AclMessage
} from '../../../protocols/fipa/index.js'
import { validMessage } from './arbitraries.js'

const full: AclMessage = {
  messageId: 'm-1',
  createdAt: 1_764_000_000_000,
  performative: 'CFP',
  sender: 'manager',
  receivers: ['c1', 'c2'],
  replyTo: ['manager-inbox'],
  content: new Uint8Array([0, 1, 2, 255]),
  language: 'fipa-sl',
  encoding: 'utf-8',
  ontology: 'trading',
  protocol: 'fipa-contract-net',
  conversationId: 'c-1',
  replyWith: 'cfp-1',
  inReplyTo: 'm-0',
  replyBy: 1_764_000_060_000,
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: 'rojo=00f067aa0ba902b7'
}

/** `fn` must throw an AclDecodeError (and nothing else) or return a valid message. */
function decodesOrRejects (bytes: Uint8Array): void {
  try {
    const msg = decodeMessage(bytes)
    // Anything that decodes is a valid message: re-encoding it must decode to the same.
    assert.deepEqual(decodeMessage(encodeMessage(msg)), msg)
  } catch (err) {
    if (!(err instanceof AclDecodeError)) throw new Error(`decodeMessage threw ${String(err)} for ${Buffer.from(bytes).toString('hex')}`)
    assert.equal(err.code, 'ACL_DECODE')
    assert.equal(typeof err.reason, 'string')
  }
}

describe('protocols/fipa msgpack codec', () => {
  it('round-trips a message with every field, keeping binary content binary', () => {
    const back = decodeMessage(encodeMessage(full))
    assert.deepEqual(back, full)
    assert.equal(Object.getPrototypeOf(back.content), Uint8Array.prototype, 'a plain Uint8Array, not a Buffer')
  })

  it('keeps string content a string', () => {
    const msg: AclMessage = { ...full, content: 'héllo 😀' }
    assert.equal(decodeMessage(encodeMessage(msg)).content, 'héllo 😀')
  })

  it('uses the fixed-position array of SPEC.md §3, leaving trailing absent fields off', () => {
    const minimal: AclMessage = { messageId: 'm', createdAt: 5, performative: 'INFORM', sender: 'a', receivers: ['b'] }
    assert.deepEqual(Buffer.from(encodeMessage(minimal)), Buffer.from(pack(['m', 5, 7, 'a', ['b']])))
    const withTrace: AclMessage = { ...minimal, traceparent: full.traceparent }
    assert.deepEqual(Buffer.from(encodeMessage(withTrace)), Buffer.from(pack(['m', 5, 7, 'a', ['b'], null, full.traceparent])))
    assert.equal(MSGPACK_POSITIONS.length, 17)
    assert.deepEqual(new Set(MSGPACK_POSITIONS), new Set(Object.keys(full)))
  })

  it('copies binary content out of the received bytes', () => {
    const bytes = encodeMessage(full)
    const msg = decodeMessage(bytes)
    bytes.fill(0)
    assert.deepEqual(msg.content, full.content)
  })

  it('reads fields written as uint64 or nil by another implementation', () => {
    // createdAt as uint64 (0xcf), an explicit nil in the middle, replyBy present.
    const head = Buffer.from([0x9f /* fixarray 15 */])
    const parts = [pack('m'), Buffer.from([0xcf, 0, 0, 1, 0x9a, 0xb4, 0x26, 0x80, 0x00]), pack(3), pack('a'), pack(['b']),
      ...Array.from({ length: 9 }, () => pack(null)), pack(['r'])]
    const msg = decodeMessage(Buffer.concat([head, ...parts]))
    assert.equal(msg.createdAt, 0x19ab4268000)
    assert.equal(msg.performative, 'CFP')
    assert.deepEqual(msg.replyTo, ['r'])
    assert.equal('content' in msg, false)
  })

  it('round-trips every generated valid message, field for field (property)', () => {
    fc.assert(fc.property(validMessage(), msg => {
      assert.deepEqual(decodeMessage(encodeMessage(msg)), msg)
    }), { numRuns: 500 })
  })

  describe('rejects what is not a message, with AclDecodeError only', () => {
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['no bytes', new Uint8Array(0), /no bytes/],
      ['truncated', encodeMessage(full).subarray(0, 40), /not msgpack/],
      ['trailing bytes', Buffer.concat([encodeMessage(full), Buffer.from([0])]), /not msgpack/],
      ['a map instead of the array', pack({ messageId: 'm' }), /expected a msgpack array/],
      ['too few fields', pack(['m', 1, 7, 'a']), /got 4/],
      ['too many fields', pack([...Array.from({ length: 17 }, () => null), 'x']), /got 18/],
      ['an unknown performative code', pack(['m', 1, 22, 'a', ['b']]), /performative code 0\.\.21, got 22/],
      ['a performative name instead of its code', pack(['m', 1, 'INFORM', 'a', ['b']]), /performative code/],
      ['an invalid field', pack(['m', 1, 7, 'a b', ['b']]), /invalid message: sender: must be an agent id/],
      ['content over the limit', pack(['m', 1, 7, 'a', ['b'], 'x'.repeat(11)]), /content: is 11 bytes/],
      ['an unknown msgpack extension', Buffer.from([0xd4, 0x10, 0x00]), /not msgpack: Unknown extension/],
      ['a msgpackr BigInt extension value', Buffer.from([0xd4, 0x42, 0x00]), /expected a msgpack array of 5\.\.17 fields, got 0n/],
      ['deep nesting', new Uint8Array(200_000).fill(0x91), /not msgpack|expected a msgpack array/],
      ['a huge declared length', Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), /not msgpack/]
    ]
    for (const [what, bytes, reason] of cases) {
      it(what, () => {
        assert.throws(() => decodeMessage(bytes, { maxContentBytes: 10 }), (err: unknown) => {
          assert.ok(err instanceof AclDecodeError, `got ${String(err)}`)
          assert.match(err.reason, reason)
          return true
        })
      })
    }

    it('names the bad fields in `issues`', () => {
      assert.throws(() => decodeMessage(pack(['m', -1, 7, 'a', ['b', 'b']])), (err: unknown) => {
        assert.ok(err instanceof AclDecodeError)
        assert.deepEqual(err.issues?.map(i => i.field), ['createdAt', 'receivers[1]'])
        return true
      })
    })

    it('rejects non-bytes input', () => {
      for (const bad of ['abc', null, [1, 2], new ArrayBuffer(4)]) {
        assert.throws(() => decodeMessage(bad as unknown as Uint8Array), AclDecodeError)
      }
    })

    it('random bytes (property)', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), decodesOrRejects), { numRuns: 3000 })
    })

    it('random msgpack values (property)', () => {
      fc.assert(fc.property(fc.oneof(fc.anything(), fc.array(fc.anything(), { minLength: 5, maxLength: 17 })),
        v => decodesOrRejects(pack(v))), { numRuns: 1000 })
    })

    it('mutated valid encodings: flipped, inserted, deleted bytes and truncation (property)', () => {
      const mutation = fc.oneof(
        fc.record({ op: fc.constant('flip'), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
        fc.record({ op: fc.constant('insert'), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
        fc.record({ op: fc.constant('delete'), at: fc.nat(), byte: fc.constant(0) }),
        fc.record({ op: fc.constant('truncate'), at: fc.nat(), byte: fc.constant(0) })
      )
      fc.assert(fc.property(validMessage(), fc.array(mutation, { minLength: 1, maxLength: 4 }), (msg, ops) => {
        let bytes = Array.from(encodeMessage(msg))
        for (const { op, at, byte } of ops) {
          const i = bytes.length === 0 ? 0 : at % bytes.length
          if (op === 'flip') bytes[i] = byte
          else if (op === 'insert') bytes.splice(i, 0, byte)
          else if (op === 'delete') bytes.splice(i, 1)
          else bytes = bytes.slice(0, i)
        }
        decodesOrRejects(Uint8Array.from(bytes))
      }), { numRuns: 3000 })
    })
  })
})
