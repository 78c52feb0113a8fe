import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  NEW_TRACE_RANDOM_BYTES, TraceparentError, childTraceparent, formatTraceparent, newTraceparent, newTraceparentFrom, parseTraceparent,
  tryParseTraceparent
} from '../../../protocols/fipa/index.js'
import { isTraceparent00 } from '../../../protocols/fipa/rules.js'
import { explainTraceparent } from '../../../protocols/fipa/trace.js'

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

/** A deterministic byte source: 1, 2, 3, ... */
function counter (): (n: number) => Uint8Array {
  let next = 1
  return n => Uint8Array.from({ length: n }, () => next++ & 0xff)
}

describe('protocols/fipa W3C trace context', () => {
  it('parses the example of W3C Trace Context §3.2', () => {
    assert.deepEqual(parseTraceparent(TP), { version: '00', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', flags: 1 })
    assert.equal(parseTraceparent(TP.slice(0, -2) + '00').flags, 0)
  })

  describe('rejects each malformed form, saying which', () => {
    const bad: Array<[string, string, RegExp]> = [
      ['empty', '', /version must be 2 lower-case hex digits/],
      ['a non-hex version', 'x0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', /version must be/],
      ['an upper-case version', 'FE-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', /version must be/],
      ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', /version ff is invalid/],
      ['version 00 too short', TP.slice(0, 54), /55 characters, not 54/],
      ['version 00 too long', `${TP}-extra`, /55 characters, not 61/],
      ['a misplaced separator', '00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01', /separated by "-"/],
      ['another separator', '00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01', /separated by "-"/],
      ['an upper-case trace id', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', /trace-id must be 32 lower-case hex/],
      ['a non-hex trace id', '00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01', /trace-id must be 32 lower-case hex/],
      ['an all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', /trace-id must not be all zeros/],
      ['an upper-case parent id', '00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01', /parent-id must be 16 lower-case hex/],
      ['an all-zero parent id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', /parent-id must not be all zeros/],
      ['non-hex flags', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g', /trace-flags must be 2 lower-case hex/],
      ['upper-case flags', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A', /trace-flags/],
      ['a later version, too short', '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0', /at least 55 characters/],
      ['a later version, not continued by "-"', `01${TP.slice(2)}x`, /must continue with "-"/]
    ]
    for (const [what, value, reason] of bad) {
      it(what, () => {
        assert.throws(() => parseTraceparent(value), (err: unknown) => {
          assert.ok(err instanceof TraceparentError)
          assert.equal(err.code, 'TRACEPARENT_INVALID')
          assert.equal(err.value, value)
          assert.match(err.reason, reason)
          return true
        })
        assert.equal(tryParseTraceparent(value), undefined)
      })
    }
    it('a non-string', () => {
      assert.throws(() => parseTraceparent(42 as unknown as string), TraceparentError)
      assert.equal(tryParseTraceparent(undefined), undefined)
    })
  })

  it('reads a later version by its first 55 characters (§3.2.4)', () => {
    assert.deepEqual(parseTraceparent(`cc${TP.slice(2)}-what-comes-next`), { version: 'cc', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', flags: 1 })
    assert.equal(parseTraceparent(`01${TP.slice(2)}`).version, '01')
  })

  it('formats version 00 and refuses malformed ids', () => {
    assert.equal(formatTraceparent({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', flags: 1 }), TP)
    assert.throws(() => formatTraceparent({ traceId: '0'.repeat(32), parentId: '00f067aa0ba902b7', flags: 1 }), TraceparentError)
    assert.throws(() => formatTraceparent({ traceId: 'abc', parentId: '00f067aa0ba902b7', flags: 1 }), TraceparentError)
    assert.throws(() => formatTraceparent({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', flags: 256 }), TraceparentError)
  })

  it('starts a trace from the random source given', () => {
    assert.equal(newTraceparent(counter()), '00-0102030405060708090a0b0c0d0e0f10-1112131415161718-01')
    assert.equal(newTraceparent(counter(), { sampled: false }).slice(-3), '-00')
    // A degenerate source cannot produce the all-zero ids W3C forbids.
    const zeros = newTraceparent(n => new Uint8Array(n))
    assert.equal(zeros, '00-00000000000000000000000000000001-0000000000000001-01')
    assert.deepEqual(parseTraceparent(zeros).traceId, '00000000000000000000000000000001')
    assert.throws(() => newTraceparent(() => new Uint8Array(3)), TraceparentError)
  })

  it('starts a trace from bytes the caller holds, as newTraceparent does from the same bytes', () => {
    const bytes = new Uint8Array(40).map((_, i) => i)
    assert.equal(newTraceparentFrom(bytes, 1), '00-0102030405060708090a0b0c0d0e0f10-1112131415161718-01')
    assert.equal(newTraceparentFrom(bytes, 16, { sampled: false }), '00-101112131415161718191a1b1c1d1e1f-2021222324252627-00')
    assert.equal(newTraceparentFrom(new Uint8Array(24), 0), '00-00000000000000000000000000000001-0000000000000001-01')
    assert.equal(newTraceparentFrom(bytes, 1), '00-0102030405060708090a0b0c0d0e0f10-1112131415161718-01', 'no state kept between calls')
    for (const at of [-1, 17, 1.5]) assert.throws(() => newTraceparentFrom(bytes, at), RangeError, String(at))
    fc.assert(fc.property(fc.uint8Array({ minLength: NEW_TRACE_RANDOM_BYTES, maxLength: NEW_TRACE_RANDOM_BYTES }), fc.boolean(), (b, sampled) => {
      let next = 0
      const stream = (n: number): Uint8Array => b.slice(next, (next += n))
      const value = newTraceparentFrom(b, 0, { sampled })
      assert.equal(value, newTraceparent(stream, { sampled }))
      assert.ok(isTraceparent00(value), value)
    }), { numRuns: 500 })
  })

  it('derives a child: same trace id, new parent id, version 00, known flags only', () => {
    const child = childTraceparent(TP, counter())
    assert.equal(child, '00-4bf92f3577b34da6a3ce929d0e0e4736-0102030405060708-01')
    assert.equal(childTraceparent(`cc${TP.slice(2, -2)}ff-more`, counter()), '00-4bf92f3577b34da6a3ce929d0e0e4736-0102030405060708-03')
    assert.equal(childTraceparent(parseTraceparent(TP), counter()), child)
    assert.throws(() => childTraceparent('nope', counter()), TraceparentError)
  })

  it('refuses a context whose trace id is malformed; an all-zero parent id from the source ends in 01', () => {
    const ctx = parseTraceparent(TP)
    for (const traceId of ['0'.repeat(32), ctx.traceId.toUpperCase(), ctx.traceId.slice(1), `${ctx.traceId}0`, 42 as unknown as string]) {
      assert.throws(() => childTraceparent({ ...ctx, traceId }, counter()), TraceparentError, String(traceId))
    }
    const zeros = (n: number): Uint8Array => new Uint8Array(n)
    assert.equal(childTraceparent(TP, zeros), `00-${ctx.traceId}-0000000000000001-01`)
  })

  it('a child of any valid traceparent keeps its trace id, takes the parent id from the source and known flags only (property)', () => {
    const hex = (n: number): fc.Arbitrary<string> => fc.uint8Array({ minLength: n, maxLength: n }).map(b => Buffer.from(b).toString('hex'))
    fc.assert(fc.property(hex(16), hex(8), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ minLength: 8, maxLength: 8 }), (traceId, parentId, flags, random) => {
      fc.pre(!/^0+$/.test(traceId) && !/^0+$/.test(parentId))
      const parent = `00-${traceId}-${parentId}-${flags.toString(16).padStart(2, '0')}`
      const child = childTraceparent(parent, () => random)
      const own = random.every(b => b === 0) ? '0'.repeat(15) + '1' : Buffer.from(random).toString('hex')
      assert.equal(child, `00-${traceId}-${own}-0${flags & 3}`)
      assert.equal(explainTraceparent(child), undefined)
      assert.equal(childTraceparent(parseTraceparent(parent), () => random), child)
    }), { numRuns: 500 })
  })

  it('the fast version-00 check agrees with the explained parse (property)', () => {
    const hexish = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABx-'), minLength: 0, maxLength: 60 })
    const nearTp = fc.tuple(fc.constantFrom('00', '01', 'ff', '0A'), fc.string({ unit: fc.constantFrom(...'0000000123abcdefG'), minLength: 31, maxLength: 33 }),
      fc.constantFrom('-', '_'), fc.string({ unit: fc.constantFrom(...'000000012abF'), minLength: 15, maxLength: 17 }), fc.constantFrom('01', '00', 'Ab', 'g1'))
      .map(([v, t, sep, p, f]) => `${v}-${t}${sep}${p}-${f}`)
    fc.assert(fc.property(fc.oneof(hexish, nearTp, fc.constant(TP)), v => {
      assert.equal(isTraceparent00(v), explainTraceparent(v) === undefined, v)
      if (isTraceparent00(v)) assert.equal(formatTraceparent(parseTraceparent(v)), v)
    }), { numRuns: 3000 })
  })
})
