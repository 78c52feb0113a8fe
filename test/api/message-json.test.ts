import assert from 'node:assert/strict'
import type { AclMessage } from '../../protocols/fipa/types.js'
import { aclMessageToJson } from '../../src/api/message-json.js'

const base: AclMessage = {
  messageId: 'm1', createdAt: 1, performative: 'INFORM', sender: 'a', receivers: ['b']
}

describe('api: aclMessageToJson', () => {
  it('keeps string content a string', () => {
    assert.deepEqual(aclMessageToJson({ ...base, content: 'hé' }), { ...base, content: 'hé' })
  })

  it('turns bytes into { base64 }, honouring the view\'s offset and length', () => {
    const backing = new Uint8Array([9, 9, 0, 1, 2, 9])
    const json = aclMessageToJson({ ...base, content: backing.subarray(2, 5) })
    assert.deepEqual(json.content, { base64: 'AAEC' })
  })

  it('drops fields that are undefined and copies the rest', () => {
    const json = aclMessageToJson({ ...base, conversationId: 'c', inReplyTo: undefined, replyBy: 5 })
    assert.deepEqual(json, { ...base, conversationId: 'c', replyBy: 5 })
    assert.equal(Object.hasOwn(json, 'inReplyTo'), false)
  })

  it('survives JSON.stringify round trips', () => {
    const json = aclMessageToJson({ ...base, content: new Uint8Array([255]) })
    assert.deepEqual(JSON.parse(JSON.stringify(json)), json)
  })
})
