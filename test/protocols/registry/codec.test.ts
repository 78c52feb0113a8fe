import assert from 'node:assert/strict'
import fc from 'fast-check'
import { pack } from 'msgpackr'
import {
  Registry, RegistryDecodeError, decodeAck, decodeDelta, decodeDigest, decodeEntry, decodeGossip, decodeHlc, decodeKnowledge,
  decodeSyncFrame, encodeAck, encodeDelta, encodeDigest, encodeEntry, encodeGossip, encodeHlc, encodeKnowledge, encodeSyncFrame,
  type RegistryDelta
} from '../../../protocols/registry/index.js'
import { testSigning } from './keys.js'

function sample (): Registry {
  const a = new Registry({ nodeId: '12D3KooWNodeA', signing: testSigning('12D3KooWNodeA'), bucketCount: 8 })
  const b = new Registry({ nodeId: '12D3KooWNodeB', signing: testSigning('12D3KooWNodeB'), bucketCount: 8 })
  a.apply({ type: 'put', agentId: 'planner', node: a.nodeId, state: 'running', capabilities: [{ name: 'plan', description: 'Plans things', version: '2.1.0', schema: { type: 'object', required: ['goal'], properties: { goal: { type: 'string' } } } }] }, 1_700_000_000_000)
  b.apply({ type: 'put', agentId: 'planner', node: b.nodeId, state: 'loaded' }, 1_700_000_000_001)
  a.merge(b.snapshot(), { now: 1_700_000_000_002 })
  a.apply({ type: 'put', agentId: 'gone', node: a.nodeId, state: 'stopped' }, 1_700_000_000_003)
  a.apply({ type: 'remove', agentId: 'gone' }, 1_700_000_000_004)
  return a
}

const decoders: Array<[string, (b: Uint8Array) => unknown]> = [
  ['delta', decodeDelta], ['digest', decodeDigest], ['ack', decodeAck], ['entry', decodeEntry], ['knowledge', decodeKnowledge],
  ['hlc', decodeHlc], ['gossip', decodeGossip], ['sync', decodeSyncFrame]
]

function onlyDecodeErrors (bytes: Uint8Array): void {
  for (const [, decode] of decoders) {
    try {
      decode(bytes)
    } catch (err) {
      if (!(err instanceof RegistryDecodeError)) throw err
      assert.equal(err.code, 'REGISTRY_DECODE_FAILED')
    }
  }
}

