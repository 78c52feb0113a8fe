/**
 * The registry sync policy under an injected clock: who syncs first on a (re)connection,
 * the fallback and its cancellation, retries and their back-off, the cap on exchanges,
 * one exchange per peer, the anti-entropy and maintenance timers.
 */
import assert from 'node:assert/strict'
import {
  CONNECT_SYNC_ATTEMPTS, InvalidRegistryTimingError, SyncPolicy, type RegistryTiming, type SyncAction
} from '../../../protocols/registry/index.js'

const TIMING: RegistryTiming = { antiEntropyIntervalMs: 10_000, maintenanceIntervalMs: 30_000, syncTimeoutMs: 30_000, connectSyncFallbackMs: 1000, maxConcurrentSyncs: 8 }
/** Only the connection rules: both periodic timers off. */
const NO_TIMERS: Partial<RegistryTiming> = { antiEntropyIntervalMs: 0, maintenanceIntervalMs: 0 }

/** A random source returning `values` in turn, then the last one forever. */
function sequence (...values: number[]): () => number {
  let i = 0
  return () => values[Math.min(i++, values.length - 1)]
}

function policy (self: string, timing: Partial<RegistryTiming> = {}, random: () => number = () => 0.5): SyncPolicy {
  return new SyncPolicy({ self, timing: { ...TIMING, ...timing }, random })
}

const connect = (peer: string, attempt: number): SyncAction => ({ type: 'sync', peer, reason: 'connect', attempt })
const round = (peer: string): SyncAction => ({ type: 'sync', peer, reason: 'anti-entropy', attempt: 1 })

