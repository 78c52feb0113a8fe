import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import {
  ABI_VERSION, AbiDecodeError, TAG, checkFromAgent, decodeFromAgent, encodeAbiMessage, encodeAbiMessageInto, encodeForAgent
} from '../../../protocols/agent-abi/index.js'
import { PERFORMATIVES, type AclMessage } from '../../../protocols/fipa/types.js'

const text = fc.string({ unit: 'binary', maxLength: 40 })
const asciiId = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 20 })
const time = fc.double({ noNaN: true, noDefaultInfinity: true })

const message: fc.Arbitrary<AclMessage> = fc.record({
  messageId: asciiId,
  createdAt: time,
  performative: fc.constantFrom(...PERFORMATIVES),
  sender: text,
  receivers: fc.array(text, { minLength: 1, maxLength: 4 }),
  replyTo: fc.array(text, { minLength: 1, maxLength: 3 }),
  content: fc.oneof(text, fc.uint8Array({ maxLength: 300 })),
  language: text,
  encoding: text,
  ontology: text,
  protocol: text,
  conversationId: asciiId,
  replyWith: asciiId,
  inReplyTo: asciiId,
  replyBy: time,
  traceparent: asciiId,
  tracestate: text
}, { requiredKeys: ['messageId', 'createdAt', 'performative', 'sender', 'receivers'] })

/** A field: tag, u32 LE length, value. */
function field (tag: number, value: Uint8Array | string): Uint8Array {
  const v = typeof value === 'string' ? new TextEncoder().encode(value) : value
  const out = new Uint8Array(5 + v.length)
  out[0] = tag
  new DataView(out.buffer).setUint32(1, v.length, true)
  out.set(v, 5)
  return out
}

function frame (...fields: Uint8Array[]): Uint8Array {
  const parts = [Uint8Array.of(ABI_VERSION), ...fields]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let off = 0
  for (const p of parts) { out.set(p, off); off += p.length }
  return out
}

function reasonOf (bytes: Uint8Array): string {
  try {
    decodeFromAgent(bytes)
  } catch (err) {
    assert.ok(err instanceof AbiDecodeError, `expected AbiDecodeError, got ${String(err)}`)
    assert.equal(err.code, 'ABI_DECODE')
    return err.reason
  }
  assert.fail('expected decodeFromAgent to throw')
}

