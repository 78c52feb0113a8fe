/**
 * The timer message of ABI SPEC.md §8, and how a host recognises one in the bytes it is
 * about to hand an agent.
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { encodeForAgent, timerIdIn, timerMessage } from '../../../protocols/agent-abi/index.js'
import { validateMessage } from '../../../protocols/fipa/index.js'
import type { AclMessage } from '../../../protocols/fipa/types.js'

const stamps = { messageId: 'm-1', createdAt: 1_700_000_000_000 }

describe('agent ABI: timer messages', () => {
  it('is an INFORM from the agent to itself, ontology caxton-timer, in-reply-to timer:<id>, the payload as bytes', () => {
    const m = validateMessage(timerMessage('sched', 42, Uint8Array.of(1, 2), stamps))
    assert.deepEqual(m, {
      ...stamps, performative: 'INFORM', sender: 'sched', receivers: ['sched'], ontology: 'caxton-timer', inReplyTo: 'timer:42', content: Uint8Array.of(1, 2)
    })
    assert.equal(timerMessage('sched', 1, new Uint8Array(0), stamps).content, undefined)
  })

  it('finds the id in a timer message of the agent, whatever the other fields', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 0x7fffffff }), fc.string(), fc.option(fc.string({ minLength: 1 }), { nil: undefined }), (id, text, conversationId) => {
      const m = { ...timerMessage('a.b-c', id, new TextEncoder().encode(text), stamps), ...(conversationId !== undefined ? { conversationId } : {}) }
      assert.equal(timerIdIn(encodeForAgent(m), 'a.b-c'), id)
    }))
  })

  const base = timerMessage('sched', 7, new Uint8Array(0), stamps)
  const cases: Array<[string, Partial<AclMessage>]> = [
    ['another sender', { sender: 'sched2' }],
    ['a sender of the same length', { sender: 'schex' }],
    ['another ontology', { ontology: 'caxton-timex' }],
    ['no ontology', { ontology: undefined }],
    ['no in-reply-to', { inReplyTo: undefined }],
    ['another prefix', { inReplyTo: 'timex:7' }],
    ['no digits', { inReplyTo: 'timer:' }],
    ['a leading zero', { inReplyTo: 'timer:07' }],
    ['id 0', { inReplyTo: 'timer:0' }],
    ['a non-digit', { inReplyTo: 'timer:7a' }],
    ['an id past i32', { inReplyTo: 'timer:2147483648' }],
    ['eleven digits', { inReplyTo: 'timer:12345678901' }]
  ]
  for (const [what, change] of cases) {
    it(`answers 0 for ${what}`, () => {
      assert.equal(timerIdIn(encodeForAgent({ ...base, ...change }), 'sched'), 0)
    })
  }

  it('answers 0 for bytes that are not a message, without throwing', () => {
    const good = encodeForAgent(base)
    assert.equal(timerIdIn(new Uint8Array(0), 'sched'), 0)
    assert.equal(timerIdIn(Uint8Array.of(2, ...good.subarray(1)), 'sched'), 0)
    // Where each field ends: a message cut there is a message with fewer fields, still a
    // timer's while sender, ontology and in-reply-to are in; cut anywhere else, it is none.
    const ends = new Map<number, number>()
    let needed = 3
    for (let off = 1; off < good.length;) {
      const tag = good[off]
      off += 5 + new DataView(good.buffer, good.byteOffset).getUint32(off + 1, true)
      if (tag === 0x02 || tag === 0x09 || tag === 0x0d) needed--
      ends.set(off, needed === 0 ? 7 : 0)
    }
    for (let cut = 0; cut < good.length; cut++) assert.equal(timerIdIn(good.subarray(0, cut), 'sched'), ends.get(cut) ?? 0, `cut at ${cut}`)
  })
})