describe('registry sync policy', () => {
  describe('a (re)connection', () => {
    it('is synced at once by the lower id, after the fallback delay by the higher one', () => {
      const cases: Array<{ self: string, peer: string, now: SyncAction[], atFallback: SyncAction[] }> = [
        { self: 'node-a', peer: 'node-b', now: [connect('node-b', 1)], atFallback: [] },
        { self: 'node-b', peer: 'node-a', now: [], atFallback: [connect('node-a', 1)] },
        { self: 'node-a', peer: 'node-a', now: [], atFallback: [] } // itself: ignored
      ]
      for (const c of cases) {
        const p = policy(c.self, NO_TIMERS)
        p.start(0)
        const up = p.memberUp(c.peer, 100)
        assert.deepEqual(up.actions, c.now, `${c.self} sees ${c.peer}`)
        assert.deepEqual(p.tick(1099).actions, [], 'nothing before the fallback delay')
        assert.deepEqual(p.tick(1100).actions, c.atFallback, `${c.self} at the fallback delay`)
        assert.equal(p.wakeAt, Infinity)
      }
    })

    it('costs one exchange: the higher id drops its fallback when an exchange with the peer completed meanwhile, not when one failed', () => {
      const cases: Array<{ ok: boolean, atFallback: SyncAction[] }> = [
        { ok: true, atFallback: [] },
        { ok: false, atFallback: [connect('node-a', 1)] }
      ]
      for (const c of cases) {
        const p = policy('node-b', NO_TIMERS)
        p.start(0, ['node-a'])
        assert.deepEqual(p.memberUp('node-a', 0).actions, [])
        assert.equal(p.wakeAt, 1000)
        assert.equal(p.answer('node-a', 10), true)
        p.ended('node-a', 'responder', c.ok, 20)
        assert.deepEqual(p.tick(1000).actions, c.atFallback, `the lower id's exchange ${c.ok ? 'completed' : 'failed'}`)
      }
    })

    it('is retried after connectSyncFallbackMs × attempt × (1 + U[0, 1)) while it fails, up to CONNECT_SYNC_ATTEMPTS attempts', () => {
      assert.equal(CONNECT_SYNC_ATTEMPTS, 4)
      for (const r of [0, 0.5, 0.999]) {
        const p = policy('node-a', NO_TIMERS, () => r)
        p.start(0)
        let now = 0
        let out = p.memberUp('node-b', now)
        const delays: number[] = []
        for (let attempt = 1; attempt <= CONNECT_SYNC_ATTEMPTS; attempt++) {
          assert.deepEqual(out.actions, [connect('node-b', attempt)], `attempt ${attempt}, r = ${r}`)
          const failed = p.ended('node-b', 'initiator', false, now)
          if (attempt === CONNECT_SYNC_ATTEMPTS) {
            assert.equal(failed.wakeAt, Infinity, 'no attempt after the last')
            break
          }
          delays.push(failed.wakeAt - now)
          now = failed.wakeAt
          out = p.tick(now)
        }
        const ms = (x: number): number => Math.round(x * 1000) / 1000
        assert.deepEqual(delays.map(ms), [1, 2, 3].map(n => ms(1000 * n * (1 + r))), `r = ${r}`)
        assert.equal(p.stats.connectRetries, 3)
      }
    })

    it('is not retried once the peer is down, and a new report starts over at attempt 1', () => {
      const p = policy('node-a', NO_TIMERS)
      p.start(0)
      p.memberUp('node-b', 0)
      const failed = p.ended('node-b', 'initiator', false, 10)
      assert.ok(Number.isFinite(failed.wakeAt))
      assert.equal(p.memberDown('node-b', 20).wakeAt, Infinity, 'the retry is cancelled')
      assert.deepEqual(p.tick(failed.wakeAt).actions, [])

      // an exchange that fails after the peer went down is not retried either
      assert.deepEqual(p.memberUp('node-b', 5000).actions, [connect('node-b', 1)])
      p.memberDown('node-b', 5001)
      assert.equal(p.ended('node-b', 'initiator', false, 5002).wakeAt, Infinity)
      assert.deepEqual(p.memberUp('node-b', 6000).actions, [connect('node-b', 1)])
    })
  })

  describe('the cap on exchanges', () => {
    it('counts started and answered exchanges together and refuses answers beyond it', () => {
      const p = policy('node-a', { ...NO_TIMERS, maxConcurrentSyncs: 2 })
      p.start(0, ['node-x', 'node-y', 'node-z'])
      assert.equal(p.initiate('node-x', 0), 'start')
      assert.equal(p.answer('node-y', 0), true)
      assert.equal(p.active, 2)
      assert.equal(p.answer('node-z', 0), false)
      assert.equal(p.initiate('node-z', 0), 'busy')
      p.ended('node-y', 'responder', true, 1)
      assert.equal(p.answer('node-z', 1), true)
      assert.equal(p.stats.refusedAtCap, 2)
    })

    it('defers a reconnection\'s exchange at the cap to its retry', () => {
      const p = policy('node-a', { ...NO_TIMERS, maxConcurrentSyncs: 1 }, () => 0)
      p.start(0, ['node-x'])
      assert.equal(p.answer('node-x', 0), true)
      const up = p.memberUp('node-b', 0)
      assert.deepEqual(up.actions, [], 'no slot')
      assert.equal(up.wakeAt, 1000)
      assert.deepEqual(p.tick(1000).actions, [], 'still no slot: retried again')
      assert.equal(p.wakeAt, 1000 + 2000)
      p.ended('node-x', 'responder', true, 1500)
      assert.deepEqual(p.tick(3000).actions, [connect('node-b', 3)])
    })
  })

  it('starts one exchange per peer at a time: a reconnection or a round that picks a peer being synced with rides on it', () => {
    const p = policy('node-a', { maintenanceIntervalMs: 0 }, () => 0)
    p.start(0, ['node-b'])
    assert.equal(p.initiate('node-b', 0), 'start')
    assert.equal(p.initiate('node-b', 0), 'running')
    assert.deepEqual(p.memberUp('node-b', 1).actions, [], 'the reconnection rides on the running exchange')
    assert.deepEqual(p.tick(8000).actions, [], 'so does the round that drew node-b')
    assert.equal(p.wakeAt, Infinity, 'the round waits for that exchange')
    const failed = p.ended('node-b', 'initiator', false, 9000)
    assert.equal(failed.wakeAt, 9000 + 1000, 'the reconnection is retried, the round timed from now')
    assert.deepEqual(p.tick(10_000).actions, [connect('node-b', 2)])
    p.ended('node-b', 'initiator', true, 10_500)
    assert.deepEqual(p.tick(9000 + 8000).actions, [round('node-b')])
  })

  describe('the timers', () => {
    it('runs anti-entropy every interval ±20% with a live member drawn uniformly, timed from the end of the last exchange', () => {
      // random: start's jitter, then the draw, then the next jitter
      const cases: Array<{ jitter: number, draw: number, firstAt: number, peer: string }> = [
        { jitter: 0, draw: 0, firstAt: 8000, peer: 'node-b' },
        { jitter: 0.5, draw: 0.5, firstAt: 10_000, peer: 'node-c' },
        { jitter: 0.999, draw: 0.999, firstAt: 10_000 * (0.8 + 0.4 * 0.999), peer: 'node-d' }
      ]
      for (const c of cases) {
        const p = policy('node-a', { maintenanceIntervalMs: 0 }, sequence(c.jitter, c.draw, c.jitter))
        assert.equal(p.start(0, ['node-b', 'node-c', 'node-d']).wakeAt, c.firstAt)
        assert.deepEqual(p.tick(c.firstAt - 1).actions, [])
        assert.deepEqual(p.tick(c.firstAt).actions, [round(c.peer)])
        assert.equal(p.wakeAt, Infinity, 'no round while this one runs')
        assert.equal(p.ended(c.peer, 'initiator', true, c.firstAt + 500).wakeAt, c.firstAt + 500 + c.firstAt)
      }
    })

    it('alone, skips the round and times the next', () => {
      const p = policy('node-a', { maintenanceIntervalMs: 0 })
      p.start(0)
      assert.deepEqual(p.tick(10_000).actions, [])
      assert.equal(p.wakeAt, 20_000)
      p.memberUp('node-z', 15_000) // node-a < node-z: a connection exchange, not a round
      p.ended('node-z', 'initiator', true, 15_001)
      assert.deepEqual(p.tick(20_000).actions, [round('node-z')])
      assert.equal(p.stats.antiEntropyRounds, 1)
    })

    it('at the cap, skips the round and times the next', () => {
      const p = policy('node-a', { maintenanceIntervalMs: 0, maxConcurrentSyncs: 1 })
      p.start(0, ['node-b', 'node-c'])
      assert.equal(p.answer('node-c', 0), true)
      assert.deepEqual(p.tick(10_000).actions, [])
      assert.equal(p.wakeAt, 20_000)
    })

    it('runs maintenance every interval ±20%, whatever the exchanges do', () => {
      const p = policy('node-a', { antiEntropyIntervalMs: 0 }, () => 0)
      assert.equal(p.start(0, ['node-b']).wakeAt, 24_000)
      assert.deepEqual(p.tick(24_000).actions, [{ type: 'maintain' }])
      assert.equal(p.wakeAt, 48_000)
      assert.deepEqual(p.tick(50_000).actions, [{ type: 'maintain' }], 'a late tick runs it once')
      assert.equal(p.wakeAt, 74_000)
    })

    it('needs no timer when both periods are 0 and no connection is pending', () => {
      const p = policy('node-a', NO_TIMERS)
      assert.equal(p.start(0, ['node-b']).wakeAt, Infinity)
      assert.deepEqual(p.tick(1e9).actions, [])
    })
  })

  it('keeps the live members as reported, this node excluded, and starts nothing for those alive at start', () => {
    const p = policy('node-a')
    assert.deepEqual(p.start(0, ['node-b', 'node-a', 'node-c']).actions, [])
    p.memberDown('node-b', 1)
    p.memberUp('node-d', 2)
    assert.deepEqual(p.members(), ['node-c', 'node-d'])
  })

  it('takes a clock going back as the last time seen', () => {
    const p = policy('node-b', NO_TIMERS)
    p.start(5000)
    assert.equal(p.memberUp('node-a', 1000).wakeAt, 6000)
  })

  it('does nothing before start or after stop, and ignores an end it did not start', () => {
    const p = policy('node-a')
    assert.deepEqual(p.memberUp('node-b', 0).actions, [])
    assert.equal(p.initiate('node-b', 0), 'busy')
    p.start(0, ['node-b'])
    p.ended('node-b', 'initiator', false, 1)
    p.ended('node-b', 'responder', true, 1)
    assert.equal(p.active, 0)
    assert.equal(p.answer('node-b', 2), true)
    p.stop()
    assert.equal(p.wakeAt, Infinity)
    assert.equal(p.answer('node-b', 3), false)
    assert.equal(p.initiate('node-b', 3), 'busy')
    assert.deepEqual(p.tick(1e9).actions, [])
    assert.deepEqual(p.members(), [])
  })

  it('answers exchanges from live members only', () => {
    const p = policy('node-a', NO_TIMERS)
    p.start(0, ['node-b'])
    assert.equal(p.answer('node-x', 1), false, 'a stranger gets no registry and sends nothing into it')
    assert.equal(p.stats.refusedNonMembers, 1)
    assert.equal(p.isMember('node-x'), false)
    assert.equal(p.answer('node-b', 1), true)
    p.ended('node-b', 'responder', true, 2)
    p.memberDown('node-b', 3)
    assert.equal(p.answer('node-b', 4), false, 'nor a member declared dead')
    p.memberUp('node-x', 5)
    assert.equal(p.answer('node-x', 6), true)
    assert.equal(p.stats.refusedAtCap, 0)
  })

  it('refuses a timing out of range, naming the field', () => {
    const cases: Array<[Partial<RegistryTiming>, string]> = [
      [{ antiEntropyIntervalMs: -1 }, 'antiEntropyIntervalMs'],
      [{ maintenanceIntervalMs: Number.NaN }, 'maintenanceIntervalMs'],
      [{ connectSyncFallbackMs: Infinity }, 'connectSyncFallbackMs'],
      [{ maxConcurrentSyncs: 0 }, 'maxConcurrentSyncs'],
      [{ maxConcurrentSyncs: 1.5 }, 'maxConcurrentSyncs']
    ]
    for (const [timing, field] of cases) {
      assert.throws(() => policy('node-a', timing), (err: unknown) => err instanceof InvalidRegistryTimingError && err.field === field, field)
    }
  })
})
