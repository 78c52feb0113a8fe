import assert from 'node:assert/strict'
import { encodeMessage, decodeMessage, type AclMessage } from '../../protocols/fipa/index.js'
import { MessageLog } from '../../src/delivery/message-log.js'
import { StatusTable } from '../../src/delivery/status-table.js'
import type { ReceiverStatus } from '../../src/delivery/types.js'

describe('delivery: status table', () => {
  const st = (receiver: string, state: ReceiverStatus['state'], at: number, more: Partial<ReceiverStatus> = {}): ReceiverStatus => ({ receiver, state, at, ...more })

  it('keeps at most max message ids, evicting the oldest added first', () => {
    const t = new StatusTable(3)
    for (const id of ['a', 'b', 'c', 'd', 'e']) t.record(id, 's', st('x', 'delivered', 1))
    assert.equal(t.size, 3)
    assert.equal(t.get('a'), undefined)
    assert.equal(t.get('b'), undefined)
    assert.equal(t.get('c')?.receivers[0].state, 'delivered')
    assert.notEqual(t.get('e'), undefined)
  })

  it('updating a kept id neither grows the table nor evicts another; the sender is the first status\'s', () => {
    const t = new StatusTable(2)
    t.record('a', 's', st('x', 'delivered', 1))
    t.record('b', undefined, st('x', 'delivered', 1))
    t.record('a', 'other', st('x', 'handled', 2, { peer: 'p' }))
    assert.equal(t.size, 2)
    assert.deepEqual(t.get('a'), { sender: 's', receivers: [st('x', 'handled', 2, { peer: 'p' })] })
    assert.deepEqual(t.get('b'), { receivers: [st('x', 'delivered', 1)] })
    t.record('c', 's', st('x', 'delivered', 3))
    assert.equal(t.get('a'), undefined)
    assert.notEqual(t.get('b'), undefined)
  })

  it('gives back every field of a status, per receiver, whichever way it is kept', () => {
    const t = new StatusTable(10)
    t.record('m1', 's', st('r1', 'delivered', 5, { peer: 'node-b', attempts: 2 }))
    assert.deepEqual(t.get('m1'), { sender: 's', receivers: [st('r1', 'delivered', 5, { peer: 'node-b', attempts: 2 })] })
    // a second receiver: both kept, each replaced by its own later status
    t.record('m1', 's', st('r2', 'delivered', 6))
    t.record('m1', 's', st('r1', 'handled', 7, { peer: 'node-b' }))
    assert.deepEqual(t.get('m1')?.receivers, [st('r1', 'handled', 7, { peer: 'node-b' }), st('r2', 'delivered', 6)])
    // a dead letter's fields
    const dead = st('r3', 'dead-lettered', 8, { reason: 'no agent r3', cause: 'not-found', attempts: 1, deadLetterId: 'dl-1', peer: 'node-c' })
    t.record('m2', 's', dead)
    assert.deepEqual(t.get('m2'), { sender: 's', receivers: [dead] })
    // back to column fields for the same receiver
    t.record('m2', 's', st('r3', 'delivered', 9))
    assert.deepEqual(t.get('m2'), { sender: 's', receivers: [st('r3', 'delivered', 9)] })
  })

  it('hands out copies: changing what get returned changes nothing kept', () => {
    const t = new StatusTable(4)
    t.record('m', 's', st('r', 'delivered', 1))
    t.record('n', 's', st('r', 'dead-lettered', 1, { reason: 'gone' }))
    for (const id of ['m', 'n']) {
      const got = t.get(id)
      assert.ok(got !== undefined)
      got.receivers[0].state = 'queued'
      got.receivers.push(st('q', 'sent', 2))
      assert.equal(t.get(id)?.receivers.length, 1)
      assert.notEqual(t.get(id)?.receivers[0].state, 'queued')
    }
  })

  it('a slot taken over by a newer id keeps nothing of the one before', () => {
    const t = new StatusTable(2)
    t.record('a', 's', st('r1', 'dead-lettered', 1, { reason: 'why', deadLetterId: 'dl' }))
    t.record('a', 's', st('r2', 'delivered', 1))
    t.record('b', 's', st('x', 'delivered', 2))
    t.record('c', undefined, st('y', 'handled', 3, { attempts: 4 }))
    assert.equal(t.get('a'), undefined)
    assert.deepEqual(t.get('c'), { receivers: [st('y', 'handled', 3, { attempts: 4 })] })
  })

  it('grows past its first columns up to max and then reuses them', () => {
    const t = new StatusTable(3000)
    for (let i = 0; i < 5000; i++) t.record(`m${i}`, `s${i % 7}`, st(`r${i % 5}`, i % 2 === 0 ? 'delivered' : 'handled', i, { attempts: i % 3 }))
    assert.equal(t.size, 3000)
    assert.equal(t.get('m1999'), undefined)
    for (const i of [2000, 2001, 3500, 4999]) {
      assert.deepEqual(t.get(`m${i}`), { sender: `s${i % 7}`, receivers: [st(`r${i % 5}`, i % 2 === 0 ? 'delivered' : 'handled', i, { attempts: i % 3 })] })
    }
  })

  it('refuses a bound below 1', () => {
    assert.throws(() => new StatusTable(0), RangeError)
  })
})

describe('delivery: recent-message log', () => {
  const m = (id: string, fields: Partial<AclMessage> = {}): AclMessage => ({ messageId: id, createdAt: 1, performative: 'INFORM', sender: 's', receivers: ['r'], ...fields })

  it('decodes a line added encoded only when a query reads it, once', () => {
    const log = new MessageLog(4)
    let decoded = 0
    const decode = (b: Uint8Array): AclMessage => { decoded++; return decodeMessage(b) }
    log.add({ at: 1, direction: 'local', status: 'delivered', message: m('m1') })
    log.addEncoded(2, 'out', 'delivered', 'B', encodeMessage(m('m2', { conversationId: 'c2' })), decode)
    log.addEncoded(3, 'out', 'delivered', undefined, encodeMessage(m('m3')), decode)
    assert.equal(decoded, 0)
    const first = log.query({})
    assert.deepEqual(first.map(r => r.message.messageId), ['m3', 'm2', 'm1'])
    assert.deepEqual({ ...first[1], message: undefined }, { direction: 'out', status: 'delivered', peer: 'B', at: 2, message: undefined })
    // No peer: no `peer` key at all (the API's JSON leaves it out).
    assert.deepEqual(Object.keys(first[0]).sort(), ['at', 'direction', 'message', 'status'])
    assert.deepEqual(log.query({ conversationId: 'c2' }).map(r => r.message.messageId), ['m2'])
    assert.equal(decoded, 2)
  })

  it('leaves out a line whose bytes no longer decode', () => {
    const log = new MessageLog(4)
    log.add({ at: 1, direction: 'local', status: 'delivered', message: m('m1') })
    log.addEncoded(2, 'out', 'delivered', undefined, new Uint8Array([0xc1]), decodeMessage)
    assert.deepEqual(log.query({}).map(r => r.message.messageId), ['m1'])
  })
})
