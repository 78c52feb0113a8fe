/**
 * The host functions of ABI SPEC.md §6-§8 in real agent workers: accepted at deploy,
 * metered, their changes reported with the handled message, and instances loaded from the
 * host's state (also when started again from their module).
 */
import assert from 'node:assert/strict'
import { timerMessage } from '../../protocols/agent-abi/index.js'
import type { AclMessage } from '../../protocols/fipa/types.js'
import { seededRandom } from '../../src/runtime/host/index.js'
import {
  MAX_FUEL_PER_MESSAGE, type AgentOutbound, type AgentRuntime, type AgentStateSnapshot, type StateChanges
} from '../../src/runtime/index.js'
import { exampleAgent } from './helpers/agents.js'
import { HostRecorder } from './helpers/host.js'
import { runtimeForSuite } from './helpers/suite-runtime.js'
import { wat } from './helpers/wat.js'

/** A host that keeps agents' stores and timers as a node does: from the reported changes. */
class StateHost extends HostRecorder {
  readonly changes: Array<{ agentId: string, state: StateChanges | undefined }> = []
  readonly states = new Map<string, AgentStateSnapshot>()

  constructor () {
    super()
    const record = this.onHandled
    this.onHandled = (agentId: string, token: string | undefined, sends: AgentOutbound[], state?: StateChanges) => {
      this.changes.push({ agentId, state })
      const s = this.stateOf(agentId)
      const kv = new Map(s.kv)
      for (const [k, v] of state?.kv ?? []) { if (v === null) kv.delete(k); else kv.set(k, v) }
      s.kv = [...kv]
      for (const t of state?.timers ?? []) {
        if (t.kind === 'schedule') s.timers.push(t.id)
        else s.timers = s.timers.filter(id => id !== t.id)
      }
      record(agentId, token, sends)
    }
  }

  agentState = (agentId: string): AgentStateSnapshot => this.stateOf(agentId)

  stateOf (agentId: string): AgentStateSnapshot {
    let s = this.states.get(agentId)
    if (s === undefined) {
      s = { kv: [], timers: [], nextTimerId: 1, kvQuotaBytes: 1 << 20, maxTimers: 10 }
      this.states.set(agentId, s)
    }
    return s
  }

  async handledBy (agentId: string, n: number): Promise<Array<StateChanges | undefined>> {
    return await this.until(() => {
      const mine = this.changes.filter(c => c.agentId === agentId)
      return mine.length >= n ? mine.map(c => c.state) : undefined
    }, `${n} messages handled by ${agentId}`)
  }
}

let seq = 0
function message (receiver: string, content: string, fields: Partial<AclMessage> = {}): AclMessage {
  seq++
  return { messageId: `s-${seq}`, createdAt: 1_700_000_000_000, performative: 'REQUEST', sender: 'client-1', receivers: [receiver], content, ...fields }
}

function i64 (n: bigint): Uint8Array {
  return new Uint8Array(new BigInt64Array([n]).buffer)
}

/** A module importing `imports` whose handler runs `body`. */
function module (imports: string, body: string, extra = ''): string {
  return `(module
    (import "env" "memory" (memory 1))
    ${imports}
    ${extra}
    (func (export "alloc") (param i32) (result i32) (i32.const 1024))
    (func (export "handle_message") (param i32 i32) (result i32) ${body} (i32.const 0)))`
}

const PUT = '(import "env" "kv_put" (func $put (param i32 i32 i32 i32) (result i32)))'

