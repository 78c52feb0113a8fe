/**
 * The ping agent under the test kit: a start REQUEST opens a window of REQUESTs to the
 * target, each answer lets the next one go, and the starter gets one INFORM at the end.
 */
import assert from 'node:assert/strict'
import { TestAgent } from '../../testkit/index.js'

describe('example agent: ping', function () {
  this.timeout(60_000)
  let ping: TestAgent

  beforeEach(async () => {
    ping = await TestAgent.fromSource(new URL('./index.ts', import.meta.url), { id: 'ping' })
  })

  const answer = (performative: 'INFORM' | 'FAILURE' = 'INFORM', sender = 'echo'): ReturnType<TestAgent['deliver']> =>
    ping.deliver({ performative, sender })

  it('keeps `window` requests in flight until `total` are answered, then answers the start', () => {
    const start = ping.request('echo 3 2 5', { sender: 'bench', conversationId: 'c-1', replyWith: 'r-1' })
    assert.equal(start.sent.length, 2)
    for (const m of start.sent) {
      assert.equal(m.performative, 'REQUEST')
      assert.deepEqual(m.receivers, ['echo'])
      assert.equal(m.content, 'xxxxx')
      assert.equal(m.conversationId, 'c-1')
    }
    const third = answer()
    assert.equal(third.sent.length, 1, 'an answer lets the next request go')
    assert.equal(third.sent[0].receivers[0], 'echo')
    assert.deepEqual(answer().sent, [], 'total sent: nothing more until the last answer')
    const done = answer().sent
    assert.equal(done.length, 1)
    assert.equal(done[0].performative, 'INFORM')
    assert.deepEqual(done[0].receivers, ['bench'])
    assert.equal(done[0].inReplyTo, 'r-1')
    assert.equal(done[0].content, '3 0')
  })

  it('counts a FAILURE from ams as a failed answer, and takes a new run after one ends', () => {
    ping.request('echo 2 2 0', { sender: 'bench' })
    answer('FAILURE', 'ams')
    assert.equal(answer().sent[0].content, '2 1')
    assert.equal(ping.request('echo 1 1', { sender: 'bench' }).sent[0].content, 'x'.repeat(200), 'size defaults to 200 bytes')
  })

  it('refuses a malformed start, a window over 1000, and a start during a run', () => {
    assert.equal(ping.request('echo 10').sent[0].performative, 'FAILURE')
    assert.equal(ping.request('echo ten 1').sent[0].performative, 'FAILURE')
    assert.equal(ping.request('echo 10 1001').sent[0].performative, 'FAILURE')
    ping.request('echo 10 1')
    const busy = ping.request('echo 10 1').sent
    assert.equal(busy.length, 1)
    assert.equal(busy[0].performative, 'FAILURE')
    assert.match(busy[0].content as string, /a run is going on: 1 of 10 sent/)
  })

  it('answers other messages with NOT-UNDERSTOOD, and a report with nothing', () => {
    assert.equal(ping.deliver({ performative: 'INFORM', sender: 'someone' }).sent[0].performative, 'NOT-UNDERSTOOD')
    assert.deepEqual(ping.deliver({ performative: 'FAILURE', sender: 'someone' }).sent, [])
  })
})
