import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { AgentStore, loadOrCreateIdentity, openStorage, StorageOpenError, StorageCorruptError } from '../../src/storage/index.js'

const tmp = (): string => mkdtempSync(join(tmpdir(), 'caxton-storage-'))

describe('storage', () => {
  it('keeps the node identity across reopen, so the PeerId is stable', async () => {
    const dir = tmp()
    let s = await openStorage(dir)
    const first = await loadOrCreateIdentity(s)
    assert.equal(first.created, true)
    await s.close()
    s = await openStorage(dir)
    const second = await loadOrCreateIdentity(s)
    assert.equal(second.created, false)
    assert.equal(peerIdFromPrivateKey(second.privateKey).toString(), peerIdFromPrivateKey(first.privateKey).toString())
    await s.close()
  })

  it('refuses a data folder another node holds open, saying so', async () => {
    const dir = tmp()
    const s = await openStorage(dir)
    await assert.rejects(openStorage(dir), (err: unknown) => err instanceof StorageOpenError && /another Caxton node/.test(err.message))
    await s.close()
  })

  it('refuses a database written by a newer schema', async () => {
    const dir = tmp()
    const s = await openStorage(dir)
    await s.meta.put('schemaVersion', Uint8Array.of(99))
    await s.close()
    await assert.rejects(openStorage(dir), /newer Caxton/)
  })

  it('stores agents with their modules, shares modules by hash, deletes atomically', async () => {
    const s = await openStorage(tmp())
    const store = new AgentStore(s)
    const wasm = Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0)
    const a = await store.put({ id: 'a', limits: { mailboxCapacity: 5 }, deployedAt: 1 }, wasm)
    const b = await store.put({ id: 'b', limits: {}, deployedAt: 2 }, wasm)
    assert.equal(a.moduleHash, b.moduleHash)
    assert.deepEqual((await store.list()).map(x => x.id), ['a', 'b'])
    assert.deepEqual((await store.list())[0].limits, { mailboxCapacity: 5 })
    await store.delete('a')
    assert.deepEqual(new Uint8Array(await store.module(b.moduleHash)), wasm, 'module still used by b')
    await store.delete('b')
    await assert.rejects(store.module(b.moduleHash), StorageCorruptError)
    assert.deepEqual(await store.list(), [])
    await s.close()
  })

  it('reports a corrupt agent record by key instead of crashing', async () => {
    const s = await openStorage(tmp())
    await s.agents.put('bad', Uint8Array.of(0xc1))
    await assert.rejects(new AgentStore(s).list(), (err: unknown) => err instanceof StorageCorruptError && err.key === 'agents/bad')
    await s.close()
  })
})
