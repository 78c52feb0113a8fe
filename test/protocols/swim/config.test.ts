import assert from 'node:assert/strict'
import {
  LAN_CONFIG, LOCAL_CONFIG, SWIM_PRESETS, SwimConfigError, WAN_CONFIG, scaledPushPullIntervalMs, swimConfig, validateSwimConfig
} from '../../../protocols/swim/index.js'
import type { SwimConfig } from '../../../protocols/swim/index.js'

describe('protocols/swim config', () => {
  it('has the lan preset of memberlist for the shared fields', () => {
    assert.equal(LAN_CONFIG.probeIntervalMs, 1000)
    assert.equal(LAN_CONFIG.probeTimeoutMs, 500)
    assert.equal(LAN_CONFIG.indirectChecks, 3)
    assert.equal(LAN_CONFIG.suspicionMult, 4)
    assert.equal(LAN_CONFIG.suspicionMaxTimeoutMult, 6)
    assert.equal(LAN_CONFIG.retransmitMult, 4)
    assert.equal(LAN_CONFIG.pushPullIntervalMs, 30_000)
    assert.equal(LAN_CONFIG.gossipIntervalMs, 200)
    assert.equal(LAN_CONFIG.gossipNodes, 3)
  })

  it('validates every preset', () => {
    for (const preset of Object.values(SWIM_PRESETS)) assert.doesNotThrow(() => validateSwimConfig({ ...preset }))
    assert.ok(WAN_CONFIG.probeIntervalMs > LAN_CONFIG.probeIntervalMs)
    assert.ok(LOCAL_CONFIG.probeTimeoutMs < LAN_CONFIG.probeTimeoutMs)
  })

  it('applies overrides on a preset and ignores undefined ones', () => {
    const c = swimConfig('wan', { probeIntervalMs: 8000, probeTimeoutMs: undefined })
    assert.equal(c.probeIntervalMs, 8000)
    assert.equal(c.probeTimeoutMs, WAN_CONFIG.probeTimeoutMs)
    assert.equal(c.suspicionMult, 6)
  })

  const bad: Array<[string, Partial<Record<keyof SwimConfig, unknown>> | Record<string, unknown>, string]> = [
    ['a negative interval', { probeIntervalMs: -1 }, 'probeIntervalMs'],
    ['a string', { indirectChecks: '3' }, 'indirectChecks'],
    ['NaN', { gossipNodes: Number.NaN }, 'gossipNodes'],
    ['a fractional count', { retransmitMult: 2.5 }, 'retransmitMult'],
    ['a timeout as long as the interval', { probeTimeoutMs: 1000 }, 'probeTimeoutMs'],
    ['an unknown field', { probeIntervall: 5 }, 'probeIntervall'],
    ['a frame limit below the packet size', { maxFrameBytes: 1024, maxPacketBytes: 1400 }, 'maxFrameBytes']
  ]
  for (const [name, overrides, field] of bad) {
    it(`rejects ${name} with a SwimConfigError naming ${field}`, () => {
      assert.throws(() => swimConfig('lan', overrides as Partial<SwimConfig>), (err: unknown) => {
        assert.ok(err instanceof SwimConfigError)
        assert.equal(err.name, 'SwimConfigError')
        assert.equal(err.code, 'SWIM_INVALID_CONFIG')
        assert.equal(err.field, field)
        assert.match(err.message, new RegExp(field))
        return true
      })
    })
  }

  it('rejects an unknown preset', () => {
    assert.throws(() => swimConfig('moon' as 'lan'), (err: unknown) => err instanceof SwimConfigError && err.field === 'preset')
  })

  const scaled: Array<[n: number, expected: number]> = [[1, 30_000], [32, 30_000], [33, 60_000], [64, 60_000], [100, 90_000], [1000, 180_000], [10_000, 300_000]]
  for (const [n, expected] of scaled) {
    it(`scales push-pull to ${expected} ms at N=${n}`, () => {
      assert.equal(scaledPushPullIntervalMs(30_000, n), expected)
    })
  }
})
