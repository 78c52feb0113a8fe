import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  AclValidationError, DraftFields, draftFieldsFromJson, draftFromJson, messageFromJson, messageToJson, type AclMessage
} from '../../../protocols/fipa/index.js'
import { nearValidInput, validMessage } from './arbitraries.js'

const base: AclMessage = { messageId: 'm', createdAt: 1, performative: 'INFORM', sender: 'a', receivers: ['b'] }

function throwsIssues (fn: () => unknown, fields: string[], reason?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AclValidationError, `got ${String(err)}`)
    assert.deepEqual(err.issues.map(i => i.field), fields)
    if (reason !== undefined) assert.match(err.issues[0].reason, reason)
    return true
  })
}

describe('protocols/fipa JSON codec', () => {
  it('keeps string content a JSON string and turns bytes into { base64 }', () => {
    assert.deepEqual(messageToJson({ ...base, content: 'héllo' }), { ...base, content: 'héllo' })
    assert.deepEqual(messageToJson({ ...base, content: new Uint8Array([0, 255, 16]) }), { ...base, content: { base64: 'AP8Q' } })
    assert.deepEqual(messageToJson({ ...base, content: Buffer.from('hi').subarray(1) }).content, { base64: 'aQ==' })
  })

  it('writes only the fields present, as a fresh object', () => {
    const msg: AclMessage = { ...base, replyTo: ['r'], language: undefined }
    const json = messageToJson(msg)
    assert.deepEqual(Object.keys(json), ['messageId', 'createdAt', 'performative', 'sender', 'receivers', 'replyTo'])
    assert.notEqual(json.receivers, msg.receivers)
  })

  it('round-trips every generated valid message through JSON text, field for field (property)', () => {
    fc.assert(fc.property(validMessage(), msg => {
      assert.deepEqual(messageFromJson(JSON.parse(JSON.stringify(messageToJson(msg)))), msg)
    }), { numRuns: 500 })
  })

  describe('messageFromJson', () => {
    it('accepts loose performative spellings and treats null as absent', () => {
      const msg = messageFromJson({ ...base, performative: 'query_if', language: null, content: { base64: 'AAE=' } })
      assert.deepEqual(msg, { ...base, performative: 'QUERY-IF', content: new Uint8Array([0, 1]) })
      assert.equal(Object.getPrototypeOf(msg.content), Uint8Array.prototype)
    })

    it('names an unknown performative', () => {
      throwsIssues(() => messageFromJson({ ...base, performative: 'HEARTBEAT' }), ['performative'], /unknown performative "HEARTBEAT"; valid: ACCEPT-PROPOSAL/)
      throwsIssues(() => messageFromJson({ ...base, performative: 3 }), ['performative'], /performative name/)
    })

    it('names malformed base64 content as content.base64', () => {
      for (const bad of ['AAE', 'A===', 'AA=A', 'AAE*', 'AAF=', '_-8=', 'AA==AA==']) {
        throwsIssues(() => messageFromJson({ ...base, content: { base64: bad } }), ['content.base64'], /standard base64/)
      }
    })

    it('refuses base64 content over the limit before decoding it', () => {
      throwsIssues(() => messageFromJson({ ...base, content: { base64: 'AAAAAAAA' } }, { maxContentBytes: 5 }), ['content.base64'], /decodes to 6 bytes, more than the limit of 5/)
      assert.equal((messageFromJson({ ...base, content: { base64: 'AAAAAAA=' } }, { maxContentBytes: 5 }).content as Uint8Array).length, 5)
    })

    it('names content of the wrong shape', () => {
      for (const bad of [42, ['x'], { base64: 1 }, { base64: 'AA==', extra: 1 }, { hex: '00' }, true]) {
        throwsIssues(() => messageFromJson({ ...base, content: bad }), ['content'], /must be a string, or \{ "base64"/)
      }
    })

    it('reports conversion and validation issues together, in field order', () => {
      throwsIssues(() => messageFromJson({ ...base, content: { base64: '!' }, sender: 'a b', performative: 'nope', extra: 1 }),
        ['performative', 'sender', 'content.base64', 'extra'])
    })

    it('rejects what is not a JSON object', () => {
      for (const bad of [null, 'x', 1, [base]]) throwsIssues(() => messageFromJson(bad), ['(root)'], /must be a JSON object/)
    })

    it('reports a "__proto__" key as an unknown field', () => {
      const json = JSON.parse('{"messageId":"m","createdAt":1,"performative":"INFORM","sender":"a","receivers":["b"],"__proto__":{"sender":"evil"}}') as unknown
      throwsIssues(() => messageFromJson(json), ['__proto__'], /unknown field/)
    })
  })

  describe('draftFromJson', () => {
    it('converts only content and performative, leaving the rest for the router', () => {
      const draft = draftFromJson({ performative: 'request', receivers: ['b', 'not an id'], content: { base64: 'AAE=' }, conversationId: null, custom: 1 })
      assert.deepEqual(draft, { performative: 'REQUEST', receivers: ['b', 'not an id'], content: new Uint8Array([0, 1]), custom: 1 })
      assert.deepEqual(draftFromJson({}), {})
      assert.deepEqual(draftFromJson({ content: 'text' }), { content: 'text' })
    })

    it('throws AclValidationError for a bad performative or content form', () => {
      throwsIssues(() => draftFromJson({ performative: 'reqest', content: { base64: '@@' } }), ['performative', 'content.base64'])
      throwsIssues(() => draftFromJson('draft'), ['(root)'])
      throwsIssues(() => draftFromJson({ content: { base64: 'AAAAAAAA' } }, { maxContentBytes: 3 }), ['content.base64'], /more than the limit of 3/)
    })
  })

  describe('draftFieldsFromJson', () => {
    it('converts as draftFromJson does, into named fields', () => {
      const d = draftFieldsFromJson({ performative: 'request', receivers: ['b', 'not an id'], content: { base64: 'AAE=' }, conversationId: null, replyBy: 'soon' })
      assert.ok(d instanceof DraftFields)
      assert.deepEqual({ ...d }, { ...new DraftFields(), performative: 'REQUEST', receivers: ['b', 'not an id'], content: new Uint8Array([0, 1]), replyBy: 'soon' })
      assert.deepEqual({ ...draftFieldsFromJson({}) }, { ...new DraftFields() })
      const inherited = Object.create({ colour: 'red' }) as Record<string, unknown>
      inherited.content = 'hi'
      assert.equal(draftFieldsFromJson(inherited)?.content, 'hi', 'inherited keys are not the draft\'s (Object.entries)')
    })

    it('leaves to draftFromJson what it must report: no object, a failed conversion, an unknown key', () => {
      for (const json of ['draft', null, [], { performative: 'reqest' }, { performative: 3 }, { content: { base64: '@@' } }, { content: 7 },
        { custom: 1 }, JSON.parse('{"__proto__":{"x":1}}'), { toString: 'x' }]) {
        assert.equal(draftFieldsFromJson(json), undefined, JSON.stringify(json))
      }
      assert.equal(draftFieldsFromJson({ content: { base64: 'AAAAAAAA' } }, { maxContentBytes: 3 }), undefined, 'base64 past the limit')
      assert.deepEqual(draftFieldsFromJson({ content: { base64: 'AAAAAAAA' } }, { maxContentBytes: 6 })?.content, new Uint8Array(6))
    })

    it('agrees with draftFromJson: the same draft, or undefined where it throws or keeps an unknown key (property)', () => {
      const known = new Set(Object.keys(new DraftFields()))
      fc.assert(fc.property(nearValidInput(), json => {
        const fields = draftFieldsFromJson(json)
        let reference: Record<string, unknown> | undefined
        try {
          reference = draftFromJson(json)
        } catch (err) {
          assert.ok(err instanceof AclValidationError)
          assert.equal(fields, undefined, 'draftFromJson throws: left to it')
          return
        }
        if (Object.keys(reference).some(k => !known.has(k))) {
          assert.equal(fields, undefined, 'an unknown key: left to draftFromJson')
          return
        }
        assert.ok(fields !== undefined, `converted by draftFromJson but not read: ${JSON.stringify(Object.keys(reference))}`)
        // A key set to undefined (possible from JS, not from JSON) is absent in both.
        const defined = (o: object): object => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
        assert.deepEqual(defined(fields), defined(reference))
      }), { numRuns: 2000 })
    })
  })
})
