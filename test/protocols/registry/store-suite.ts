/**
 * The contract every `RegistryStore` meets, as a mocha suite to run against each
 * implementation (in-memory here; LevelDB in `test/registry/`):
 *
 * ```ts
 * import { registryStoreSuite } from '../protocols/registry/store-suite.js'
 * registryStoreSuite('LevelRegistryStore', async () => {
 *   const dir = await mkdtemp(join(tmpdir(), 'caxton-registry-'))
 *   return { open: async () => await LevelRegistryStore.open(dir), destroy: async () => await rm(dir, { recursive: true, force: true }) }
 * })
 * ```
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  InvalidRegistryBatchError, Registry, RegistryStoreClosedError, type RegistryBatch, type RegistryEntry, type RegistryStore
} from '../../../protocols/registry/index.js'
import { testSigning } from './keys.js'
import { stateBytes } from './sim.js'

export interface RegistryStoreHarness {
  /** Opens a store over this harness's data; after `close()`, opens it again (a reopen). */
  open: () => Promise<RegistryStore>
  /** Deletes the data (after each test). */
  destroy: () => Promise<void>
}

const NODE = '12D3KooWSuiteNodeAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
const OTHER = '12D3KooWSuiteNodeBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'

function entries (n: number, prefix = 'agent'): RegistryEntry[] {
  const reg = new Registry({ nodeId: NODE, signing: testSigning(NODE) })
  const out: RegistryEntry[] = []
  for (let i = 0; i < n; i++) {
    const agentId = `${prefix}-${String(i).padStart(5, '0')}`
    reg.apply({ type: 'put', agentId, node: NODE, state: 'running', capabilities: [{ name: `cap-${i % 7}`, schema: { n: i } }] }, 1_000 + i)
    out.push(reg.entry(agentId) as RegistryEntry)
  }
  return out
}

function batch (b: Partial<RegistryBatch>): RegistryBatch {
  return { put: [], delete: [], knowledge: [], ...b }
}

