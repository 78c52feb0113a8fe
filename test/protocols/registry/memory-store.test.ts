import assert from 'node:assert/strict'
import { MemoryRegistryStore, combineBatches, createMemoryRegistryData, isEmptyBatch, Registry } from '../../../protocols/registry/index.js'
import { testSigning } from './keys.js'
import { registryStoreSuite } from './store-suite.js'

registryStoreSuite('MemoryRegistryStore', async () => {
  const data = createMemoryRegistryData()
  return {
    open: async () => new MemoryRegistryStore(data),
    destroy: async () => {
      data.entries.clear()
      data.knowledge.clear()
      data.hlc = undefined
    }
  }
})

describe('registry batches', () => {
  it('combines batches into one with the same effect', async () => {
    const reg = new Registry({ nodeId: 'n', signing: testSigning('n') })
    const b1 = reg.apply({ type: 'put', agentId: 'x', node: 'n', state: 'running' }, 1).batch
    const b2 = reg.apply({ type: 'put', agentId: 'y', node: 'n', state: 'running' }, 2).batch
    const b3 = reg.apply({ type: 'remove', agentId: 'x' }, 3).batch
    const b4 = reg.collectGarbage({ now: 4, members: ['n'] }).batch
    const oneByOne = new MemoryRegistryStore()
    for (const b of [b1, b2, b3, b4]) await oneByOne.write(b)
    const combined = new MemoryRegistryStore()
    const all = combineBatches(b1, b2, b3, b4)
    await combined.write(all)
    assert.deepEqual(await combined.load(), await oneByOne.load())
    assert.deepEqual(all.delete, ['x'])
    assert.equal(isEmptyBatch(all), false)
    assert.equal(isEmptyBatch(combineBatches()), true)
  })
})
