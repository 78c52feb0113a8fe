/**
 * The `registry` config section: defaults are `REGISTRY_TIMING` of the node's preset, each
 * key overrides one field (file, CAXTON_REGISTRY_*, flags), and bad values are refused at
 * load time, naming the key.
 */
import assert from 'node:assert/strict'
import { ConfigError, loadConfig } from '../../src/config/index.js'
import { REGISTRY_TIMING } from '../../src/registry/index.js'

describe('config: registry', () => {
  it('takes its defaults from the registry timing of the node\'s preset', () => {
    assert.deepEqual(loadConfig({ env: {} }).registry, REGISTRY_TIMING.lan)
    assert.deepEqual(loadConfig({ env: {}, flags: { preset: 'local' } }).registry, REGISTRY_TIMING.local)
    assert.deepEqual(loadConfig({ env: {}, flags: { preset: 'wan' } }).registry, REGISTRY_TIMING.wan)
  })

  it('overrides one field at a time, from the environment or flags', () => {
    const c = loadConfig({ env: { CAXTON_REGISTRY_ANTI_ENTROPY_INTERVAL_MS: '0' }, flags: { registry: { maxConcurrentSyncs: 2 } } })
    assert.equal(c.registry.antiEntropyIntervalMs, 0)
    assert.equal(c.registry.maxConcurrentSyncs, 2)
    assert.equal(c.registry.maintenanceIntervalMs, REGISTRY_TIMING.lan.maintenanceIntervalMs)
  })

  it('refuses a bad value, naming the key and the source', () => {
    assert.throws(() => loadConfig({ env: { CAXTON_REGISTRY_MAX_CONCURRENT_SYNCS: '0' } }),
      (err: unknown) => err instanceof ConfigError && err.key === 'registry.maxConcurrentSyncs' && /CAXTON_REGISTRY_MAX_CONCURRENT_SYNCS/.test(err.message))
    assert.throws(() => loadConfig({ env: {}, flags: { registry: { syncTimeoutMs: 1.5 } } }),
      (err: unknown) => err instanceof ConfigError && err.key === 'registry.syncTimeoutMs')
  })
})
