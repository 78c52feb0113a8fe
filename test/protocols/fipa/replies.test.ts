import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  MAX_REASON_CHARS, createReply, failure, notUnderstood, validateMessage, type AclMessage
} from '../../../protocols/fipa/index.js'
import { validMessage } from './arbitraries.js'

const stamp = { messageId: 'reply-1', createdAt: 2000 }
const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

const request: AclMessage = {
  messageId: 'm-1',
  createdAt: 1000,
  performative: 'REQUEST',
  sender: 'buyer',
  receivers: ['seller', 'seller-backup'],
  content: '(price widget)',
  language: 'fipa-sl',
  encoding: 'utf-8',
  ontology: 'trading',
  protocol: 'fipa-request',
  conversationId: 'c-1',
  replyWith: 'rw-1',
  replyBy: 1500,
  traceparent: TP,
  tracestate: 'k=v'
}

describe('protocols/fipa reply builders', () => {
  describe('createReply', () => {
    it('threads the reply: receivers, sender, conversation-id, in-reply-to, context fields', () => {
      const reply = createReply(request, 'AGREE', stamp)
      assert.deepEqual(reply, {
        messageId: 'reply-1',
        createdAt: 2000,
        performative: 'AGREE',
        sender: 'seller',
        receivers: ['buyer'],
        language: 'fipa-sl',
        ontology: 'trading',
        protocol: 'fipa-request',
        conversationId: 'c-1',
        inReplyTo: 'rw-1',
        traceparent: TP,
        tracestate: 'k=v'
      })
      assert.ok(validateMessage(reply))
    })

    it('answers reply-to instead of the sender when given', () => {
      const reply = createReply({ ...request, replyTo: ['buyer-inbox', 'auditor'] }, 'INFORM', stamp)
      assert.deepEqual(reply.receivers, ['buyer-inbox', 'auditor'])
    })

    it('uses the message id as in-reply-to when there is no reply-with', () => {
      const { replyWith, ...noReplyWith } = request
      assert.equal(replyWith, 'rw-1')
      assert.equal(createReply(noReplyWith, 'INFORM', stamp).inReplyTo, 'm-1')
    })

    it('takes the fields the caller sets, but never its threading', () => {
      const reply = createReply(request, 'INFORM', stamp, {
        sender: 'seller-backup', content: new Uint8Array([1]), encoding: 'cbor', replyWith: 'rw-2', replyBy: 3000, ontology: 'pricing'
      })
      assert.equal(reply.sender, 'seller-backup')
      assert.deepEqual(reply.content, new Uint8Array([1]))
      assert.equal(reply.encoding, 'cbor')
      assert.equal(reply.replyWith, 'rw-2')
      assert.equal(reply.replyBy, 3000)
      assert.equal(reply.ontology, 'pricing')
      assert.equal(reply.conversationId, 'c-1')
      assert.equal(reply.inReplyTo, 'rw-1')
    })

    it('does not share arrays with the original', () => {
      const original = { ...request, replyTo: ['x'] }
      const reply = createReply(original, 'INFORM', stamp)
      reply.receivers.push('y')
      assert.deepEqual(original.replyTo, ['x'])
    })

    it('builds a valid reply to any valid message (property)', () => {
      fc.assert(fc.property(validMessage(), msg => {
        const reply = createReply(msg, 'INFORM', stamp)
        validateMessage(reply)
        assert.deepEqual(reply.receivers, msg.replyTo ?? [msg.sender])
        assert.equal(reply.inReplyTo, msg.replyWith ?? msg.messageId)
        assert.equal(reply.conversationId, msg.conversationId)
        assert.equal(reply.sender, msg.receivers[0])
      }), { numRuns: 300 })
    })
  })

  describe('notUnderstood', () => {
    it('answers a partly valid message with the reason as content (FIPA SC00037J §3.11)', () => {
      const broken = { sender: 'buyer', receivers: 'seller', performative: 'ASK', conversationId: 'c-9', messageId: 'm-9', traceparent: 'junk', protocol: '' }
      const reply = notUnderstood(broken, 'performative: must be one of ...', 'router.node-1', stamp)
      assert.deepEqual(reply, {
        messageId: 'reply-1',
        createdAt: 2000,
        performative: 'NOT-UNDERSTOOD',
        sender: 'router.node-1',
        receivers: ['buyer'],
        content: 'performative: must be one of ...',
        conversationId: 'c-9',
        inReplyTo: 'm-9'
      })
      assert.ok(validateMessage(reply))
    })

    it('copies only the threading fields that are themselves valid', () => {
      const reply = notUnderstood({ ...request, replyTo: ['inbox', 'inbox'] }, 'bad', 'seller', stamp)
      assert.ok(reply)
      assert.deepEqual(reply.receivers, ['buyer'], 'an invalid reply-to is ignored')
      assert.equal(reply.inReplyTo, 'rw-1')
      assert.equal(reply.traceparent, TP)
      assert.equal(reply.protocol, 'fipa-request')
      assert.equal(reply.language, undefined)
      assert.deepEqual(notUnderstood({ ...request, replyTo: ['inbox'] }, 'bad', 'seller', stamp)?.receivers, ['inbox'])
      assert.equal(notUnderstood({ sender: 'a', replyWith: 'x'.repeat(500), messageId: 'm' }, 'bad', 'b', stamp)?.inReplyTo, 'm')
    })

    it('returns undefined when there is no usable sender', () => {
      for (const original of [{}, { sender: 'not valid' }, { sender: 42 }, { sender: ['a'] }, null, undefined, 'text']) {
        assert.equal(notUnderstood(original, 'bad', 'router', stamp), undefined)
      }
    })

    it('keeps the reason valid content: cut to MAX_REASON_CHARS, lone surrogates replaced', () => {
      const long = notUnderstood({ sender: 'a' }, 'x'.repeat(MAX_REASON_CHARS + 10), 'b', stamp)
      assert.equal((long?.content as string).length, MAX_REASON_CHARS)
      const odd = notUnderstood({ sender: 'a' }, 'bad \ud800 input', 'b', stamp)
      assert.equal(odd?.content, 'bad \ufffd input')
      assert.ok(validateMessage(odd))
    })
  })

  describe('failure', () => {
    it('is a reply with the reason as plain-text content (FIPA SC00037J §3.7)', () => {
      const reply = failure(request, 'no node hosts seller', 'router.node-1', stamp)
      assert.deepEqual(reply, {
        messageId: 'reply-1',
        createdAt: 2000,
        performative: 'FAILURE',
        sender: 'router.node-1',
        receivers: ['buyer'],
        content: 'no node hosts seller',
        protocol: 'fipa-request',
        conversationId: 'c-1',
        inReplyTo: 'rw-1',
        traceparent: TP,
        tracestate: 'k=v'
      })
      assert.ok(validateMessage(reply))
    })
  })
})
