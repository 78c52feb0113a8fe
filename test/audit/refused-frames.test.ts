import assert from 'node:assert/strict'
import { AuditLog, RefusedFrames, type AuditInput } from '../../src/audit/index.js'
import { memoryRows } from '../api/auth-fixture.js'

describe('refused frames into the audit log', () => {
  it('writes one entry per peer, protocol and kind, counting every refusal and keeping the first reason', async () => {
    const log = await AuditLog.open(memoryRows()('audit'))
    const refused = new RefusedFrames(log)
    for (let i = 0; i < 500; i++) refused.note('peer-a', '/caxton/fipa/2.0.0', 'forged-sender', `sender x${i} is not hosted by peer-a`)
    refused.note('peer-a', '/caxton/swim/1.0.0', 'undecodable', 'bad map')
    refused.note('peer-b', '/caxton/fipa/2.0.0', 'forged-sender', 'sender y')
    assert.equal(refused.pending, 502)
    await refused.flush()
    assert.equal(refused.pending, 0)
    const entries = await log.list({ limit: 100 })
    assert.deepEqual(entries.map(e => [e.action, e.outcome, e.source, e.target, e.detail]), [
      ['peer.frame', 'refused', 'peer-a', '/caxton/fipa/2.0.0', '500 × forged-sender: sender x0 is not hosted by peer-a'],
      ['peer.frame', 'refused', 'peer-a', '/caxton/swim/1.0.0', '1 × undecodable: bad map'],
      ['peer.frame', 'refused', 'peer-b', '/caxton/fipa/2.0.0', '1 × forged-sender: sender y']
    ])
    // A period with nothing refused writes nothing.
    await refused.flush()
    assert.equal((await log.list({ limit: 100 })).length, 3)
    assert.equal((await log.verify()).ok, true)
  })

  it('bounds the entries per period whatever the number of peers: the rest go into one count', async () => {
    const log = await AuditLog.open(memoryRows()('audit'))
    const refused = new RefusedFrames(log, { maxKeys: 4 })
    for (let p = 0; p < 100; p++) refused.note(`peer-${p}`, '/caxton/fipa/2.0.0', 'undecodable', 'x')
    await refused.flush()
    const entries = await log.list({ limit: 1000 })
    assert.equal(entries.length, 5)
    assert.deepEqual(entries.slice(0, 4).map(e => e.source), ['peer-0', 'peer-1', 'peer-2', 'peer-3'])
    assert.equal(entries[4].source, '*')
    assert.match(entries[4].detail ?? '', /^96 more refused frames/)
  })

  it('throws nothing when the log cannot be written (a warning is logged); stop writes what is left', async () => {
    const written: AuditInput[] = []
    let fail = true
    const refused = new RefusedFrames({
      append: async (entry) => {
        if (fail) throw new Error('database closed')
        written.push(entry)
      }
    })
    refused.note('p', 'swim', 'claim-not-obeyed', 'dead at 2^53-1')
    await refused.flush()
    assert.equal(written.length, 0)
    fail = false
    refused.start()
    refused.note('p', 'swim', 'claim-not-obeyed', 'dead at 2^53-1')
    await refused.stop()
    assert.deepEqual(written.map(e => e.detail), ['1 × claim-not-obeyed: dead at 2^53-1'])
  })
})