describe('agent host functions (store, clock, randomness, timers) in workers', function () {
  this.timeout(30_000)
  const host = new StateHost()
  let runtime: AgentRuntime
  runtimeForSuite(host, r => { runtime = r })

  it('accepts a module importing the clock, and meters its calls: a loop of now() runs out of fuel', async () => {
    const now = '(import "env" "now" (func $now (result f64)))'
    const info = await runtime.deploy('clock-loop', await wat(module(now, '(loop $l (drop (call $now)) (br $l))')), { fuelPerMessage: 100_000 })
    assert.equal(info.state, 'running')
    runtime.deliver('clock-loop', message('clock-loop', 'go'))
    assert.match(await host.failed('clock-loop'), /^out of fuel: handling one message took more than 100000 fuel/)
  })

  it('reads the clock, and draws random bytes from the seed the host gives', async () => {
    const imports = `(import "env" "now" (func $now (result f64))) (import "env" "random" (func $random (param i32 i32) (result i32))) ${PUT}`
    host.stateOf('dice').randomSeed = 'dice-seed'
    await runtime.deploy('dice', await wat(module(imports, `
      (f64.store (i32.const 64) (call $now))
      (drop (call $put (i32.const 0) (i32.const 1) (i32.const 64) (i32.const 8)))
      (drop (call $random (i32.const 128) (i32.const 16)))
      (drop (call $put (i32.const 1) (i32.const 1) (i32.const 128) (i32.const 16)))`, '(data (i32.const 0) "tr")')))
    const before = Date.now()
    runtime.deliver('dice', message('dice', 'roll'))
    const [changes] = await host.handledBy('dice', 1)
    const kv = new Map(changes?.kv)
    const at = new DataView((kv.get('t') as Uint8Array).buffer).getFloat64(0, true)
    assert.ok(at >= before && at <= Date.now(), `now() = ${at}`)
    const expected = new Uint8Array(16)
    seededRandom('dice-seed')(expected)
    assert.deepEqual(kv.get('r'), expected)
  })

  it('lets the start function read the store but not write it (-5)', async () => {
    const get = '(import "env" "kv_get" (func $get (param i32 i32 i32 i32) (result i32)))'
    host.stateOf('starter').kv = [['a', Uint8Array.of(9)]]
    await runtime.deploy('starter', await wat(module(`${PUT} ${get}`, `
      (i32.store (i32.const 32) (global.get $wrote))
      (drop (call $put (i32.const 17) (i32.const 1) (i32.const 32) (i32.const 8)))`, `
      (data (i32.const 16) "ab")
      (global $wrote (mut i32) (i32.const 0))
      (func $start
        (global.set $wrote (call $put (i32.const 16) (i32.const 1) (i32.const 16) (i32.const 1)))
        (drop (call $get (i32.const 16) (i32.const 1) (i32.const 36) (i32.const 4))))
      (start $start)`)))
    runtime.deliver('starter', message('starter', 'go'))
    const [changes] = await host.handledBy('starter', 1)
    // The start function's kv_put returned -5; its kv_get read the stored 9.
    assert.deepEqual(changes?.kv, [['b', Uint8Array.of(0xfb, 0xff, 0xff, 0xff, 9, 0, 0, 0)]])
  })

  it('loads the counter from the host\'s store, reports its write with the message, and loads it again when started from its module', async () => {
    host.stateOf('counter').kv = [['count', i64(41n)]]
    await runtime.deploy('counter', await exampleAgent('counter'))
    runtime.deliver('counter', message('counter', 'increment'))
    assert.equal((await host.sent('counter', 1))[0].content, '42')
    const [changes] = await host.handledBy('counter', 1)
    assert.deepEqual(changes, { kv: [['count', i64(42n)]], timers: [] })

    // Fuel this high lets the loop run: only the wall-clock backstop stops it, inside its
    // own instance; the counter's instance goes on.
    await runtime.deploy('stuck', await wat(module('', '(loop $forever (br $forever))')), { fuelPerMessage: MAX_FUEL_PER_MESSAGE, handlerTimeoutMs: 100 })
    runtime.deliver('stuck', message('stuck', 'spin'))
    await host.failed('stuck')
    runtime.deliver('counter', message('counter', 'get'))
    assert.equal((await host.sent('counter', 2))[1].content, '42')
    assert.equal(runtime.get('counter')?.stats.restarts, 0)

    // A new instance (stopped, started from its module) loads the count from the host's store.
    await runtime.stopAgent('counter')
    await runtime.startAgent('counter')
    runtime.deliver('counter', message('counter', 'get'))
    assert.equal((await host.sent('counter', 3))[2].content, '42')
  })

  it('hands a pending timer\'s message to the handler and ends the timer; drops one not pending; ignores a lookalike from another sender', async () => {
    const s = host.stateOf('scheduler')
    s.timers = [1, 2]
    s.nextTimerId = 3
    s.kv = [['r/0000000001', new TextEncoder().encode('someone\nconv-1\nq-1\nhello')]]
    await runtime.deploy('scheduler', await exampleAgent('scheduler'))
    const timer = (id: number, sender = 'scheduler'): AclMessage => ({ ...timerMessage('scheduler', id, new Uint8Array(0), { messageId: `t-${id}-${sender}`, createdAt: 1 }), sender })
    runtime.deliver('scheduler', timer(3))
    runtime.deliver('scheduler', timer(2, 'mallory'))
    runtime.deliver('scheduler', timer(1))
    const [dropped, lookalike, fired] = await host.handledBy('scheduler', 3)
    assert.equal(dropped, undefined)
    assert.deepEqual(lookalike, undefined)
    assert.deepEqual(fired, { kv: [['r/0000000001', null]], timers: [{ kind: 'fired', id: 1 }] })
    const sent = host.drafts('scheduler')
    // The lookalike is an INFORM from mallory: not understood; the timer's reminder goes out.
    assert.deepEqual(sent.map(d => [d.performative, d.receivers, d.content]), [
      ['NOT-UNDERSTOOD', ['mallory'], 'scheduler understands only REQUEST'],
      ['INFORM', ['someone'], 'hello']
    ])
    assert.deepEqual(host.stateOf('scheduler').timers, [2])
  })

  it('sets and cancels timers with the message, refusing past the host\'s bound', async () => {
    host.stateOf('planner').maxTimers = 2
    await runtime.deploy('planner', await exampleAgent('scheduler'))
    runtime.deliver('planner', message('planner', 'in 60000 one'))
    runtime.deliver('planner', message('planner', 'in 60000 two'))
    runtime.deliver('planner', message('planner', 'in 60000 three'))
    runtime.deliver('planner', message('planner', 'cancel 1'))
    const changes = await host.handledBy('planner', 4)
    assert.deepEqual(changes.map(c => c?.timers.map(t => `${t.kind} ${t.id}`)), [['schedule 1'], ['schedule 2'], undefined, ['cancel 1']])
    const schedule = changes[0]?.timers[0]
    assert.equal(schedule?.kind === 'schedule' ? schedule.delayMs : -1, 60000)
    assert.deepEqual(host.drafts('planner').map(d => d.content), ['1', '2', 'too many reminders pending', 'cancelled 1'])
  })
})
