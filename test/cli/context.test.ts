import assert from 'node:assert/strict'
import { InvalidArgumentError } from 'commander'
import { pointInTime } from '../../src/cli/context.js'

describe('cli: pointInTime (--since)', () => {
  const NOW = Date.UTC(2026, 10, 25, 13, 0, 0)
  const parse = pointInTime(() => NOW)

  for (const [text, ms] of [
    ['0', 0],
    ['1764075600000', 1_764_075_600_000],
    ['2026-11-25T12:00:00Z', Date.UTC(2026, 10, 25, 12)],
    ['2026-11-25 12:00:00.250+01:00', Date.UTC(2026, 10, 25, 11, 0, 0, 250)],
    ['2026-11-25', Date.UTC(2026, 10, 25)],
    ['500ms', NOW - 500],
    ['90s', NOW - 90_000],
    ['10m', NOW - 600_000],
    ['1h30m', NOW - 5_400_000],
    ['7d', NOW - 7 * 86_400_000],
    ['100000d', 0]
  ] as const) {
    it(`'${text}' → ${ms}`, () => { assert.equal(parse(text), ms) })
  }

  for (const text of ['', 'yesterday', 'May 5', '10 m', '-5', '1.5h', '2026-02-30T25:00:00Z', '10y']) {
    it(`refuses '${text}' with a usage message`, () => {
      assert.throws(() => parse(text), (err: unknown) => err instanceof InvalidArgumentError && /expected ms since the epoch, an ISO 8601 time/.test(err.message))
    })
  }
})
