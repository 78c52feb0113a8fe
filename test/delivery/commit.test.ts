import assert from 'node:assert/strict'
import { MemoryLevel } from 'memory-level'
import type { Level } from 'level'
import { GroupCommit } from '../../src/delivery/commit.js'
import type { StorageOp, Sublevel } from '../../src/storage/index.js'

/** A database in memory with the node storage's shape, and a count of its batch writes. */
function rows (): { db: Level<string, Uint8Array>, sub: Sublevel, batches: () => number } {
  const mem = new MemoryLevel<string, Uint8Array>({ valueEncoding: 'view' })
  let batches = 0
  const batch = mem.batch.bind(mem)
  ;(mem as unknown as { batch: () => unknown }).batch = () => {
    const b = batch() as unknown as { write: (o?: unknown) => Promise<void> }
    const write = b.write.bind(b)
    b.write = async (o?: unknown) => { batches++; await write(o) }
    return b
  }
  const sub = mem.sublevel<string, Uint8Array>('t', { valueEncoding: 'view' }) as unknown as Sublevel
  return { db: mem as unknown as Level<string, Uint8Array>, sub, batches: () => batches }
}

const put = (sub: Sublevel, key: string): StorageOp => ({ type: 'put', sublevel: sub, key, value: new Uint8Array([1]) })

describe('delivery: group commit', () => {
  it('writes rows staged for later in the next batch other rows make, in staging order', async () => {
    const { db, sub, batches } = rows()
    const commits = new GroupCommit(db, { laterMs: 60_000 })
    const told: string[] = []
    commits.stageLater([put(sub, 'a')], () => { told.push('later') })
    commits.stageLater([{ type: 'del', sublevel: sub, key: 'a' }], () => { told.push('later-del') })
    await new Promise(resolve => setTimeout(resolve, 20))
    assert.equal(batches(), 0, 'rows staged for later wait for a batch')
    await commits.commit([put(sub, 'b')])
    assert.equal(batches(), 1, 'one batch for both')
    assert.deepEqual(told, ['later', 'later-del'])
    assert.equal(await sub.get('a'), undefined, 'the delete staged after the put wins')
    assert.deepEqual([...(await sub.get('b')) ?? []], [1])
  })

  it('writes rows staged for later on their own after laterMs when no batch comes', async () => {
    const { db, sub, batches } = rows()
    const commits = new GroupCommit(db, { laterMs: 5 })
    await new Promise<void>((resolve, reject) => {
      commits.stageLater([put(sub, 'a')], err => { if (err === undefined) resolve(); else reject(err) })
    })
    assert.equal(batches(), 1)
    assert.deepEqual([...(await sub.get('a')) ?? []], [1])
  })

  it('flushed() writes rows staged for later at once', async () => {
    const { db, sub, batches } = rows()
    const commits = new GroupCommit(db, { laterMs: 60_000 })
    commits.stageLater([put(sub, 'a')], () => {})
    await commits.flushed()
    assert.equal(batches(), 1)
    assert.deepEqual([...(await sub.get('a')) ?? []], [1])
  })
})
