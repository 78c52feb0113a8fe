import assert from 'node:assert/strict'
import {
  PERFORMATIVES, UnknownPerformativeError, decodeMessage, encodeMessage, isPerformative, messageFromJson,
  messageToJson, parsePerformative, performativeCode, performativeFromCode, type AclMessage
} from '../../../protocols/fipa/index.js'

describe('protocols/fipa performatives', () => {
  it('has the 22 acts of FIPA SC00037J, in the order of their stable codes', () => {
    assert.equal(PERFORMATIVES.length, 22)
    assert.equal(new Set(PERFORMATIVES).size, 22)
    // The codes are a wire contract: pin a few, so a reordering fails here.
    assert.equal(performativeCode('ACCEPT-PROPOSAL'), 0)
    assert.equal(performativeCode('INFORM'), 7)
    assert.equal(performativeCode('NOT-UNDERSTOOD'), 10)
    assert.equal(performativeCode('REQUEST'), 18)
    assert.equal(performativeCode('SUBSCRIBE'), 21)
  })

  for (const p of PERFORMATIVES) {
    describe(p, () => {
      it('parses from its canonical, lower-case, mixed-case and underscore spellings', () => {
        const lower = p.toLowerCase()
        const title = lower.split('-').map(w => w[0].toUpperCase() + w.slice(1)).join('_')
        for (const spelling of [p, lower, title, lower.replaceAll('-', '_'), ` ${p} `]) {
          assert.equal(parsePerformative(spelling), p, spelling)
        }
        assert.equal(isPerformative(p), true)
        if (lower !== p) assert.equal(isPerformative(lower), false, 'isPerformative accepts only the canonical form')
      })

      it('round-trips through its code', () => {
        const code = performativeCode(p)
        assert.equal(PERFORMATIVES[code], p)
        assert.equal(performativeFromCode(code), p)
      })

      it('round-trips through the msgpack and JSON codecs', () => {
        const msg: AclMessage = { messageId: `m-${p}`, createdAt: 1, performative: p, sender: 'a', receivers: ['b'] }
        assert.deepEqual(decodeMessage(encodeMessage(msg)), msg)
        const json = messageToJson(msg)
        assert.equal(json.performative, p)
        assert.deepEqual(messageFromJson(JSON.parse(JSON.stringify(json))), msg)
        assert.deepEqual(messageFromJson({ ...json, performative: p.toLowerCase().replaceAll('-', '_') }), msg)
      })
    })
  }

  it('rejects unknown names with UnknownPerformativeError listing the valid ones', () => {
    for (const bad of ['', 'QUERY', 'request-', 'REQUEST WHEN', 'inform--if', 'x'.repeat(100)]) {
      assert.throws(() => parsePerformative(bad), (err: unknown) => {
        assert.ok(err instanceof UnknownPerformativeError)
        assert.equal(err.code, 'PERFORMATIVE_UNKNOWN')
        assert.equal(err.name, 'UnknownPerformativeError')
        assert.equal(err.input, bad)
        assert.match(err.message, /ACCEPT-PROPOSAL, AGREE, .*SUBSCRIBE/)
        return true
      }, bad)
    }
    assert.throws(() => parsePerformative(42 as unknown as string), UnknownPerformativeError)
    assert.equal(isPerformative(undefined), false)
    assert.equal(isPerformative(7), false)
  })

  it('rejects unknown codes', () => {
    for (const code of [-1, 22, 1.5, NaN, Infinity]) {
      assert.throws(() => performativeFromCode(code), (err: unknown) => err instanceof UnknownPerformativeError && Object.is(err.input, code), String(code))
    }
    assert.throws(() => performativeCode('request' as never), UnknownPerformativeError)
  })
})
