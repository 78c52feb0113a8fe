/**
 * The counter agent under the test kit: its count lives in its store, so it survives a
 * restart; what a command changes is committed only when the message is handled.
 */
import assert from 'node:assert/strict'
import { TestAgent } from '../../testkit/index.js'

describe('example agent: counter', function () {
  this.timeout(60_000)
  let counter: TestAgent

  beforeEach(async () => {
    counter = await TestAgent.fromSource(new URL('./index.ts', import.meta.url), { id: 'counter' })
  })

  it('counts in its store, and keeps the count across a restart', () => {
    assert.equal(counter.request('add 42').sent[0].content, '42')
    assert.equal(counter.kv.getI64('count'), 42n)
    counter.restart()
    const answer = counter.request('increment').sent[0]
    assert.equal(answer.content, '43')
    assert.equal(answer.performative, 'INFORM')
    assert.equal(answer.receivers[0], 'tester')
    assert.equal(counter.kv.getI64('count'), 43n)
  })

  it('starts from a count already in its store; reset logs and writes 0; get writes nothing', () => {
    counter.kv.put('count', Buffer.from(new BigInt64Array([7n]).buffer))
    assert.equal(counter.request('get').sent[0].content, '7')
    const reset = counter.request('reset')
    assert.deepEqual(reset.logs, [{ level: 'info', text: 'counter reset' }])
    assert.equal(counter.kv.getI64('count'), 0n)
    assert.equal(counter.request('add -5').sent[0].content, '-5')
  })

  it('answers a bad command with FAILURE, and changes nothing', () => {
    counter.request('add 2')
    const bad = counter.request('add two')
    assert.equal(bad.sent[0].performative, 'FAILURE')
    assert.equal(bad.sent[0].content, 'add expects an integer, got "two"')
    assert.equal(counter.kv.getI64('count'), 2n)
    assert.deepEqual(counter.kv.keys(), ['count'])
  })

  it('answers a report with nothing', () => {
    const r = counter.deliver({ performative: 'FAILURE', sender: 'ams', content: 'not delivered' })
    assert.deepEqual(r.sent, [])
    assert.equal(r.status, 0)
  })
})
