/**
 * DHT provider records: provide, re-provide on a schedule, withdraw (stop re-providing),
 * lookups bounded and filtered.
 */
import assert from 'node:assert/strict'
import type { CID } from 'multiformats/cid'
import { agentKey, ProviderRecords } from '../../src/routing/index.js'

class FakeDht {
  provided: string[] = []
  cancelled: string[] = []
  providers = new Map<string, string[]>()
  hang = false

  async provide (key: CID): Promise<void> { this.provided.push(key.toString()) }
  async * findProviders (key: CID, options: { signal?: AbortSignal } = {}): AsyncIterable<{ id: { toString: () => string }, multiaddrs: [] }> {
    if (this.hang) {
      await new Promise((_resolve, reject) => { options.signal?.addEventListener('abort', () => { reject(options.signal?.reason) }) })
    }
    for (const p of this.providers.get(key.toString()) ?? []) yield { id: { toString: () => p }, multiaddrs: [] }
  }

  async cancelReprovide (key: CID): Promise<void> { this.cancelled.push(key.toString()) }
}

async function keyOf (id: string): Promise<string> { return (await agentKey(id)).toString() }

describe('ProviderRecords (kad-dht fallback)', () => {
  let dht: FakeDht
  let local: string[]
  let records: ProviderRecords

  beforeEach(() => {
    dht = new FakeDht()
    local = []
    records = new ProviderRecords({
      contentRouting: dht as never,
      dht,
      self: 'peer-self',
      localAgents: () => local,
      reprovideIntervalMs: 20,
      lookupTimeoutMs: 50
    })
  })

  afterEach(() => { records.stop() })

  it('re-provides every local agent on its schedule, and stops once the agent is gone', async () => {
    local = ['a', 'b']
    records.start()
    const [ka, kb] = [await keyOf('a'), await keyOf('b')]
    const deadline = Date.now() + 5000
    while (!(dht.provided.includes(ka) && dht.provided.includes(kb))) {
      assert.ok(Date.now() < deadline, 'a re-provide round within 5 s')
      await new Promise(resolve => setTimeout(resolve, 5))
    }
    assert.equal(await records.reprovideAll(), 2)
    local = ['b']
    await records.withdraw('a')
    assert.deepEqual(dht.cancelled, [ka])
    dht.provided = []
    assert.equal(await records.reprovideAll(), 1)
    assert.deepEqual(dht.provided, [kb])
  })

  it('withdraws a record whose agent was removed while it was being provided', async () => {
    local = []
    records.provide('gone')
    const k = await keyOf('gone')
    const deadline = Date.now() + 5000
    while (!dht.cancelled.includes(k)) {
      assert.ok(Date.now() < deadline)
      await new Promise(resolve => setTimeout(resolve, 5))
    }
  })

  it('finds the first acceptable provider, never itself, and gives up at the lookup bound', async () => {
    dht.providers.set(await keyOf('echo'), ['peer-self', 'peer-b', 'peer-c'])
    assert.equal(await records.find('echo', () => true), 'peer-b')
    assert.equal(await records.find('echo', p => p !== 'peer-b'), 'peer-c')
    assert.equal(await records.find('nobody', () => true), undefined)
    dht.hang = true
    const t0 = Date.now()
    assert.equal(await records.find('echo', () => true), undefined)
    assert.ok(Date.now() - t0 < 2000)
  })
})
