import assert from 'node:assert/strict'
import { Mailbox } from '../../src/runtime/mailbox.js'

const msg = (n: number): Uint8Array => Uint8Array.of(n & 255, n >> 8)
const id = (m: Uint8Array): number => m[0] | (m[1] << 8)

function unposted (box: Mailbox): number[] {
  const out: number[] = []
  box.takeUnposted(Infinity, m => out.push(id(m)))
  return out
}

describe('Mailbox', () => {
  it('refuses messages past its capacity', () => {
    const box = new Mailbox(3)
    assert.deepEqual([1, 2, 3, 4].map(n => box.push(msg(n))), [true, true, true, false])
    assert.equal(box.size, 3)
    box.ack()
    assert.equal(box.push(msg(5)), true)
  })

  it('keeps FIFO order through growth and wrap-around', () => {
    const box = new Mailbox(1000)
    const expected: number[] = []
    const seen: number[] = []
    let next = 0
    // Interleave pushes and acks so the ring wraps and grows several times.
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 17; i++) { box.push(msg(next)); expected.push(next++) }
      seen.push(...unposted(box))
      for (let i = 0; i < 11 && box.size > 0; i++) box.ack()
    }
    assert.deepEqual(seen, expected)
    assert.equal(box.size, 50 * 17 - 50 * 11)
  })

  it('posts each message once, and again after resetPosted (a new worker)', () => {
    const box = new Mailbox(8)
    for (let n = 0; n < 4; n++) box.push(msg(n))
    assert.deepEqual(unposted(box), [0, 1, 2, 3])
    assert.deepEqual(unposted(box), [])
    box.ack()
    box.push(msg(4))
    assert.deepEqual(unposted(box), [4])
    box.resetPosted()
    assert.deepEqual(unposted(box), [1, 2, 3, 4])
  })

  it('clears, reporting the tokens of what it dropped, oldest first', () => {
    const box = new Mailbox(8)
    for (let n = 0; n < 5; n++) box.push(msg(n), n === 2 ? undefined : `t${n}`)
    box.ack()
    assert.deepEqual(box.clear(), ['t1', 't3', 't4'])
    assert.equal(box.size, 0)
    assert.deepEqual(unposted(box), [])
    box.push(msg(9))
    assert.deepEqual(unposted(box), [9])
  })

  it('hands each message\'s token back when it is acked, across growth and wrap-around', () => {
    const box = new Mailbox(64)
    const tokens: Array<string | undefined> = []
    let next = 0
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 7; i++) box.push(msg(next), `t${next++}`)
      for (let i = 0; i < 5; i++) tokens.push(box.ack())
    }
    assert.deepEqual(tokens, Array.from({ length: 50 }, (_, i) => `t${i}`))
    assert.equal(box.ack(), 't50')
  })

  it('takes a message past its capacity only when forced (a durable inbox being restored)', () => {
    const box = new Mailbox(1)
    assert.equal(box.push(msg(0), 'a'), true)
    assert.equal(box.push(msg(1), 'b'), false)
    assert.equal(box.push(msg(1), 'b', true), true)
    assert.equal(box.size, 2)
  })
})
