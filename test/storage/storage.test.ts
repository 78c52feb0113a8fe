import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { pack } from 'msgpackr'
import { AgentStore, loadOrCreateIdentity, openStorage, StorageOpenError, StorageCorruptError, writeSecretFile } from '../../src/storage/index.js'

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

  it('keeps the data folder private: 0700 when it creates it (and the folders above), or finds it wider, and its files 0600', async () => {
    const mode = (path: string): number => statSync(path).mode & 0o777
    const root = tmp()
    const dir = join(root, 'caxton', 'n1')
    let s = await openStorage(dir)
    await loadOrCreateIdentity(s)
    await s.close()
    assert.equal(mode(join(root, 'caxton')), 0o700)
    assert.equal(mode(dir), 0o700)
    // A folder from before: readable by everyone, and so is the file with the node's key.
    chmodSync(dir, 0o755)
    for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644)
    s = await openStorage(dir)
    assert.equal(mode(dir), 0o700)
    const files = readdirSync(dir)
    assert.ok(files.some(f => /\.(log|ldb)$/.test(f)), files.join(', '))
    for (const f of files) assert.equal(mode(join(dir, f)), 0o600, f)
    await s.close()
  })

  it('writes secret files with mode 0600 whatever the umask, replacing one only when asked', async () => {
    const path = join(tmp(), 'admin.token')
    const umask = process.umask(0)
    try {
      await writeSecretFile(path, 'one')
      assert.equal(statSync(path).mode & 0o777, 0o600)
      await assert.rejects(writeSecretFile(path, 'two'), { code: 'EEXIST' })
      chmodSync(path, 0o666)
      await writeSecretFile(path, 'three', { overwrite: true })
      assert.equal(statSync(path).mode & 0o777, 0o600)
    } finally {
      process.umask(umask)
    }
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

  it('keeps an agent\'s last versions and their modules; drops a module once no kept version of any agent uses it', async () => {
    const s = await openStorage(tmp())
    const store = new AgentStore(s)
    const mod = (n: number): Uint8Array => Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0, 0, 1, n)
    const apply = async (ops: Awaited<ReturnType<AgentStore['deleteOps']>>): Promise<void> => {
      const batch = s.db.batch()
      for (const op of ops) op.type === 'put' ? batch.put(op.key, op.value, { sublevel: op.sublevel }) : batch.del(op.key, { sublevel: op.sublevel })
      await batch.write()
    }
    let a = await store.put({ id: 'a', limits: {}, deployedAt: 1 }, mod(1))
    const b = await store.put({ id: 'b', limits: {}, deployedAt: 1 }, mod(2))
    assert.deepEqual([a.version, a.versions.map(v => v.version)], [1, [1]])
    for (const [n, at] of [[2, 2], [3, 3], [4, 4]]) {
      const next = store.nextVersionOps(a, { limits: { fuelPerMessage: n * 1000 }, capabilities: [], deployedAt: at }, mod(n), 3, [b])
      await apply(next.ops)
      a = next.record
    }
    const [stored] = await store.list()
    assert.deepEqual(stored, a)
    assert.equal(a.version, 4)
    assert.deepEqual(a.versions.map(v => [v.version, v.moduleBytes, v.limits.fuelPerMessage]), [[2, 11, 2000], [3, 11, 3000], [4, 11, 4000]])
    // Module 1 went with version 1; modules 2 (b's too), 3 and 4 are kept.
    const hashes = async (): Promise<string[]> => { const out: string[] = []; for await (const k of s.modules.keys()) out.push(k); return out.sort() }
    assert.deepEqual(await hashes(), a.versions.map(v => v.moduleHash).sort())
    assert.ok((await hashes()).includes(b.moduleHash))
    const back = store.nextVersionOps(a, { limits: {}, capabilities: [], deployedAt: 5, rollbackOf: 3 }, mod(3), 3, [b])
    await apply(back.ops)
    assert.deepEqual(back.record.versions.map(v => [v.version, v.rollbackOf]), [[3, undefined], [4, undefined], [5, 3]])
    await store.delete('a')
    assert.deepEqual(new Uint8Array(await store.module(b.moduleHash)), mod(2), 'still used by b')
    assert.deepEqual(await hashes(), [b.moduleHash])
    await s.close()
  })

  it('reads a record written before versions as version 1 of its module', async () => {
    const s = await openStorage(tmp())
    const wasm = Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0)
    const { record, ops } = new AgentStore(s).putOps({ id: 'old', limits: { fuelPerMessage: 9 }, deployedAt: 7 }, wasm)
    const { version: _v, versions: _vs, ...before } = record
    await s.modules.put(record.moduleHash, wasm)
    await s.agents.put('old', pack(before))
    assert.equal(ops.length, 2)
    const [read] = await new AgentStore(s).list()
    assert.equal(read.version, 1)
    assert.deepEqual(read.versions, [{ version: 1, moduleHash: record.moduleHash, moduleBytes: 8, limits: { fuelPerMessage: 9 }, capabilities: [], deployedAt: 7 }])
    await s.close()
  })

  it('reports a corrupt agent record by key instead of crashing', async () => {
    const s = await openStorage(tmp())
    await s.agents.put('bad', Uint8Array.of(0xc1))
    await assert.rejects(new AgentStore(s).list(), (err: unknown) => err instanceof StorageCorruptError && err.key === 'agents/bad')
    await s.close()
  })
})
