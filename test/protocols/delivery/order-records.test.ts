import assert from 'node:assert/strict'
import { pack } from 'msgpackr'
import {
  OrderCounter, RecordDecodeError, admit, decodeDeadLetter, decodeInboxRecord, decodeOutboxRecord, decodePairRecord,
  encodeDeadLetter, encodeInboxRecord, encodeOutboxRecord, encodePairRecord, orderKey, parseOrderKey, ORDERS_PER_RUN
} from '../../../protocols/delivery/index.js'

describe('protocols/delivery receiver order rules', () => {
  const table: Array<[number, number, number, string]> = [
    [0, 5, 0, 'new'], // no state, nothing pending before it
    [0, 5, 3, 'out-of-order'], // its predecessor never arrived
    [3, 5, 3, 'new'], // predecessor accepted
    [4, 5, 3, 'new'], // predecessor accepted, and a later one too
    [5, 5, 3, 'seen-before'], // a re-send
    [9, 5, 0, 'seen-before'], // overtaken
    [3, 9, 7, 'out-of-order']
  ]
  for (const [last, order, after, verdict] of table) {
    it(`last ${last}, order ${order}, after ${after}: ${verdict}`, () => {
      assert.equal(admit(last, order, after), verdict)
    })
  }
})

describe('protocols/delivery orders', () => {
  it('increase across runs and sort as keys', () => {
    const a = new OrderCounter(1)
    const b = new OrderCounter(2)
    const x = [a.next(), a.next(), b.next(), b.next()]
    assert.deepEqual(x, [ORDERS_PER_RUN + 1, ORDERS_PER_RUN + 2, 2 * ORDERS_PER_RUN + 1, 2 * ORDERS_PER_RUN + 2])
    const keys = x.map(orderKey)
    assert.deepEqual([...keys].sort(), keys)
    assert.deepEqual(keys.map(parseOrderKey), x)
    assert.ok(Number.isNaN(parseOrderKey('nope')))
    assert.equal(orderKey(Number.MAX_SAFE_INTEGER).length, 14)
  })

  it('refuses a bad run', () => {
    for (const run of [0, -1, 1.5, 2 ** 21]) assert.throws(() => new OrderCounter(run), RangeError)
  })
})

describe('protocols/delivery stored records', () => {
  // msgpackr reads bin back as a Buffer (a Uint8Array): compare with one.
  const message = Buffer.from([0x95, 1, 2, 3, 4, 5])

  it('round-trip', () => {
    const out = { receiver: 'b', sender: 'a', messageId: 'm1', deadline: 1_764_000_000_000, flags: 1, message }
    assert.deepEqual(decodeOutboxRecord(encodeOutboxRecord(out)), out)
    const inbox = { receiver: 'b', sender: 'a', messageId: 'm1', from: 'QmPeer', deadline: 5, message }
    assert.deepEqual(decodeInboxRecord(encodeInboxRecord(inbox)), inbox)
    const dl = { id: '0190-1', at: 7, receiver: 'b', sender: 'a', messageId: 'm1', cause: 'expired' as const, reason: 'late', attempts: 3, message }
    assert.deepEqual(decodeDeadLetter(encodeDeadLetter(dl)), dl)
    assert.deepEqual(decodeDeadLetter(encodeDeadLetter({ ...dl, peer: 'QmPeer' })), { ...dl, peer: 'QmPeer' })
    assert.deepEqual(decodePairRecord(encodePairRecord({ last: 2 ** 40, touchedAt: 9 })), { last: 2 ** 40, touchedAt: 9 })
  })

  it('refuse bytes that are not a record of this version, by name', () => {
    const bad = [Uint8Array.of(0xc1), pack([2, 'b', 'a', 'm', 1, 0, message]), pack([1, 'b']), pack([1, 7, 'a', 'm', 1, 0, message])]
    for (const bytes of bad) {
      assert.throws(() => decodeOutboxRecord(bytes), (err: unknown) => err instanceof RecordDecodeError && err.code === 'DELIVERY_RECORD_DECODE')
    }
    assert.throws(() => decodeDeadLetter(pack([1, 'id', 1, 'b', 'a', 'm', 'lost', 'r', 1, null, message])), RecordDecodeError)
  })
})
