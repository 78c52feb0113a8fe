import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ConversationTable, type AclMessage } from '../../../protocols/fipa/index.js'
import { mergeConversations } from '../../../protocols/fipa/conversations.js'

let n = 0
const m = (sender: string, receivers: string[], fields: Partial<AclMessage> = {}): AclMessage =>
  ({ messageId: `m${++n}`, createdAt: 0, performative: 'REQUEST', sender, receivers, conversationId: 'c1', ...fields })

describe('protocols/fipa conversations', () => {
  it('records participants in order of appearance, the first protocol named, activity and counts', () => {
    const t = new ConversationTable(60_000)
    t.observe(m('a', ['b']), 10)
    t.observe(m('b', ['a', 'c'], { protocol: 'fipa-request' }), 20)
    t.observe(m('c', ['a'], { protocol: 'fipa-query' }), 30)
    assert.equal(t.observe(m('x', ['y'], { conversationId: undefined }), 40), undefined, 'no conversation id: nothing')
    assert.equal(t.observe(m('a', ['b']), 50)?.awaitingChanged, false)
    const c = t.get('c1')
    assert.deepEqual(c, { id: 'c1', initiator: 'a', participants: ['a', 'b', 'c'], protocol: 'fipa-request', startedAt: 10, lastActivity: 50, messages: 4, awaiting: [] })
  })

  it('a reply settles what it answers: by in-reply-to, or from an asked agent back to the asker', () => {
    const t = new ConversationTable(60_000)
    t.observe(m('a', ['b'], { replyWith: 'q1', replyBy: 100 }), 0)
    t.observe(m('a', ['c'], { replyWith: 'q2', replyBy: 100 }), 0)
    assert.deepEqual(t.get('c1')?.awaiting.map(x => x.key), ['q1', 'q2'])
    t.observe(m('b', ['a'], { performative: 'INFORM', inReplyTo: 'q1' }), 5)
    t.observe(m('c', ['a'], { performative: 'AGREE' }), 6)
    assert.deepEqual(t.get('c1')?.awaiting, [])
    assert.deepEqual(t.due(200).overdue, [])
  })

  it('an unanswered request is overdue at its reply-by, once; idle conversations go after the timeout', () => {
    const t = new ConversationTable(1000)
    t.observe(m('a', ['b'], { replyWith: 'q1', replyBy: 500 }), 0)
    t.observe(m('x', ['y'], { conversationId: 'c2' }), 0)
    assert.equal(t.nextDeadline(), 500)
    assert.deepEqual(t.due(499), { overdue: [], idle: [] })
    const due = t.due(500)
    assert.equal(due.overdue.length, 1)
    assert.deepEqual(due.overdue[0], { conversationId: 'c1', awaited: { key: 'q1', from: 'a', to: ['b'], replyBy: 500, checkAt: 500, messageId: due.overdue[0].awaited.messageId } })
    assert.deepEqual(due.idle, [])
    assert.deepEqual(t.due(600).overdue, [], 'reported once')
    assert.deepEqual(t.due(1000).idle.sort(), ['c1', 'c2'])
    assert.equal(t.size, 0)
  })

  it('a deferred reply is checked again later, and a reply meanwhile settles it', () => {
    const t = new ConversationTable(60_000)
    t.observe(m('a', ['b'], { replyWith: 'q9', replyBy: 100 }), 0)
    const [late] = t.due(100).overdue
    t.defer('c1', late.awaited, 200)
    assert.deepEqual(t.due(199).overdue, [])
    assert.equal(t.due(200).overdue[0].awaited.key, 'q9')
    t.observe(m('a', ['b'], { replyWith: 'q10', replyBy: 300 }), 0)
    const [again] = t.due(300).overdue
    t.defer('c1', again.awaited, 400)
    t.observe(m('ams', ['a'], { performative: 'FAILURE', inReplyTo: 'q10' }), 350)
    assert.deepEqual(t.due(400).overdue, [])
  })

  it('holds at most maxEntries, dropping the least recently active with nothing awaited; a stored one comes back', () => {
    const t = new ConversationTable(60_000, 2)
    t.observe(m('a', ['b'], { conversationId: 'k1', replyBy: 1000, replyWith: 'r' }), 1)
    t.observe(m('a', ['b'], { conversationId: 'k2' }), 2)
    const o = t.observe(m('a', ['b'], { conversationId: 'k3' }), 3)
    assert.deepEqual(o?.evicted.map(c => c.id), ['k2'], 'k1 awaits a reply: kept')
    assert.equal(t.size, 2)
    t.restore(o!.evicted[0])
    const back = t.observe(m('b', ['a'], { conversationId: 'k2' }), 4)
    assert.equal(back?.conversation.messages, 2, 'continued from what was stored')
  })

  it('keeps a conversation with a reply awaited even when idle; restores what was stored', () => {
    const t = new ConversationTable(10)
    t.observe(m('a', ['b'], { replyWith: 'q1', replyBy: 10_000 }), 0)
    assert.deepEqual(t.due(100).idle, [])
    const copy = new ConversationTable(10)
    copy.restore(structuredClone(t.get('c1')!))
    assert.equal(copy.nextDeadline(), 10_000)
    assert.equal(copy.due(10_000).overdue[0].awaited.key, 'q1')
  })

  it('awaits no reply for a message observed without enforcing its reply-by', () => {
    const t = new ConversationTable(60_000)
    assert.equal(t.observe(m('a', ['b'], { replyWith: 'q1', replyBy: 100 }), 0, false)?.awaitingChanged, false)
    assert.deepEqual(t.get('c1')?.awaiting, [])
    assert.equal(t.nextDeadline(), undefined)
  })

  it('past maxEntries evicts 1/64 of it at once, oldest first', () => {
    const t = new ConversationTable(60_000, 128)
    for (let i = 0; i < 128; i++) assert.deepEqual(t.observe(m('a', ['b'], { conversationId: `k${i}` }), i)?.evicted, [])
    t.observe(m('a', ['b'], { conversationId: 'k0' }), 128)
    const o = t.observe(m('a', ['b'], { conversationId: 'k128' }), 129)
    assert.deepEqual(o?.evicted.map(c => c.id), ['k1', 'k2', 'k3'], 'k0 was active again: not among the oldest')
    assert.equal(t.size, 126)
  })

  it('merges a stored conversation with the part seen since as if one table had seen both', () => {
    const agent = fc.constantFrom('a', 'b', 'c', 'd')
    const message = fc.record({
      sender: agent,
      receivers: fc.uniqueArray(agent, { minLength: 1, maxLength: 3 }),
      protocol: fc.option(fc.constantFrom('fipa-request', 'fipa-query'), { nil: undefined }),
      gap: fc.nat(1000)
    })
    fc.assert(fc.property(fc.array(message, { minLength: 2, maxLength: 12 }), fc.nat(), (messages, cut) => {
      const k = 1 + cut % (messages.length - 1)
      const whole = new ConversationTable(60_000)
      const before = new ConversationTable(60_000)
      const after = new ConversationTable(60_000)
      let now = 1000
      messages.forEach((x, i) => {
        now += x.gap
        const msg = m(x.sender, x.receivers, x.protocol === undefined ? {} : { protocol: x.protocol })
        whole.observe(msg, now)
        ;(i < k ? before : after).observe(msg, now)
      })
      assert.deepEqual(mergeConversations(before.get('c1')!, after.get('c1')!), whole.get('c1'))
    }))
  })

  it('merges awaited replies by key, the part\'s copy first; absorbing a stored copy gives its replies deadlines', () => {
    const stored = new ConversationTable(60_000)
    stored.observe(m('a', ['b'], { replyWith: 'q1', replyBy: 500 }), 0)
    stored.observe(m('a', ['c'], { replyWith: 'q2', replyBy: 700 }), 1)
    const t = new ConversationTable(60_000)
    t.observe(m('x', ['y'], { conversationId: 'other' }), 2)
    t.observe(m('c', ['a'], { replyWith: 'q2', replyBy: 900 }), 3)
    const before = t.get('c1')!
    const merged = t.absorb(structuredClone(stored.get('c1')!))
    assert.deepEqual(merged.awaiting.map(a => [a.key, a.from, a.replyBy]), [['q2', 'c', 900], ['q1', 'a', 500]])
    assert.deepEqual({ ...merged, awaiting: [] }, { id: 'c1', initiator: 'a', participants: ['a', 'b', 'c'], startedAt: 0, lastActivity: 3, messages: 3, awaiting: [] })
    assert.equal(t.get('c1'), merged)
    assert.equal(before.messages, 1, 'the part itself is left as it was')
    assert.deepEqual([...t.all()].map(c => c.id), ['other', 'c1'], 'its place in activity order is kept')
    assert.deepEqual(t.due(500).overdue.map(o => o.awaited.key), ['q1'])
    assert.deepEqual(t.due(900).overdue.map(o => o.awaited.key), ['q2'])
    const fresh = new ConversationTable(60_000)
    const restored = fresh.absorb(structuredClone(stored.get('c1')!))
    assert.equal(fresh.get('c1'), restored, 'nothing held: the stored copy is')
    assert.deepEqual(fresh.due(700).overdue.map(o => o.awaited.key), ['q1', 'q2'])
  })
})
