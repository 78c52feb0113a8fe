import assert from 'node:assert/strict'
import fc from 'fast-check'
import { pack } from 'msgpackr'
import { SwimDecodeError, createSwimNode, decodeFrame, encodeFrame, encodedUpdateSize } from '../../../protocols/swim/index.js'
import type { MemberRecord, MemberUpdate, SwimFrame } from '../../../protocols/swim/index.js'

const id = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => s.length >= 1 && s.length <= 256)
const addrs = fc.array(fc.string({ unit: 'grapheme', maxLength: 40 }), { maxLength: 4 })
const incarnation = fc.maxSafeNat()
const seq = fc.nat({ max: 2 ** 32 - 1 })
const meta = fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined })

const update: fc.Arbitrary<MemberUpdate> = fc.oneof(
  fc.record({ id, incarnation, addrs, meta }).map(({ id, incarnation, addrs, meta }): MemberUpdate =>
    meta === undefined ? { kind: 'alive', id, incarnation, addrs } : { kind: 'alive', id, incarnation, addrs, meta }),
  fc.record({ id, incarnation, from: id }).map((r): MemberUpdate => ({ kind: 'suspect', ...r })),
  fc.record({ id, incarnation, from: id }).map((r): MemberUpdate => ({ kind: 'dead', ...r })),
  fc.record({ id, incarnation }).map((r): MemberUpdate => ({ kind: 'left', ...r }))
)
const updates = fc.array(update, { maxLength: 8 })
const record: fc.Arbitrary<MemberRecord> = fc.record({ id, incarnation, addrs, meta, state: fc.constantFrom('alive', 'suspect', 'dead', 'left') as fc.Arbitrary<MemberRecord['state']> })
  .map(({ meta, ...r }) => meta === undefined ? r : { ...r, meta })

const frame: fc.Arbitrary<SwimFrame> = fc.oneof(
  fc.record({ seq, target: id, updates }).map((f): SwimFrame => ({ type: 'ping', ...f })),
  fc.record({ seq, target: id, targetAddrs: addrs, nack: fc.boolean(), updates }).map((f): SwimFrame => ({ type: 'ping-req', ...f })),
  fc.record({ seq, updates }).map((f): SwimFrame => ({ type: 'ack', ...f })),
  fc.record({ seq, updates }).map((f): SwimFrame => ({ type: 'nack', ...f })),
  updates.map((u): SwimFrame => ({ type: 'gossip', updates: u })),
  fc.record({ join: fc.boolean(), reply: fc.boolean(), members: fc.array(record, { maxLength: 8 }) }).map((f): SwimFrame => ({ type: 'push-pull', ...f }))
)

function decodesOrRejects (bytes: Uint8Array): void {
  try {
    const f = decodeFrame(bytes)
    assert.ok(typeof f.type === 'string')
  } catch (err) {
    if (!(err instanceof SwimDecodeError)) throw new Error(`threw ${String(err)} instead of a SwimDecodeError`)
    assert.equal(err.name, 'SwimDecodeError')
    assert.equal(err.code, 'SWIM_DECODE_FAILED')
  }
}

