import assert from 'node:assert/strict'
import type { AclMessage } from '../../protocols/fipa/index.js'
import { ClientSessions, ReplyTimeoutError } from '../../src/api/clients.js'

function message (fields: Partial<AclMessage>): AclMessage {
  return { messageId: 'm-1', createdAt: 1, performative: 'INFORM', sender: 'echo', receivers: ['client-a'], ...fields }
}

describe('API client sessions', () => {
  it('touch makes an id a client until ttlMs after its last use; a reply nobody waits for is dropped', () => {
    let now = 0
    const sessions = new ClientSessions({ ttlMs: 100, clock: () => now })
    sessions.touch('client-a')
    assert.equal(sessions.has('client-a'), true)
    assert.equal(sessions.has('client-b'), false)
    now = 80
    sessions.deliver('client-a', message({ inReplyTo: 'r-1', conversationId: 'c-1' }))
    now = 150
    sessions.expire()
    assert.equal(sessions.has('client-a'), true, 'a delivery counts as use')
    now = 181
    sessions.expire()
    assert.equal(sessions.has('client-a'), false)
  })

  it('hands a waiting client its reply by in-reply-to, else by conversation; keeps a waiting client past its ttl', async () => {
    let now = 0
    const sessions = new ClientSessions({ ttlMs: 100, clock: () => now })
    const byReply = sessions.expect(message({ sender: 'client-a', receivers: ['echo'], messageId: 'm-1', replyWith: 'r-1', conversationId: 'c-1' }))
    const byConversation = sessions.expect(message({ sender: 'client-a', receivers: ['echo'], messageId: 'm-2', replyWith: 'r-2', conversationId: 'c-2' }))
    now = 500
    sessions.expire()
    assert.equal(sessions.has('client-a'), true, 'waiting')
    const first = message({ messageId: 'x-1', inReplyTo: 'r-1', conversationId: 'c-1' })
    const second = message({ messageId: 'x-2', conversationId: 'c-2' })
    sessions.deliver('client-a', second)
    sessions.deliver('client-a', first)
    assert.equal(await byReply.wait(10_000), first)
    assert.equal(await byConversation.wait(10_000), second)
    now = 700
    sessions.expire()
    assert.equal(sessions.has('client-a'), false, 'nothing waits any more')
  })

  it('a cancelled wait holds the client no longer; an unanswered one times out with ReplyTimeoutError', async () => {
    let now = 0
    const sessions = new ClientSessions({ ttlMs: 100, clock: () => now })
    const request = message({ sender: 'client-a', receivers: ['echo'], replyWith: 'r-1', conversationId: 'c-1' })
    sessions.expect(request).cancel()
    now = 200
    sessions.expire()
    assert.equal(sessions.has('client-a'), false)
    await assert.rejects(sessions.expect(request).wait(1), ReplyTimeoutError)
  })

  it('an id of this node\'s form is its client without a session: routable for good, a session only while a request waits', async () => {
    let now = 0
    const sessions = new ClientSessions({ ttlMs: 100, clock: () => now, ownTag: 'Tag5SeXz' })
    const own = 'client-Tag5SeXz-0123abcd'
    sessions.touch(own)
    assert.equal(sessions.has(own), true)
    assert.equal(sessions.has('client-Tag5SeXz-0123abcdef'), false, 'another length')
    assert.equal(sessions.has('client-OtherTag-0123abcd'), false, 'another node\'s')
    now = 10_000
    sessions.expire()
    assert.equal(sessions.has(own), true, 'not forgotten: nothing was kept for it')
    const pending = sessions.expect(message({ sender: own, receivers: ['echo'], replyWith: 'r-1', conversationId: 'c-1' }))
    const reply = message({ messageId: 'x-1', receivers: [own], inReplyTo: 'r-1' })
    sessions.deliver(own, reply)
    assert.equal(await pending.wait(10_000), reply)
    sessions.deliver(own, message({ messageId: 'x-2', receivers: [own], inReplyTo: 'r-9' }))
  })
})
