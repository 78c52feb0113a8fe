import assert from 'node:assert/strict'
import fc from 'fast-check'
import { HybridLogicalClock, compareHlc, hlcReceive, hlcTick, type HlcTimestamp } from '../../../protocols/registry/index.js'

const ts = (wall: number, logical: number): HlcTimestamp => ({ wall, logical })
const tsArb = fc.record({ wall: fc.integer({ min: 0, max: 50 }), logical: fc.nat(5) })

describe('hybrid logical clock', () => {
  it('follows the send/local rule (Kulkarni et al. 2014)', () => {
    const cases: Array<[HlcTimestamp, number, HlcTimestamp]> = [
      [ts(10, 0), 12, ts(12, 0)], // physical time moved on: take it, reset logical
      [ts(10, 3), 10, ts(10, 4)], // same physical time: count
      [ts(10, 3), 7, ts(10, 4)] // physical clock behind: keep wall, count
    ]
    for (const [last, pt, expected] of cases) assert.deepEqual(hlcTick(last, pt), expected)
  })

  it('follows the receive rule', () => {
    const cases: Array<[HlcTimestamp, HlcTimestamp, number, HlcTimestamp]> = [
      [ts(10, 2), ts(10, 5), 9, ts(10, 6)], // both walls equal and ahead: max logical + 1
      [ts(12, 2), ts(10, 5), 9, ts(12, 3)], // local ahead
      [ts(10, 2), ts(12, 5), 9, ts(12, 6)], // remote ahead
      [ts(10, 2), ts(11, 5), 20, ts(20, 0)] // physical ahead of both
    ]
    for (const [last, remote, pt, expected] of cases) assert.deepEqual(hlcReceive(last, remote, pt), expected)
  })

  it('is strictly monotonic under any sequence of local events and receipts, whatever physical time does', () => {
    const event = fc.oneof(
      fc.record({ kind: fc.constant('tick' as const), pt: fc.integer({ min: 0, max: 60 }) }),
      fc.record({ kind: fc.constant('recv' as const), pt: fc.integer({ min: 0, max: 60 }), remote: tsArb })
    )
    fc.assert(fc.property(fc.array(event, { maxLength: 60 }), events => {
      const clock = new HybridLogicalClock()
      let prev = clock.last
      let maxPt = 0
      for (const e of events) {
        const next = e.kind === 'tick' ? clock.tick(e.pt) : clock.receive(e.remote, e.pt)
        assert.ok(compareHlc(next, prev) > 0, 'strictly after the previous timestamp')
        if (e.kind === 'recv') assert.ok(compareHlc(next, e.remote) > 0, 'strictly after the received timestamp')
        maxPt = Math.max(maxPt, e.pt)
        assert.ok(next.wall >= e.pt, 'never behind physical time')
        prev = next
      }
      assert.ok(prev.wall >= maxPt)
    }))
  })

  it('respects causality along a chain of messages between nodes with skewed clocks', () => {
    fc.assert(fc.property(fc.array(fc.record({ to: fc.nat(2), pt: fc.integer({ min: 0, max: 100 }) }), { minLength: 1, maxLength: 40 }), hops => {
      const clocks = [new HybridLogicalClock(), new HybridLogicalClock(), new HybridLogicalClock()]
      let msg = clocks[0].tick(50)
      for (const h of hops) {
        const received = clocks[h.to].receive(msg, h.pt)
        assert.ok(compareHlc(received, msg) > 0)
        msg = clocks[h.to].tick(h.pt)
      }
    }))
  })

  it('does not adopt a remote timestamp further ahead than the allowed drift', () => {
    const clock = new HybridLogicalClock(ts(1000, 0), 60_000)
    const next = clock.receive(ts(10_000_000, 0), 1000)
    assert.deepEqual(next, ts(1000, 1))
    assert.deepEqual(clock.receive(ts(50_000, 2), 1000), ts(50_000, 3))
  })

  it('restores monotonically from a persisted timestamp', () => {
    const clock = new HybridLogicalClock(ts(500, 7))
    assert.deepEqual(clock.tick(100), ts(500, 8))
    clock.observe(ts(400, 0))
    assert.deepEqual(clock.last, ts(500, 8))
    clock.observe(ts(600, 1))
    assert.deepEqual(clock.tick(100), ts(600, 2))
  })
})