export function registryStoreSuite (name: string, create: () => Promise<RegistryStoreHarness>): void {
  describe(`RegistryStore contract: ${name}`, function () {
    this.timeout(30_000)
    let harness: RegistryStoreHarness
    let store: RegistryStore

    beforeEach(async () => {
      harness = await create()
      store = await harness.open()
    })

    afterEach(async () => {
      await store.close()
      await harness.destroy()
    })

    async function reopen (): Promise<void> {
      await store.close()
      store = await harness.open()
    }

    it('starts empty', async () => {
      const loaded = await store.load()
      assert.deepEqual(loaded.entries, [])
      assert.deepEqual(loaded.knowledge, [])
      assert.equal(loaded.hlc, undefined)
    })

    it('loads what was written, entries sorted by agent id and knowledge by node, after a reopen too', async () => {
      const list = entries(20)
      await store.write(batch({
        put: [...list].reverse(),
        knowledge: [{ node: OTHER, upTo: 4, extra: [6, 9] }, { node: NODE, upTo: 20, extra: [] }],
        hlc: { wall: 1_019, logical: 3 }
      }))
      for (const check of ['before', 'after'] as const) {
        if (check === 'after') await reopen()
        const loaded = await store.load()
        assert.deepEqual(loaded.entries, list, check)
        assert.deepEqual(loaded.knowledge, [{ node: NODE, upTo: 20, extra: [] }, { node: OTHER, upTo: 4, extra: [6, 9] }], check)
        assert.deepEqual(loaded.hlc, { wall: 1_019, logical: 3 }, check)
      }
    })

    it('replaces entries and knowledge rows, deletes entries, and ignores deleting what is absent', async () => {
      const [a, b, c] = entries(3)
      await store.write(batch({ put: [a, b], knowledge: [{ node: NODE, upTo: 2, extra: [] }], hlc: { wall: 1, logical: 0 } }))
      const reg = new Registry({ nodeId: NODE, signing: testSigning(NODE) })
      reg.apply({ type: 'put', agentId: a.agentId, node: NODE, state: 'stopped' }, 5)
      const a2 = reg.entry(a.agentId) as RegistryEntry
      await store.write(batch({ put: [a2, c], delete: [b.agentId, 'never-there'], knowledge: [{ node: NODE, upTo: 3, extra: [5] }] }))
      await reopen()
      const loaded = await store.load()
      assert.deepEqual(loaded.entries, [a2, c])
      assert.deepEqual(loaded.knowledge, [{ node: NODE, upTo: 3, extra: [5] }])
      assert.deepEqual(loaded.hlc, { wall: 1, logical: 0 }, 'a batch without hlc keeps the stored one')
    })

    it('applies a batch all or nothing: an invalid batch throws and writes nothing', async () => {
      const [a, b] = entries(2)
      await store.write(batch({ put: [a] }))
      const before = await store.load()
      const invalid: RegistryBatch[] = [
        batch({ put: [b], delete: [b.agentId] }),
        batch({ put: [b, b] }),
        batch({ put: [b], delete: [a.agentId, a.agentId] }),
        batch({ put: [b], knowledge: [{ node: NODE, upTo: 1, extra: [] }, { node: NODE, upTo: 2, extra: [] }] }),
        batch({ put: [{ agentId: 'empty', versions: [] }] })
      ]
      for (const bad of invalid) {
        await assert.rejects(store.write(bad), InvalidRegistryBatchError)
        assert.deepEqual(await store.load(), before)
      }
    })

    it('applies writes in the order they were called, even when not awaited one by one', async () => {
      const [a] = entries(1)
      const reg = new Registry({ nodeId: NODE, signing: testSigning(NODE) })
      reg.apply({ type: 'put', agentId: a.agentId, node: NODE, state: 'draining' }, 9)
      const later = reg.entry(a.agentId) as RegistryEntry
      await Promise.all([
        store.write(batch({ put: [a], hlc: { wall: 1, logical: 0 } })),
        store.write(batch({ delete: [a.agentId] })),
        store.write(batch({ put: [later], hlc: { wall: 2, logical: 0 } }))
      ])
      const loaded = await store.load()
      assert.deepEqual(loaded.entries, [later])
      assert.deepEqual(loaded.hlc, { wall: 2, logical: 0 })
    })

    it('accepts an empty batch', async () => {
      await store.write(batch({}))
      assert.deepEqual((await store.load()).entries, [])
    })

    it('holds 10,000 entries written in one batch', async () => {
      const list = entries(10_000)
      await store.write(batch({ put: list }))
      await reopen()
      const loaded = await store.load()
      assert.equal(loaded.entries.length, 10_000)
      assert.deepEqual(loaded.entries[9_999], list[9_999])
    })

    it('refuses every call after close, and close is idempotent', async () => {
      await store.close()
      await store.close()
      await assert.rejects(store.load(), RegistryStoreClosedError)
      await assert.rejects(store.write(batch({})), RegistryStoreClosedError)
      store = await harness.open()
    })

    it('restores a registry equal to the one whose batches it stored (property)', async () => {
      const op = fc.record({
        writer: fc.nat(1),
        agent: fc.constantFrom('a', 'b', 'c.d', 'e-f_g', 'x'.repeat(128)),
        kind: fc.constantFrom('put' as const, 'remove' as const, 'gc' as const, 'deliver' as const)
      })
      await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async ops => {
        await store.close()
        await harness.destroy()
        harness = await create()
        store = await harness.open()
        const regs = [new Registry({ nodeId: NODE, signing: testSigning(NODE), tombstoneTtlMs: 5 }), new Registry({ nodeId: OTHER, signing: testSigning(OTHER), tombstoneTtlMs: 5 })]
        const outbox: Array<ReturnType<Registry['snapshot']>> = []
        let now = 1_000
        for (const o of ops) {
          now += 2
          const reg = regs[o.writer]
          if (o.kind === 'deliver') {
            // replica 1 tells replica 0 everything it has, concurrent versions included
            const b = regs[0].merge(regs[1].snapshot(), { now, from: OTHER }).batch
            await store.write(b)
          } else if (o.kind === 'gc') {
            await store.write(regs[0].collectGarbage({ now, members: [NODE] }).batch)
          } else {
            const u = reg.apply(o.kind === 'put'
              ? { type: 'put', agentId: o.agent, node: reg.nodeId, state: 'running', capabilities: [{ name: 'c', schema: { k: [1, 'two', null] } }] }
              : { type: 'remove', agentId: o.agent }, now)
            if (o.writer === 0) await store.write(u.batch)
            else if (u.delta !== undefined) outbox.push(u.delta)
          }
        }
        await reopen()
        const restored = Registry.restore({ nodeId: NODE, signing: testSigning(NODE), tombstoneTtlMs: 5 }, await store.load())
        assert.equal(stateBytes(restored), stateBytes(regs[0]))
        assert.deepEqual(restored.hlc, regs[0].hlc)
      }), { numRuns: 25 })
    })
  })
}
