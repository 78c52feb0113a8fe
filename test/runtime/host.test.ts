/**
 * The pieces of the host functions of ABI SPEC.md §6-§9 that hold an agent's state in its
 * worker: the store (order, prefix scans, quota, changes), the timer book, the
 * capabilities (declared through the host functions themselves), the changes' byte
 * layout, and the seeded random source.
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { HOST_RESULT } from '../../protocols/agent-abi/index.js'
import { AgentHostState, KvStore, TimerBook, readChanges, seededRandom, writeChanges, type TimerChange } from '../../src/runtime/host/index.js'
import { ByteWriter } from '../../src/runtime/worker-protocol.js'

const latin1 = (bytes: number[]): string => Buffer.from(bytes).toString('latin1')

describe('agent host state', () => {
  describe('KvStore', () => {
    it('scans keys in unsigned byte order, by prefix and after a key', () => {
      const kv = new KvStore(1 << 20)
      for (const k of ['b', 'a/2', 'a/1', latin1([0x61, 0x2f, 0xc3, 0xa9]), 'a', 'a/10', 'c']) kv.put(k, Uint8Array.of(1))
      const scan = (prefix: string): string[] => {
        const out: string[] = []
        for (let k = kv.next(prefix); k !== undefined; k = kv.next(prefix, k)) out.push(k)
        return out
      }
      assert.deepEqual(scan('a/'), ['a/1', 'a/10', 'a/2', latin1([0x61, 0x2f, 0xc3, 0xa9])])
      assert.deepEqual(scan(''), ['a', 'a/1', 'a/10', 'a/2', latin1([0x61, 0x2f, 0xc3, 0xa9]), 'b', 'c'])
      assert.equal(kv.next('a/', 'a/'), 'a/1')
      assert.equal(kv.next('a/', 'a'), 'a/1', 'an `after` before the prefix starts the scan at the prefix')
      assert.equal(kv.next('b', 'c'), undefined)
      assert.equal(kv.next('d'), undefined)
    })

    it('agrees with a sorted model under any sequence of puts and deletes', () => {
      const key = fc.uint8Array({ minLength: 1, maxLength: 4, max: 3 }).map(b => Buffer.from(b).toString('latin1'))
      const op = fc.oneof(fc.record({ put: key, size: fc.nat(8) }), fc.record({ del: key }))
      fc.assert(fc.property(fc.array(op, { maxLength: 60 }), key, (ops, prefix) => {
        const kv = new KvStore(1 << 20)
        const model = new Map<string, number>()
        for (const o of ops) {
          if ('put' in o) { kv.put(o.put, new Uint8Array(o.size)); model.set(o.put, o.size) } else { assert.equal(kv.delete(o.del), model.delete(o.del)) }
        }
        assert.deepEqual([...kv.entries()].map(([k, v]) => [k, v.length]), [...model].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
        assert.equal(kv.bytes, [...model].reduce((n, [k, size]) => n + k.length + size + 32, 0))
        const scanned: string[] = []
        for (let k = kv.next(prefix); k !== undefined; k = kv.next(prefix, k)) scanned.push(k)
        assert.deepEqual(scanned, [...model.keys()].filter(k => k.startsWith(prefix)).sort())
      }))
    })

    it('refuses a write past the quota, writing nothing; a write that shrinks the store always passes', () => {
      // Loaded past its quota (the quota was lowered since it was written).
      const kv = new KvStore(100, [['old', new Uint8Array(80)]])
      assert.equal(kv.bytes, 3 + 80 + 32)
      assert.equal(kv.put('new', Uint8Array.of(1)), HOST_RESULT.quota)
      assert.equal(kv.get('new'), undefined)
      assert.equal(kv.bytes, 115, 'nothing written')
      assert.equal(kv.put('old', new Uint8Array(81)), HOST_RESULT.quota, 'over its quota, and growing')
      assert.equal(kv.put('old', new Uint8Array(30)), HOST_RESULT.ok, 'over its quota already, but smaller')
      assert.equal(kv.bytes, 65)
      assert.equal(kv.put('k', new Uint8Array(3)), HOST_RESULT.quota, '65 + 1 + 3 + 32 = 101')
      assert.equal(kv.put('k', new Uint8Array(2)), HOST_RESULT.ok, 'exactly at the quota')
      assert.equal(kv.bytes, 100)
    })

    it('reports each written key once, with its last value (null: deleted), then forgets', () => {
      const kv = new KvStore(1 << 20, [['kept', Uint8Array.of(1)]])
      kv.put('a', Uint8Array.of(1))
      kv.put('a', Uint8Array.of(2))
      kv.put('b', Uint8Array.of(3))
      kv.delete('b')
      kv.delete('kept')
      assert.equal(kv.delete('never'), false)
      assert.deepEqual([...kv.takeChanges()], [['a', Uint8Array.of(2)], ['b', null], ['kept', null]])
      assert.deepEqual([...kv.takeChanges()], [])
      kv.set('seeded', Uint8Array.of(5))
      assert.deepEqual([...kv.takeChanges()], [], 'set is committed state, not a change')
      assert.deepEqual(kv.get('seeded'), Uint8Array.of(5))
    })
  })

  describe('TimerBook', () => {
    it('numbers timers from the next id, bounds how many are pending, and ends them by cancel or firing', () => {
      const book = new TimerBook(2, [4], 3)
      assert.equal(book.next, 5, 'past every pending id')
      assert.equal(book.schedule(10, Uint8Array.of(1)), 5)
      assert.equal(book.schedule(10, Uint8Array.of(2)), HOST_RESULT.quota)
      assert.equal(book.cancel(4), HOST_RESULT.ok)
      assert.equal(book.cancel(4), HOST_RESULT.notFound)
      assert.equal(book.fire(4), false, 'cancelled: its message is dropped')
      assert.equal(book.fire(5), true)
      assert.equal(book.fire(5), false)
      assert.deepEqual(book.takeChanges(), [
        { kind: 'schedule', id: 5, delayMs: 10, payload: Uint8Array.of(1) }, { kind: 'cancel', id: 4 }, { kind: 'fired', id: 5 }
      ])
      assert.equal(book.schedule(0, new Uint8Array(0)), 6, 'ids are never reused')
    })
  })

  it('reads back the changes a worker writes', () => {
    const kv = new Map<string, Uint8Array | null>([[latin1([0, 0xff, 0x41]), Uint8Array.of(9, 8)], ['gone', null], ['empty', new Uint8Array(0)]])
    const timers: TimerChange[] = [{ kind: 'schedule', id: 3, delayMs: 1.5, payload: Uint8Array.of(7) }, { kind: 'cancel', id: 2 }, { kind: 'fired', id: 1 }]
    const out = new ByteWriter(16)
    const capabilities = [{ name: 'é', version: '1', schema: { type: 'string' } }]
    writeChanges(out, kv, timers, capabilities)
    const { buf, length } = out.take()
    const view = new DataView(buf)
    assert.equal(view.getUint32(0, true), length - 4)
    assert.deepEqual(readChanges(new Uint8Array(buf, 4, length - 4)), { kv: [...kv], timers, capabilities })
    const none = new ByteWriter(16)
    writeChanges(none, new Map(), [])
    assert.equal(none.length, 4)
    assert.throws(() => readChanges(new Uint8Array(buf, 4, 10)), RangeError)
  })

  describe('capability_declare, capability_withdraw', () => {
    const memory = new WebAssembly.Memory({ initial: 1 })
    let spent = 0
    const host = (state: AgentHostState): Record<string, (...args: number[]) => number> =>
      state.imports({ memory: () => memory.buffer, charge: fuel => { spent += fuel } }) as Record<string, (...args: number[]) => number>
    /** Writes `text` as UTF-8 at `ptr`; its length. */
    const put = (ptr: number, text: string): number => {
      const bytes = new TextEncoder().encode(text)
      new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes)
      return bytes.length
    }
    const declare = (state: AgentHostState, json: string): number => host(state).capability_declare(0, put(0, json))
    const withdraw = (state: AgentHostState, name: string, version = ''): number =>
      host(state).capability_withdraw(0, put(0, name), 4096, put(4096, version))

    it('declares, replaces by name and version, withdraws; the message reports the whole list once', () => {
      const state = new AgentHostState({ kv: [], timers: [], nextTimerId: 1, kvQuotaBytes: 1 << 20, maxTimers: 10, capabilities: [{ name: 'base' }] })
      assert.equal(declare(state, '{"name":"translate","version":"1.0.0","schema":{"type":"string"}}'), HOST_RESULT.ok)
      assert.equal(declare(state, '{"name":"translate","version":"1.0.0","description":"en → fr"}'), HOST_RESULT.ok)
      assert.equal(declare(state, '{"name":"translate"}'), HOST_RESULT.ok)
      assert.equal(withdraw(state, 'base'), HOST_RESULT.ok)
      assert.equal(withdraw(state, 'base'), HOST_RESULT.notFound)
      assert.equal(withdraw(state, 'translate', '2.0.0'), HOST_RESULT.notFound)
      assert.deepEqual(state.takeChanges().capabilities, [{ name: 'translate', version: '1.0.0', description: 'en → fr' }, { name: 'translate' }])
      assert.equal(state.takeChanges().capabilities, undefined, 'nothing changed since')
    })

    it('answers -8 for what the registry would refuse, -4 past 64, -5 from the start function, -6 past 64 KiB, -2 outside memory', () => {
      const state = new AgentHostState()
      for (const bad of ['{"name":', '[]', '"x"', '{"name":""}', '{"name":"x","price":3}', '{"name":"x","schema":{"type":"nope"}}', `{"name":"${'n'.repeat(101)}"}`, '{"name":"a\\u0001b"}']) {
        assert.equal(declare(state, bad), HOST_RESULT.invalid, bad)
      }
      for (let i = 0; i < 64; i++) assert.equal(declare(state, `{"name":"c${i}"}`), HOST_RESULT.ok)
      assert.equal(declare(state, '{"name":"c64"}'), HOST_RESULT.quota)
      assert.equal(declare(state, '{"name":"c63","description":"replaces one: no quota"}'), HOST_RESULT.ok)
      assert.equal(state.takeChanges().capabilities?.length, 64)
      assert.equal(host(state).capability_declare(0, 65537), HOST_RESULT.tooLarge)
      assert.equal(host(state).capability_declare(65530, 100), HOST_RESULT.bounds)
      assert.equal(host(state).capability_withdraw(0, 1, 65535, 2), HOST_RESULT.bounds)
      state.readOnly = true
      assert.equal(declare(state, '{"name":"x"}'), HOST_RESULT.readOnly)
      assert.equal(withdraw(state, 'c1'), HOST_RESULT.readOnly)
      assert.equal(state.takeChanges().capabilities, undefined)
    })

    it('charges 10 000 fuel and a unit per byte to declare, 100 and a unit per byte to withdraw', () => {
      const state = new AgentHostState()
      spent = 0
      declare(state, '{"name":"x"}')
      assert.equal(spent, 10_000 + 12)
      spent = 0
      withdraw(state, 'x', 'v1')
      assert.equal(spent, 100 + 3)
    })
  })

  it('draws the same bytes from the same seed however the calls split them, and others from another seed', () => {
    const whole = new Uint8Array(100)
    seededRandom('s')(whole)
    const parts = seededRandom('s')
    const a = new Uint8Array(37)
    const b = new Uint8Array(63)
    parts(a)
    parts(b)
    assert.deepEqual(Buffer.concat([a, b]), Buffer.from(whole))
    const other = new Uint8Array(100)
    seededRandom('t')(other)
    assert.notDeepEqual(other, whole)
  })
})
