import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ACL_FIELDS, AclValidationError, DraftFields, stampDraft, stampFields, validateMessage } from '../../../protocols/fipa/index.js'
import { nearValidInput } from './arbitraries.js'

describe('protocols/fipa stampDraft', () => {
  it('puts the fields in SPEC order, stamps over the draft, undefined ones left out', () => {
    const m = stampDraft({ content: 'hi', performative: 'INFORM', sender: 'spoof', receivers: ['b'], protocol: undefined }, { sender: 'a', createdAt: 5, messageId: 'm' })
    assert.deepEqual(Object.keys(m), ['messageId', 'createdAt', 'performative', 'sender', 'receivers', 'content'])
    assert.equal(m.sender, 'a')
    assert.deepEqual(validateMessage(m), { messageId: 'm', createdAt: 5, performative: 'INFORM', sender: 'a', receivers: ['b'], content: 'hi' })
    assert.deepEqual(Object.keys(stampDraft(Object.fromEntries(ACL_FIELDS.map(f => [f, f])), {})), [...ACL_FIELDS])
  })

  it('leaves a draft with an unknown field (or an own __proto__) to validation, which names it', () => {
    for (const draft of [{ performative: 'INFORM', receivers: ['b'], colour: 'red' }, JSON.parse('{"performative":"INFORM","receivers":["b"],"__proto__":{"x":1}}')]) {
      const m = stampDraft(draft, { sender: 'a', createdAt: 5, messageId: 'm' })
      assert.equal(Object.getPrototypeOf(m), Object.prototype, 'no prototype was set')
      assert.throws(() => validateMessage(m), (err: unknown) => err instanceof AclValidationError && /unknown field/.test(err.message))
    }
  })

  it('stampFields builds what stampDraft builds, key order included (property)', () => {
    // Drafts of known fields only (what DraftFields holds), stamps all defined (what the router passes).
    const draft = nearValidInput().filter((x): x is Record<string, unknown> =>
      typeof x === 'object' && x !== null && !Array.isArray(x) && Object.keys(x).every(k => (ACL_FIELDS as readonly string[]).includes(k)))
    const stamps = fc.dictionary(fc.constantFrom(...ACL_FIELDS), fc.oneof(fc.string(), fc.integer(), fc.array(fc.string(), { maxLength: 2 })), { maxKeys: 8 })
    fc.assert(fc.property(draft, stamps, (d, s) => {
      const fields = Object.assign(new DraftFields(), { ...d })
      const fast = stampFields(fields, s)
      const reference = stampDraft({ ...d }, s)
      assert.deepEqual(Object.keys(fast), Object.keys(reference))
      assert.deepEqual(fast, reference)
    }), { numRuns: 1000 })
  })

  it('DraftFields: every field of SPEC.md §1, undefined until set', () => {
    const d = new DraftFields()
    assert.deepEqual(Object.keys(d), [...ACL_FIELDS])
    assert.ok(Object.values(d).every(v => v === undefined))
    assert.deepEqual(stampFields(d, { messageId: 'm' }), { messageId: 'm', createdAt: undefined, performative: undefined, sender: undefined, receivers: undefined })
  })
})
