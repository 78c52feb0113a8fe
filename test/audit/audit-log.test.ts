import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { Packr } from 'msgpackr'
import { AuditLog } from '../../src/audit/index.js'
import type { Sublevel } from '../../src/storage/index.js'
import { memoryRows } from '../api/auth-fixture.js'

const packr = new Packr({ useRecords: false, mapsAsObjects: true })
const key = (seq: number): string => String(seq).padStart(16, '0')

async function filled (n: number): Promise<{ rows: Sublevel, log: AuditLog }> {
  const rows = memoryRows()('audit')
  let t = 1000
  const log = await AuditLog.open(rows, { now: () => t++ })
  for (let i = 1; i <= n; i++) await log.append({ action: 'agent.deploy', outcome: 'ok', status: 201, target: `agent-${i}`, actor: { id: 'aaaaaaaaaaaa', name: 'ci', role: 'deployer' } })
  return { rows, log }
}

describe('audit log', () => {
  it('chains each entry to the one before by SHA-256; lists them in order; verifies', async () => {
    const { rows, log } = await filled(5)
    const entries = await log.list({ limit: 100 })
    assert.deepEqual(entries.map(e => e.seq), [1, 2, 3, 4, 5])
    assert.equal(entries[0].prev, '0'.repeat(64))
    for (let i = 1; i < entries.length; i++) assert.equal(entries[i].prev, entries[i - 1].hash)
    const stored = await rows.get(key(3)) as Uint8Array
    assert.equal(entries[2].hash, createHash('sha256').update(stored).digest('hex'))
    assert.deepEqual(await log.verify(), { ok: true, entries: 5, head: { seq: 5, hash: entries[4].hash } })
    assert.deepEqual((await log.list({ after: 3, limit: 1 })).map(e => e.target), ['agent-4'])
  })

  it('keeps the order of concurrent appends, and goes on after a reopen', async () => {
    const { rows, log } = await filled(0)
    await Promise.all(Array.from({ length: 20 }, async (_, i) => await log.append({ action: 'x', outcome: 'ok', detail: String(i) })))
    assert.deepEqual((await log.list({ limit: 100 })).map(e => e.detail), Array.from({ length: 20 }, (_, i) => String(i)))
    const reopened = await AuditLog.open(rows)
    await reopened.append({ action: 'y', outcome: 'refused' })
    assert.deepEqual(await reopened.verify().then(v => [v.ok, v.entries]), [true, 21])
  })

  it('names a changed entry (its successor carries another hash of it)', async () => {
    const { rows, log } = await filled(6)
    const entry = packr.unpack(await rows.get(key(3)) as Uint8Array) as Record<string, unknown>
    await rows.put(key(3), packr.pack({ ...entry, target: 'someone-else' }))
    const v = await log.verify()
    assert.equal(v.ok, false)
    assert.equal(v.broken?.seq, 3)
    assert.match(v.broken?.reason ?? '', /entry 3 was changed or replaced: entry 4 carries another hash of it/)
  })

  it('names a removed entry, entries removed from the end, and a changed last entry', async () => {
    const removedMiddle = await filled(6)
    await removedMiddle.rows.del(key(4))
    assert.deepEqual((await removedMiddle.log.verify()).broken, { seq: 4, reason: 'entry 4 is missing (the next entry is 5)' })

    const truncated = await filled(6)
    await truncated.rows.batch([{ type: 'del', key: key(5) }, { type: 'del', key: key(6) }])
    assert.deepEqual((await truncated.log.verify()).broken, { seq: 5, reason: 'entries 5 to 6 were removed (the head records 6 entries)' })

    const lastChanged = await filled(3)
    const entry = packr.unpack(await lastChanged.rows.get(key(3)) as Uint8Array) as Record<string, unknown>
    await lastChanged.rows.put(key(3), packr.pack({ ...entry, outcome: 'failed' }))
    assert.deepEqual((await lastChanged.log.verify()).broken, { seq: 3, reason: 'entry 3 was changed: its hash differs from the one the head records' })

    const firstChanged = await filled(2)
    const first = packr.unpack(await firstChanged.rows.get(key(1)) as Uint8Array) as Record<string, unknown>
    await firstChanged.rows.put(key(1), packr.pack({ ...first, prev: new Uint8Array(32).fill(1) }))
    assert.equal((await firstChanged.log.verify()).broken?.seq, 1)
  })

  it('cuts long fields', async () => {
    const { log } = await filled(0)
    const e = await log.append({ action: 'x', outcome: 'ok', detail: 'd'.repeat(5000), target: 't'.repeat(5000) })
    assert.equal(e.detail?.length, 1000)
    assert.equal(e.target?.length, 256)
  })
})
