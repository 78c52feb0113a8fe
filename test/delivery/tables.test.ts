import assert from 'node:assert/strict'
import { encodeMessage, decodeMessage, type AclMessage } from '../../protocols/fipa/index.js'
import { MessageLog } from '../../src/delivery/message-log.js'
import { StatusTable } from '../../src/delivery/status-table.js'

describe('delivery: status table', () => {
  it('keeps at most max message ids, evicting the oldest added first', () => {
    const t = new StatusTable(3)
    for (const id of ['a', 'b', 'c', 'd', 'e']) t.set(id, { receivers: [{ receiver: 'x', state: 'delivered', at: 1 }] })
    assert.equal(t.size, 3)
    assert.equal(t.get('a'), undefined)
    assert.equal(t.get('b'), undefined)
    assert.equal(t.get('c')?.receivers[0].state, 'delivered')
    assert.notEqual(t.get('e'), undefined)
  })

  it('replacing a kept id neither grows the table nor evicts another', () => {
    const t = new StatusTable(2)
    t.set('a', { receivers: [] })
    t.set('b', { receivers: [] })
    t.set('a', { sender: 's', receivers: [] })
    assert.equal(t.size, 2)
    assert.equal(t.get('a')?.sender, 's')
    assert.notEqual(t.get('b'), undefined)
    t.set('c', { receivers: [] })
    assert.equal(t.get('a'), undefined)
    assert.notEqual(t.get('b'), undefined)
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
    log.addEncoded({ at: 2, direction: 'out', status: 'delivered', peer: 'B' }, encodeMessage(m('m2', { conversationId: 'c2' })), decode)
    assert.equal(decoded, 0)
    const first = log.query({})
    assert.deepEqual(first.map(r => r.message.messageId), ['m2', 'm1'])
    assert.deepEqual({ ...first[0], message: undefined }, { direction: 'out', status: 'delivered', peer: 'B', at: 2, message: undefined })
    assert.deepEqual(log.query({ conversationId: 'c2' }).map(r => r.message.messageId), ['m2'])
    assert.equal(decoded, 1)
  })

  it('leaves out a line whose bytes no longer decode', () => {
    const log = new MessageLog(4)
    log.add({ at: 1, direction: 'local', status: 'delivered', message: m('m1') })
    log.addEncoded({ at: 2, direction: 'out', status: 'delivered' }, new Uint8Array([0xc1]), decodeMessage)
    assert.deepEqual(log.query({}).map(r => r.message.messageId), ['m1'])
  })
})
