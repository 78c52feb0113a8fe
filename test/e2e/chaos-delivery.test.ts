/**
 * Small chaos runs on real node processes (sim/chaos/delivery.ts and requests.ts), one
 * per fault kind: every message accepted is handled exactly once (none lost, none
 * duplicated), and request-reply rides out a killed node. The long runs are
 * `npm run chaos -- delivery|requests`.
 */
import assert from 'node:assert/strict'
import { runDeliveryChaos, type FaultKind } from '../../sim/chaos/delivery.js'
import { runRequests } from '../../sim/chaos/requests.js'

describe('chaos: delivery under faults (3 node processes)', function () {
  this.timeout(180_000)
  const runs: Array<[FaultKind, number]> = [['kill', 11], ['pause', 12], ['partition', 13]]
  for (const [kind, seed] of runs) {
    it(`${kind}: nothing lost, nothing duplicated`, async () => {
      const r = await runDeliveryChaos({ nodes: 3, messages: 1200, faults: [kind], seed, window: 16, faultEveryMs: 1000, pauseMs: 7000, partitionMs: 4000 })
      assert.ok(r.faults.length >= 1 && r.faults.every(f => f.kind === kind), `faults: ${JSON.stringify(r.faults)}`)
      const during = Object.entries(r.byFault).filter(([f]) => f.startsWith(kind)).reduce((n, [, t]) => n + t.sent, 0)
      assert.ok(during > 0, 'messages were sent while the fault was on')
      assert.deepEqual(r.examples, { lost: [], duplicated: [] })
      assert.equal(r.total.lost, 0)
      assert.equal(r.total.duplicated, 0)
      assert.equal(r.total.handled + r.total.deadLettered, r.total.sent)
      assert.ok(r.byHop.relay.sent > 0, 'agent-to-agent hops were counted')
    })
  }

  it('request-reply: every REQUEST answered by INFORM although the echo node is killed and restarted', async () => {
    const r = await runRequests({ fault: 'kill', requests: 300, window: 16, waitMs: 30_000 })
    assert.deepEqual(r.answers, { INFORM: 300 })
  })
})