describe('registry codec', () => {
  it('round-trips a snapshot with concurrent versions, a tombstone, a schema and a context', () => {
    const reg = sample()
    const snap = reg.snapshot()
    assert.equal(reg.entry('planner')?.versions.length, 2)
    assert.deepEqual(decodeDelta(encodeDelta(snap)), snap)
    assert.deepEqual(encodeDelta(decodeDelta(encodeDelta(snap))), encodeDelta(snap), 'canonical: re-encoding gives the same bytes')
  })

  it('round-trips digests, acks, stored rows, gossip messages and sync frames', () => {
    const reg = sample()
    const digest = reg.digest()
    assert.deepEqual(decodeDigest(encodeDigest(digest)), digest)
    const ack = reg.tombstoneAck()
    assert.equal(ack.tombstones.length, 1)
    assert.deepEqual(decodeAck(encodeAck(ack)), ack)
    const entry = reg.entry('planner')
    assert.ok(entry !== undefined)
    assert.deepEqual(decodeEntry(encodeEntry(entry)), entry)
    for (const k of reg.context()) assert.deepEqual(decodeKnowledge(encodeKnowledge(k)), k)
    assert.deepEqual(decodeKnowledge(encodeKnowledge({ node: 'n', upTo: 3, extra: [5, 9] })), { node: 'n', upTo: 3, extra: [5, 9] })
    assert.deepEqual(decodeHlc(encodeHlc(reg.hlc)), reg.hlc)
    const delta = reg.snapshot()
    assert.deepEqual(decodeGossip(encodeGossip({ type: 'delta', delta })), { type: 'delta', delta })
    assert.deepEqual(decodeGossip(encodeGossip({ type: 'ack', ack })), { type: 'ack', ack })
    assert.deepEqual(decodeSyncFrame(encodeSyncFrame({ type: 'digest', digest })), { type: 'digest', digest })
    assert.deepEqual(decodeSyncFrame(encodeSyncFrame({ type: 'reply', digest, delta })), { type: 'reply', digest, delta })
    assert.deepEqual(decodeSyncFrame(encodeSyncFrame({ type: 'entries', delta })), { type: 'entries', delta })
  })

  it('keeps a gossip delta of one write small', () => {
    const reg = new Registry({ nodeId: '12D3KooWGyJpT4ZbuH1PNXBH3bC7wLzvrA5bSr3d4u9aZDS5Hu2Y', signing: testSigning('12D3KooWGyJpT4ZbuH1PNXBH3bC7wLzvrA5bSr3d4u9aZDS5Hu2Y') })
    const { delta } = reg.apply({ type: 'put', agentId: 'echo-17', node: reg.nodeId, state: 'running', capabilities: [{ name: 'echo', version: '1.0.0' }] }, 1_700_000_000_000)
    const size = encodeGossip({ type: 'delta', delta: delta as RegistryDelta }).length
    // ~140 bytes of write, 66 of signature
    assert.ok(size < 220, `${size} bytes`)
  })

  it('names what is wrong', () => {
    const sig = new Uint8Array(64)
    const rec = ['running', [], 5, 5]
    const cases: Array<[unknown, (b: Uint8Array) => unknown, string]> = [
      [{ e: [['x', [['a', 0, 5, 0, null, sig]]]] }, decodeDelta, 'e[0][1][0][1]'],
      [{ e: [['x', [['a', 2 ** 53, 5, 0, null, sig]]]] }, decodeDelta, 'e[0][1][0][1]'],
      [{ e: [['x', [['', 1, 5, 0, null, sig]]]] }, decodeDelta, 'e[0][1][0][0]'],
      [{ e: [['x', [['a', 1, 5, 0, ['asleep', [], 5, 5], sig]]]] }, decodeDelta, 'e[0][1][0][4][0]'],
      [{ e: [['x', [['a', 1, 5, 0, ['running', [], 5, 6], sig]]]] }, decodeDelta, 'e[0][1][0][4][3]'],
      [{ e: [['x', [['a', 1, 4, 0, rec, sig]]]] }, decodeDelta, 'e[0][1][0][4][2]'],
      [{ e: [['x', [['a', 1, 5, 0, ['running', [], 5, 5, 0], sig]]]] }, decodeDelta, 'e[0][1][0][4][4]'],
      [{ e: [['x', [['a', 1, 5, 0, ['running', [], 5, 5, 1.5], sig]]]] }, decodeDelta, 'e[0][1][0][4][4]'],
      [{ e: [['x', [['a', 1, 5, 0, ['running', [], 5, 5, 2, 0], sig]]]] }, decodeDelta, 'e[0][1][0][4]'],
      [{ e: [['x', [['a', 1, -1, 0, null, sig]]]] }, decodeDelta, 'e[0][1][0].wall'],
      [{ e: [['x', [['a', 1, 5, 0, rec, new Uint8Array(63)]]]] }, decodeDelta, 'e[0][1][0][5]'],
      [{ e: [['x', [[[['a', 1]], 0, 5, 0, null]]]] }, decodeDelta, 'e[0][1][0]'],
      [{ e: [['x', []]] }, decodeDelta, 'e[0][1]'],
      [{ e: [['bad id!', [['a', 1, 5, 0, null, sig]]]] }, decodeDelta, 'e[0][0]'],
      [{ e: [], b: [4, [1]] }, decodeDelta, ''],
      [{ e: [], c: [], b: [4, [7]] }, decodeDelta, 'b[1][0]'],
      [{ e: [], extra: 1 }, decodeDelta, ''],
      [{ n: 2, h: new Uint8Array(15), x: new Uint8Array(8), r: new Uint8Array(8) }, decodeDigest, 'h'],
      [['n', 3, [4]], decodeKnowledge, '[2]'],
      [{ v: 1, t: 'delta', d: { e: [] } }, decodeGossip, 'v'],
      [{ v: 2, t: 'hello' }, decodeSyncFrame, 't']
    ]
    for (const [value, decode, path] of cases) {
      assert.throws(() => decode(pack(value)), (err: unknown) => err instanceof RegistryDecodeError && err.path === path, `${JSON.stringify(value)} → ${path}`)
    }
  })

  it('refuses empty input, non-bytes, trailing bytes and truncated input', () => {
    const good = encodeDelta(sample().snapshot())
    const bad: unknown[] = [new Uint8Array(0), 'text', null, Uint8Array.from([...good, 0]), good.subarray(0, good.length - 3)]
    for (const b of bad) assert.throws(() => decodeDelta(b as Uint8Array), RegistryDecodeError)
  })

  it('neutralises __proto__ keys in schemas', () => {
    const bytes = pack({ e: [['x', [['a', 1, 0, 0, ['running', [{ n: 'c', s: JSON.parse('{"__proto__": {"polluted": true}}') }], 0, 0], new Uint8Array(64)]]]] })
    const d = decodeDelta(bytes)
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
    assert.equal(Object.getPrototypeOf(d.entries[0].versions[0].record?.capabilities[0].schema), Object.prototype)
  })

  it('throws only RegistryDecodeError on random bytes (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), onlyDecodeErrors), { numRuns: 1_000 })
  })

  it('throws only RegistryDecodeError on random msgpack values (property)', () => {
    fc.assert(fc.property(fc.anything({ withMap: true, withSet: true, withTypedArray: true, withDate: true, withBigInt: true, withNullPrototype: true }), v => {
      let bytes: Uint8Array
      try {
        bytes = pack(v)
      } catch {
        return
      }
      onlyDecodeErrors(bytes)
    }), { numRuns: 1_000 })
  })

  it('throws only RegistryDecodeError on mutated valid messages (property)', () => {
    const reg = sample()
    const valid = [
      encodeSyncFrame({ type: 'reply', digest: reg.digest(), delta: reg.snapshot() }),
      encodeGossip({ type: 'delta', delta: reg.snapshot() }),
      encodeGossip({ type: 'ack', ack: reg.tombstoneAck() })
    ]
    fc.assert(fc.property(fc.nat(valid.length - 1), fc.array(fc.record({ at: fc.nat(), byte: fc.nat(255) }), { minLength: 1, maxLength: 6 }), (which, edits) => {
      const bytes = Uint8Array.from(valid[which])
      for (const e of edits) bytes[e.at % bytes.length] = e.byte
      onlyDecodeErrors(bytes)
    }), { numRuns: 2_000 })
  })
})
