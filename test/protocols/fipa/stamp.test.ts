import assert from 'node:assert/strict'
import { ACL_FIELDS, AclValidationError, stampDraft, validateMessage } from '../../../protocols/fipa/index.js'

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
})
