/**
 * The scheduler agent under the test kit: reminders on durable timers, fired as the
 * clock moves, cancelled, listed, and kept across a restart.
 */
import assert from 'node:assert/strict'
import { TestAgent } from '../../testkit/index.js'

describe('example agent: scheduler', function () {
  this.timeout(60_000)
  let scheduler: TestAgent

  beforeEach(async () => {
    scheduler = await TestAgent.fromSource(new URL('./index.ts', import.meta.url), { id: 'scheduler' })
  })

  it('agrees with the timer id, then reminds the asker in its conversation when the time comes', () => {
    const agreed = scheduler.request('in 1500 put the kettle on', { sender: 'alice', conversationId: 'tea', replyWith: 'q1' }).sent[0]
    assert.equal(agreed.performative, 'AGREE')
    assert.equal(agreed.content, '1')
    assert.deepEqual(scheduler.timers().map(t => [t.id, t.due - scheduler.now]), [[1, 1500]])

    assert.deepEqual(scheduler.advance(1499), [])
    const [fired] = scheduler.advance(1)
    assert.deepEqual(fired.sent.map(m => [m.performative, m.receivers, m.conversationId, m.inReplyTo, m.content]),
      [['INFORM', ['alice'], 'tea', 'q1', 'put the kettle on']])
    assert.deepEqual(scheduler.timers(), [])
    assert.deepEqual(scheduler.kv.keys(), [])
  })

  it('fires reminders in due order, several in one advance', () => {
    scheduler.request('in 300 third')
    scheduler.request('in 100 first')
    scheduler.request('in 200 second')
    const fired = scheduler.advance(1000)
    assert.deepEqual(fired.map(h => h.sent[0].content), ['first', 'second', 'third'])
  })

  it('cancels a reminder: it never fires, and a second cancel fails', () => {
    scheduler.request('in 100 never')
    scheduler.request('in 200 kept')
    assert.equal(scheduler.request('list').sent[0].content, '1 never\n2 kept')
    assert.equal(scheduler.request('cancel 1').sent[0].content, 'cancelled 1')
    assert.equal(scheduler.request('cancel 1').sent[0].performative, 'FAILURE')
    assert.deepEqual(scheduler.advance(500).map(h => h.sent[0].content), ['kept'])
  })

  it('keeps reminders across a restart: ids go on, what is due fires', () => {
    scheduler.request('in 1000 after the restart')
    scheduler.restart()
    assert.equal(scheduler.request('in 5000 later').sent[0].content, '2')
    assert.deepEqual(scheduler.advance(1000).map(h => h.sent[0].content), ['after the restart'])
  })

  it('refuses a bad delay and a full timer table', async () => {
    assert.equal(scheduler.request('in soon x').sent[0].performative, 'FAILURE')
    const small = await TestAgent.fromSource(new URL('./index.ts', import.meta.url), { id: 'small', maxTimers: 1 })
    small.request('in 10 a')
    assert.equal(small.request('in 10 b').sent[0].content, 'too many reminders pending')
    small.advance(10)
    assert.equal(small.request('in 10 c').sent[0].performative, 'AGREE')
  })
})
