/**
 * The LevelDB registry store against the shared `RegistryStore` contract, plus what only
 * it offers: a registry batch and other rows of the node in one atomic LevelDB batch.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pack } from 'msgpackr'
import { InvalidRegistryBatchError, Registry, REGISTRY_WIRE_VERSION } from '../../protocols/registry/index.js'
import { testSigning } from '../protocols/registry/keys.js'
import { LevelRegistryStore } from '../../src/registry/index.js'
import { AgentStore } from '../../src/storage/agent-store.js'
import { openStorage } from '../../src/storage/index.js'
import { registryStoreSuite } from '../protocols/registry/store-suite.js'

registryStoreSuite('LevelRegistryStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'caxton-registry-'))
  return { open: async () => await LevelRegistryStore.open(dir), destroy: async () => await rm(dir, { recursive: true, force: true }) }
})

describe('LevelRegistryStore with the node\'s other rows', function () {
  this.timeout(20_000)
  const NODE = '12D3KooWLevelStoreNodeAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
  let dir: string

  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'caxton-registry-atomic-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('writes an agent record, its module and the registry entry together, and none of them when the batch is invalid', async () => {
    const storage = await openStorage(dir)
    try {
      const store = LevelRegistryStore.fromStorage(storage)
      const agents = new AgentStore(storage)
      const reg = new Registry({ nodeId: NODE, signing: testSigning(NODE) })
      const u = reg.apply({ type: 'put', agentId: 'echo', node: NODE, state: 'running', capabilities: [{ name: 'echo' }] }, 1_000)
      const { ops } = agents.putOps({ id: 'echo', limits: {}, deployedAt: 1_000, capabilities: [{ name: 'echo' }] }, Uint8Array.of(0, 97, 115, 109))
      await store.writeWith(u.batch, ops)
      assert.deepEqual((await agents.list()).map(a => [a.id, a.capabilities]), [['echo', [{ name: 'echo' }]]])
      assert.equal((await store.load()).entries[0].agentId, 'echo')

      // an invalid registry batch: the agent rows of the same call are not written either
      const more = agents.putOps({ id: 'other', limits: {}, deployedAt: 2_000 }, Uint8Array.of(1))
      const bad = { put: [u.batch.put[0], u.batch.put[0]], delete: [], knowledge: [] }
      await assert.rejects(store.writeWith(bad, more.ops), InvalidRegistryBatchError)
      assert.deepEqual((await agents.list()).map(a => a.id), ['echo'])

      // removal: the tombstone and the deletion of record and module in one batch
      const r = reg.apply({ type: 'remove', agentId: 'echo' }, 3_000)
      await store.writeWith(r.batch, await agents.deleteOps('echo'))
      assert.deepEqual(await agents.list(), [])
      await assert.rejects(agents.module(ops[0].key), { code: 'STORAGE_CORRUPT' })
      const restored = Registry.restore({ nodeId: NODE, signing: testSigning(NODE) }, await store.load())
      assert.equal(restored.get('echo'), undefined)
      assert.equal(restored.tombstoneCount, 1)
      await store.close()
      assert.equal(storage.db.status, 'open', 'a store over the node\'s storage leaves it open')
    } finally {
      await storage.close()
    }
  })

  it('reports a corrupt row by its key', async () => {
    const storage = await openStorage(dir)
    try {
      await storage.sublevel('registry').put('format', Uint8Array.of(REGISTRY_WIRE_VERSION))
      await storage.sublevel('registry').put('e!broken', Uint8Array.of(0xc1))
      await assert.rejects(LevelRegistryStore.fromStorage(storage).load(), { code: 'STORAGE_CORRUPT', key: 'registry/e!broken' })
    } finally {
      await storage.close()
    }
  })

  it('drops the rows of an older wire version (unsigned writes) when loaded, and keeps its own', async () => {
    const storage = await openStorage(dir)
    try {
      // as version 1 left them: no format row, entries with vector clocks and no signature
      const rows = storage.sublevel('registry')
      await rows.put('e!echo', pack(['echo', [[[[NODE, 1]], 0, 1_000, 0, [NODE, 'running', [], 1_000]]]]))
      await rows.put(`k!${NODE}`, pack([NODE, 1, []]))
      await rows.put('hlc', pack([1_000, 0]))
      const store = LevelRegistryStore.fromStorage(storage)
      assert.deepEqual(await store.load(), { entries: [], knowledge: [] })
      const reg = Registry.restore({ nodeId: NODE, signing: testSigning(NODE) }, await store.load())
      await store.write(reg.apply({ type: 'put', agentId: 'echo', node: NODE, state: 'running' }, 2_000).batch)
      assert.deepEqual((await LevelRegistryStore.fromStorage(storage).load()).entries.map(e => e.agentId), ['echo'])
    } finally {
      await storage.close()
    }
  })
})