describe('protocols/swim codec', () => {
  it('round-trips every valid frame', () => {
    fc.assert(fc.property(frame, (f) => {
      assert.deepStrictEqual(decodeFrame(encodeFrame(f)), f)
    }), { numRuns: 500 })
  })

  it('knows the encoded size of an update without encoding it', () => {
    const empty = encodeFrame({ type: 'gossip', updates: [] }).length
    fc.assert(fc.property(update, (u) => {
      // one more entry: key "u" (2 bytes) + a one-element array header (1) + the update
      assert.equal(encodeFrame({ type: 'gossip', updates: [u] }).length, empty + 3 + encodedUpdateSize(u))
    }), { numRuns: 500 })
  })

  it('throws only SwimDecodeError on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), decodesOrRejects), { numRuns: 2000 })
  })

  it('throws only SwimDecodeError on valid frames truncated or with bytes flipped', () => {
    fc.assert(fc.property(frame, fc.nat(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (f, cut, flips) => {
      const bytes = encodeFrame(f)
      decodesOrRejects(bytes.subarray(0, cut % (bytes.length + 1)))
      const mutated = new Uint8Array(bytes)
      for (const [at, value] of flips) mutated[at % mutated.length] = value
      decodesOrRejects(mutated)
    }), { numRuns: 1000 })
  })

  it('throws only SwimDecodeError on well-formed msgpack of the wrong shape', () => {
    fc.assert(fc.property(fc.anything({ maxDepth: 3 }), (value) => {
      let bytes: Uint8Array
      try { bytes = pack(value) } catch { return }
      decodesOrRejects(bytes)
    }), { numRuns: 1000 })
    fc.assert(fc.property(fc.record({ v: fc.constant(1), t: fc.constantFrom('ping', 'ping-req', 'ack', 'nack', 'gossip', 'push-pull'), s: fc.anything(), n: fc.anything(), u: fc.anything(), m: fc.anything(), j: fc.anything(), r: fc.anything() }, { requiredKeys: ['v', 't'] }), (value) => {
      let bytes: Uint8Array
      try { bytes = pack(value) } catch { return }
      decodesOrRejects(bytes)
    }), { numRuns: 1000 })
  })

  const cases: Array<[string, unknown, string]> = [
    ['a wrong version', { v: 2, t: 'ping', s: 1, n: 'a' }, 'v'],
    ['an unknown type', { v: 1, t: 'pong', s: 1 }, 't'],
    ['a negative seq', { v: 1, t: 'ack', s: -1 }, 's'],
    ['a seq of 2^32', { v: 1, t: 'ack', s: 2 ** 32 }, 's'],
    ['an empty target', { v: 1, t: 'ping', s: 1, n: '' }, 'n'],
    ['an unknown update kind', { v: 1, t: 'gossip', u: [[7, 'a', 1]] }, 'u[0][0]'],
    ['a fractional incarnation', { v: 1, t: 'gossip', u: [[3, 'a', 1.5]] }, 'u[0][2]'],
    ['a suspect without accuser', { v: 1, t: 'gossip', u: [[1, 'a', 1]] }, 'u[0]'],
    ['a push-pull without members', { v: 1, t: 'push-pull', j: false, r: false }, 'm'],
    ['a non-boolean nack flag', { v: 1, t: 'ping-req', s: 1, n: 'a', a: [], k: 1 }, 'k'],
    ['a map at the top that is an array', [1, 'ping'], '(frame)']
  ]
  for (const [name, value, path] of cases) {
    it(`rejects ${name}, naming ${path}`, () => {
      assert.throws(() => decodeFrame(pack(value)), (err: unknown) => err instanceof SwimDecodeError && err.path === path)
    })
  }

  it('rejects frames over maxFrameBytes before decoding, and trailing bytes', () => {
    const bytes = encodeFrame({ type: 'gossip', updates: [{ kind: 'left', id: 'x'.repeat(200), incarnation: 1 }] })
    assert.throws(() => decodeFrame(bytes, { maxFrameBytes: 100 }), (err: unknown) => err instanceof SwimDecodeError && err.path === '(input)')
    const trailing = new Uint8Array([...encodeFrame({ type: 'ack', seq: 1, updates: [] }), 0])
    assert.throws(() => decodeFrame(trailing), SwimDecodeError)
    assert.throws(() => decodeFrame(new Uint8Array(0)), SwimDecodeError)
    assert.throws(() => decodeFrame('ping' as unknown as Uint8Array), SwimDecodeError)
  })

  it('rejects meta larger than the limit', () => {
    const bytes = encodeFrame({ type: 'gossip', updates: [{ kind: 'alive', id: 'a', incarnation: 0, addrs: [], meta: new Uint8Array(100) }] })
    assert.throws(() => decodeFrame(bytes, { maxMetaBytes: 50 }), (err: unknown) => err instanceof SwimDecodeError && err.path === 'u[0][4]')
  })

  it('interns decoded member ids when asked', () => {
    const canonical = 'member-a'
    const f = decodeFrame(encodeFrame({ type: 'ping', seq: 1, target: 'member-a', updates: [] }), { intern: (s) => s === canonical ? canonical : s })
    assert.equal(f.type === 'ping' && f.target, canonical)
  })

  it('never lets garbage escape from a node: handle returns it as rejected', () => {
    const node = createSwimNode({ id: 'n', random: () => 0.5 })
    node.start(0)
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
      const out = node.handle('peer', bytes, 1)
      if (out.rejected !== undefined) assert.ok(out.rejected instanceof SwimDecodeError)
    }), { numRuns: 500 })
    assert.ok(node.metrics.decodeErrors > 0)
  })
})