describe('agent ABI codec', () => {
  it('round-trips every field of a message (encodeForAgent → decodeFromAgent)', () => {
    fc.assert(fc.property(message, (msg) => {
      const draft = decodeFromAgent(encodeForAgent(msg))
      assert.deepEqual(draft, { ...msg })
    }), { numRuns: 500 })
  })

  it('keeps text content as a string and binary content as bytes', () => {
    const base = { messageId: 'm', createdAt: 1, performative: 'INFORM' as const, sender: 's', receivers: ['r'] }
    assert.equal(decodeFromAgent(encodeForAgent({ ...base, content: 'héllo' })).content, 'héllo')
    const bytes = decodeFromAgent(encodeForAgent({ ...base, content: Uint8Array.of(0, 255, 7) })).content
    assert.ok(bytes instanceof Uint8Array)
    assert.deepEqual([...bytes], [0, 255, 7])
    assert.equal(decodeFromAgent(encodeForAgent({ ...base, content: '' })).content, '')
  })

  it('encodes into a caller\'s buffer at an offset the bytes encodeAbiMessage returns, or answers -1 when they may not fit', () => {
    fc.assert(fc.property(message, fc.nat(64), (msg, offset) => {
      const expected = encodeAbiMessage(msg)
      const roomy = new Uint8Array(offset + expected.length * 3 + 64).fill(0xee)
      const end = encodeAbiMessageInto(msg, roomy, offset)
      assert.equal(end, offset + expected.length)
      assert.deepEqual(roomy.subarray(offset, end), expected)
      assert.ok(roomy.subarray(0, offset).every(b => b === 0xee), 'bytes before the offset untouched')
      assert.equal(encodeAbiMessageInto(msg, new Uint8Array(offset + expected.length - 1), offset), -1)
    }), { numRuns: 300 })
  })

  it('writes a lone surrogate as U+FFFD, in short and long strings', () => {
    const fffd = '\ufffd'
    for (const s of ['a\ud800b', `${'x'.repeat(40)}\udc00y`]) {
      const draft = decodeFromAgent(encodeAbiMessage({ sender: s, content: s }))
      assert.equal(draft.sender, s.replace(/[\ud800-\udfff]/, fffd))
      assert.equal(draft.content, s.replace(/[\ud800-\udfff]/, fffd))
    }
  })

  it('decodes U+FFFD and a BOM that are in the text, and refuses bytes that are not UTF-8, in short and long fields', () => {
    for (const pad of ['', 'y'.repeat(100)]) {
      const text = `\ufeff${pad}a\ufffdb`
      assert.equal(decodeFromAgent(frame(field(TAG.contentText, text))).content, text)
      const bad = new Uint8Array([...new TextEncoder().encode(pad), 0x61, 0xc3, 0x28])
      assert.match(reasonOf(frame(field(TAG.contentText, bad))), /content is not valid UTF-8/)
      assert.equal(checkFromAgent(frame(field(TAG.contentText, bad))), 'field content is not valid UTF-8')
    }
  })

  it('decodes a message from a view into a larger buffer, and the next one from another buffer', () => {
    const msg = { performative: 'INFORM' as const, receivers: ['a', 'b'], content: 'é'.repeat(40), conversationId: 'c' }
    const bytes = encodeAbiMessage(msg)
    const big = new Uint8Array(bytes.length + 300).fill(0xff)
    big.set(bytes, 123)
    assert.deepEqual(decodeFromAgent(big.subarray(123, 123 + bytes.length)), msg)
    assert.deepEqual(decodeFromAgent(encodeAbiMessage({ ...msg, content: 'other' })), { ...msg, content: 'other' })
    // The same memory again, grown in between (a resizable ArrayBuffer: ES2024, not in this lib).
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize: (n: number) => void }
    const memory = new Resizable(bytes.length, { maxByteLength: 2 * bytes.length + 10 })
    new Uint8Array(memory).set(bytes)
    assert.deepEqual(decodeFromAgent(new Uint8Array(memory, 0, bytes.length)), msg)
    memory.resize(2 * bytes.length + 10)
    new Uint8Array(memory).set(bytes, bytes.length + 10)
    assert.deepEqual(decodeFromAgent(new Uint8Array(memory, bytes.length + 10, bytes.length)), msg)
  })

  it('writes the documented layout: version byte, then tag / u32 LE length / value', () => {
    const bytes = encodeAbiMessage({ performative: 'REQUEST', receivers: ['ab'] })
    assert.deepEqual([...bytes], [ABI_VERSION, TAG.performative, 1, 0, 0, 0, PERFORMATIVES.indexOf('REQUEST'), TAG.receiver, 2, 0, 0, 0, 97, 98])
  })

  it('numbers performatives by their index in PERFORMATIVES', () => {
    PERFORMATIVES.forEach((p, code) => {
      assert.equal(decodeFromAgent(frame(field(TAG.performative, Uint8Array.of(code)))).performative, p)
    })
  })

  it('throws only AbiDecodeError on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try {
        decodeFromAgent(bytes)
      } catch (err) {
        assert.ok(err instanceof AbiDecodeError, String(err))
      }
    }), { numRuns: 2000 })
  })

  it('throws only AbiDecodeError on valid messages with bytes flipped or cut', () => {
    fc.assert(fc.property(message, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (msg, at, value, cut) => {
      const bytes = encodeForAgent(msg)
      bytes[at % bytes.length] = value
      for (const b of [bytes, bytes.subarray(0, cut % (bytes.length + 1))]) {
        try {
          decodeFromAgent(b)
        } catch (err) {
          assert.ok(err instanceof AbiDecodeError, String(err))
        }
      }
    }), { numRuns: 1000 })
  })

  it('names what is wrong with malformed bytes', () => {
    assert.match(reasonOf(new Uint8Array(0)), /empty/)
    assert.match(reasonOf(Uint8Array.of(2)), /unsupported ABI version 2/)
    assert.match(reasonOf(Uint8Array.of(ABI_VERSION, TAG.sender, 3, 0)), /truncated field header at offset 1/)
    assert.match(reasonOf(Uint8Array.of(ABI_VERSION, TAG.sender, 9, 0, 0, 0, 65)), /sender at offset 1 declares 9 bytes, only 1 remain/)
    assert.match(reasonOf(frame(field(0x7f, 'x'))), /unknown field tag 0x7f/)
    assert.match(reasonOf(frame(field(TAG.sender, 'a'), field(TAG.sender, 'b'))), /sender appears twice/)
    assert.match(reasonOf(frame(field(TAG.contentText, 'a'), field(TAG.contentBytes, 'b'))), /content appears twice/)
    assert.match(reasonOf(frame(field(TAG.performative, Uint8Array.of(22)))), /unknown performative code 22/)
    assert.match(reasonOf(frame(field(TAG.performative, Uint8Array.of(1, 2)))), /performative is 2 bytes/)
    assert.match(reasonOf(frame(field(TAG.receiver, Uint8Array.of(0xc3, 0x28)))), /receiver is not valid UTF-8/)
    assert.match(reasonOf(frame(field(TAG.replyBy, new Uint8Array(4)))), /reply-by is 4 bytes, expected 8/)
    const nan = new Uint8Array(8)
    new DataView(nan.buffer).setFloat64(0, NaN, true)
    assert.match(reasonOf(frame(field(TAG.createdAt, nan))), /created-at is not a finite number/)
  })

  it('checkFromAgent gives the reason decodeFromAgent would throw, without decoding', () => {
    const verdict = (bytes: Uint8Array): string | undefined => {
      try {
        decodeFromAgent(bytes)
        return undefined
      } catch (err) {
        return (err as AbiDecodeError).reason
      }
    }
    // Frames of random fields: known and unknown tags, random values (UTF-8 or not,
    // wrong sizes), repeats.
    const fields = fc.array(fc.tuple(fc.integer({ min: 0, max: 0x14 }), fc.uint8Array({ maxLength: 12 })), { maxLength: 6 })
    fc.assert(fc.property(fields, fc.boolean(), (list, truncate) => {
      const bytes = frame(...list.map(([tag, value]) => field(tag, value)))
      const b = truncate ? bytes.subarray(0, Math.max(0, bytes.length - 3)) : bytes
      assert.equal(checkFromAgent(b), verdict(b))
    }), { numRuns: 3000 })
    fc.assert(fc.property(message, (msg) => {
      assert.equal(checkFromAgent(encodeForAgent(msg)), undefined)
    }), { numRuns: 200 })
  })

  it('accepts repeated receivers and reply-to, in order', () => {
    const draft = decodeFromAgent(frame(field(TAG.receiver, 'a'), field(TAG.replyTo, 'x'), field(TAG.receiver, 'b')))
    assert.deepEqual(draft, { receivers: ['a', 'b'], replyTo: ['x'] })
  })

  it('matches the AssemblyScript SDK: performative numbers and field tags', () => {
    const sdkPerformatives = readFileSync(new URL('../../../agents/sdk/performative.ts', import.meta.url), 'utf8')
    const enumBody = /export enum Performative \{([^}]*)\}/.exec(sdkPerformatives)?.[1] ?? ''
    const members = [...enumBody.matchAll(/([A-Z_]+) = (\d+)/g)].map(m => [m[1].replaceAll('_', '-'), Number(m[2])])
    assert.deepEqual(members, PERFORMATIVES.map((p, i) => [p, i]))

    const sdkMessage = readFileSync(new URL('../../../agents/sdk/message.ts', import.meta.url), 'utf8')
    const tags = Object.fromEntries([...sdkMessage.matchAll(/const TAG_([A-Z_]+): u8 = (0x[0-9a-f]+)/g)]
      .map(m => [m[1].toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), Number(m[2])]))
    assert.deepEqual(tags, { ...TAG })
  })
})
