/**
 * The member table in LevelDB: a round trip, the last save wins, nothing stored reads as
 * undefined, and rows that do not decode are a named error (the service then starts
 * without them).
 */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelMemberStore, MEMBERSHIP_SUBLEVEL } from '../../src/membership/index.js'
import { openStorage, StorageCorruptError, type NodeStorage } from '../../src/storage/index.js'

describe('LevelMemberStore', () => {
  let storage: NodeStorage
  beforeEach(async () => { storage = await openStorage(mkdtempSync(join(tmpdir(), 'caxton-members-'))) })
  afterEach(async () => { await storage.close() })

  it('keeps the last snapshot across a reopen', async () => {
    const store = new LevelMemberStore(storage)
    assert.equal(await store.load(), undefined)
    await store.save({ incarnation: 1, members: [{ id: 'a', state: 'alive', incarnation: 0, addrs: ['/ip4/127.0.0.1/tcp/1/p2p/a'] }] })
    const members = [
      { id: 'a', state: 'dead' as const, incarnation: 2, addrs: ['/ip4/127.0.0.1/tcp/1/p2p/a'] },
      { id: 'b', state: 'suspect' as const, incarnation: 0, addrs: [] },
      { id: 'c', state: 'left' as const, incarnation: 7, addrs: ['/ip4/127.0.0.1/tcp/3/p2p/c', '/ip4/127.0.0.2/tcp/3/p2p/c'] }
    ]
    await store.save({ incarnation: 4, members })
    const dir = storage.dataDir
    await storage.close()
    storage = await openStorage(dir)
    assert.deepEqual(await new LevelMemberStore(storage).load(), { incarnation: 4, members })
  })

  it('names the row that does not decode', async () => {
    const rows = storage.sublevel(MEMBERSHIP_SUBLEVEL)
    const store = new LevelMemberStore(storage)
    await rows.put('members', Uint8Array.of(0xc1))
    await assert.rejects(store.load(), (err: unknown) => err instanceof StorageCorruptError && err.key === 'membership/members')
    await store.save({ incarnation: 0, members: [{ id: 'a', state: 'alive', incarnation: 0, addrs: [] }] })
    // A well-formed value of the wrong shape: state 9 does not exist.
    const { Packr } = await import('msgpackr')
    await rows.put('members', new Packr({ useRecords: false }).pack([[9, 'a', 0, []]]))
    await assert.rejects(store.load(), /membership\/members\[0\].*unknown state 9/)
  })
})
