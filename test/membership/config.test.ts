/**
 * The `membership` config section: defaults are the SWIM preset named like the node's
 * preset, each key overrides one field (file, CAXTON_MEMBERSHIP_*, flags), and the
 * protocol's own rules are enforced at load time, naming the key.
 */
import assert from 'node:assert/strict'
import { LAN_CONFIG, LOCAL_CONFIG, WAN_CONFIG } from '../../protocols/swim/index.js'
import { ConfigError, loadConfig } from '../../src/config/index.js'
import { swimSettings } from '../../src/config/schema.js'

describe('config: membership', () => {
  it('takes its defaults from the SWIM preset of the node\'s preset', () => {
    assert.deepEqual(swimSettings(loadConfig({ env: {} }).membership), LAN_CONFIG)
    assert.deepEqual(swimSettings(loadConfig({ env: {}, flags: { preset: 'local' } }).membership), LOCAL_CONFIG)
    assert.deepEqual(swimSettings(loadConfig({ env: {}, flags: { preset: 'wan' } }).membership), WAN_CONFIG)
    assert.equal(loadConfig({ env: {}, flags: { preset: 'local' } }).membership.joinRetryMs, 1000)
  })

  it('overrides one field at a time, from the environment or flags', () => {
    const c = loadConfig({ env: { CAXTON_MEMBERSHIP_SUSPICION_MULT: '6', CAXTON_MEMBERSHIP_LEAVE_TIMEOUT_MS: '500' }, flags: { membership: { probeIntervalMs: 2000 } } })
    assert.equal(c.membership.suspicionMult, 6)
    assert.equal(c.membership.leaveTimeoutMs, 500)
    assert.equal(c.membership.probeIntervalMs, 2000)
    assert.equal(c.membership.probeTimeoutMs, LAN_CONFIG.probeTimeoutMs)
    assert.ok(!('joinRetryMs' in swimSettings(c.membership)), 'the binding\'s keys are not protocol settings')
  })

  it('refuses what the protocol refuses, naming the key and the source', () => {
    assert.throws(() => loadConfig({ env: { CAXTON_MEMBERSHIP_PROBE_TIMEOUT_MS: '1500' } }),
      (err: unknown) => err instanceof ConfigError && err.key === 'membership.probeTimeoutMs' && /less than probeIntervalMs/.test(err.message))
    assert.throws(() => loadConfig({ env: {}, flags: { membership: { indirectChecks: 2.5 } } }),
      (err: unknown) => err instanceof ConfigError && err.key === 'membership.indirectChecks')
    assert.throws(() => loadConfig({ env: {}, flags: { membership: { probeIntervalMs: -1 } } }), ConfigError)
  })
})
