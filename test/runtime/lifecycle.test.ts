/**
 * The runtime's lifecycle calls (stop, start, suspend, resume), send budgets and the
 * suspension of an agent over its budget, and fair scheduling between agents of a worker.
 */
import assert from 'node:assert/strict'
import { Worker } from 'node:worker_threads'
import type { AclMessage } from '../../protocols/fipa/types.js'
import { SEND_RESULT } from '../../protocols/agent-abi/index.js'
import { createMetricsRegistry } from '../../src/observability/metrics.js'
import { AgentNotFoundError, AgentStateError, createAgentRuntime, type AgentRuntime } from '../../src/runtime/index.js'
import { Watch } from '../../src/runtime/worker-protocol.js'
import { spawnWorker } from '../../src/runtime/worker-spawn.js'
import { exampleAgent } from './helpers/agents.js'
import { HostRecorder } from './helpers/host.js'
import { closeWat, wat } from './helpers/wat.js'

let seq = 0
/** A REQUEST from `sender` (a client unless said otherwise) to `receiver`. */
function request (receiver: string, content: string, sender = 'client-1'): AclMessage {
  seq++
  return { messageId: `l-${seq}`, createdAt: 1_700_000_000_000 + seq, performative: 'REQUEST', sender, receivers: [receiver], content }
}

async function refusal (p: Promise<unknown> | (() => unknown)): Promise<Error> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (err) {
    return err as Error
  }
  assert.fail('expected an error')
}

describe('agent runtime lifecycle', function () {
  this.timeout(30_000)
  let host: HostRecorder
  let runtime: AgentRuntime

  beforeEach(async () => {
    host = new HostRecorder()
    runtime = createAgentRuntime({ host, workers: 1, drainTimeoutMs: 2000 })
    await runtime.start()
    await runtime.deploy('counter', await exampleAgent('counter'))
  })

  afterEach(async () => { await runtime.stop() })

  async function count (command: string): Promise<unknown> {
    const before = host.drafts('counter').length
    assert.equal(runtime.deliver('counter', request('counter', command)), 'queued')
    return (await host.sent('counter', before + 1))[before].content
  }

  it('suspend keeps the instance and its state; messages wait (force) or are refused; resume handles what waited', async () => {
    assert.equal(await count('add 7'), '7')
    const suspended = runtime.suspend('counter', 'maintenance')
    assert.equal(suspended.state, 'suspended')
    assert.equal(suspended.reason, 'maintenance')
    assert.equal(runtime.suspend('counter').reason, 'maintenance', 'suspending again is a no-op')
    assert.equal(runtime.deliver('counter', request('counter', 'add 1')), 'not-running')
    assert.equal(runtime.admit('counter'), 'not-running')
    // Already in its durable inbox: kept for later.
    assert.equal(runtime.deliver('counter', request('counter', 'add 2'), 'inbox-1', true), 'queued')
    assert.equal(runtime.get('counter')?.stats.queued, 1)
    assert.equal(host.handled.length, 1)

    const resumed = runtime.resume('counter')
    assert.equal(resumed.state, 'running')
    assert.equal(resumed.reason, undefined)
    assert.equal((await host.sent('counter', 2))[1].content, '9')
    assert.equal(host.handled[1].token, 'inbox-1')
    assert.deepEqual(host.stateChanges, [
      { agentId: 'counter', state: 'suspended', reason: 'maintenance' },
      { agentId: 'counter', state: 'running' }
    ])
  })

  it('stop drains and drops the instance; start runs the module again and handles what waited', async () => {
    assert.equal(await count('add 3'), '3')
    for (let i = 0; i < 50; i++) runtime.deliver('counter', request('counter', 'add 1'))
    const stopped = await runtime.stopAgent('counter')
    assert.equal(stopped.state, 'stopped')
    assert.equal(host.drafts('counter').length, 51, 'its mailbox drained first')
    assert.equal(stopped.stats.memoryPages, 0)
    assert.equal((await runtime.stopAgent('counter')).state, 'stopped', 'stopping again is a no-op')
    assert.equal(runtime.deliver('counter', request('counter', 'add 1')), 'not-running')
    assert.equal(runtime.deliver('counter', request('counter', 'get'), 'inbox-2', true), 'queued')

    const started = await runtime.startAgent('counter')
    assert.equal(started.state, 'running')
    // A new instance: the count starts again at 0.
    assert.equal((await host.sent('counter', 52))[51].content, '0')
    assert.deepEqual(host.stateChanges.map(s => s.state), ['draining', 'stopped', 'loaded', 'running'])
  })

  it('a suspended agent stops without handling what waits; it is kept for the start', async () => {
    runtime.suspend('counter')
    runtime.deliver('counter', request('counter', 'add 4'), 'inbox-3', true)
    assert.equal((await runtime.stopAgent('counter')).state, 'stopped')
    assert.equal(host.handled.length, 0)
    await runtime.startAgent('counter')
    assert.equal((await host.sent('counter', 1))[0].content, '4')
  })

  it('refuses what the state does not allow, by name', async () => {
    runtime.suspend('counter')
    for (const [call, action] of [[async () => await runtime.startAgent('counter'), 'start']] as const) {
      const err = await refusal(call)
      assert.ok(err instanceof AgentStateError)
      assert.equal(err.state, 'suspended')
      assert.equal(err.action, action)
      assert.match(err.message, /cannot start agent "counter": it is suspended \(resume a suspended agent\)/)
    }
    await runtime.stopAgent('counter')
    const resume = await refusal(() => runtime.resume('counter'))
    assert.ok(resume instanceof AgentStateError)
    assert.match(resume.message, /it is stopped \(start it instead\)/)
    assert.ok(await refusal(() => runtime.suspend('counter')) instanceof AgentStateError)
    assert.ok(await refusal(() => runtime.suspend('nobody')) instanceof AgentNotFoundError)
    assert.ok(await refusal(runtime.stopAgent('nobody')) instanceof AgentNotFoundError)
  })

  it('starts a failed agent again from its module', async () => {
    await runtime.deploy('trap', await wat(`(module (import "env" "memory" (memory 1))
      (func (export "alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "handle_message") (param i32 i32) (result i32) unreachable))`))
    runtime.deliver('trap', request('trap', 'boom'))
    await host.failed('trap')
    assert.equal(runtime.get('trap')?.state, 'failed')
    const err = await refusal(runtime.stopAgent('trap'))
    assert.ok(err instanceof AgentStateError)
    const started = await runtime.startAgent('trap')
    assert.equal(started.state, 'running')
    assert.equal(started.lastError, undefined)
    await closeWat()
  })

  describe('upgrade', () => {
    /** The counter with a custom section appended: other bytes and hash, the same code. */
    const counterV2 = async (): Promise<Uint8Array> => {
      const v1 = await exampleAgent('counter')
      const payload = Buffer.from('\u0002v2build')
      return new Uint8Array(Buffer.concat([v1, Buffer.of(0, payload.length), payload]))
    }

    it('swaps the module in place: what was posted finishes on the old instance, the rest on the new one, each once, in order', async () => {
      const v2 = await counterV2()
      const tokens: string[] = []
      for (let i = 0; i < 100; i++) {
        tokens.push(`t${i}`)
        assert.equal(runtime.deliver('counter', request('counter', 'increment'), `t${i}`), 'queued')
      }
      // While it drains, new messages are refused (they wait in their senders' outboxes)
      // and those already in its durable inbox are queued for the new instance.
      const onState = host.onStateChanged
      let refused: string | undefined
      host.onStateChanged = (agentId, state, reason) => {
        onState(agentId, state, reason)
        if (state !== 'draining') return
        refused = runtime.deliver('counter', request('counter', 'increment'))
        for (let i = 100; i < 150; i++) {
          tokens.push(`t${i}`)
          runtime.deliver('counter', request('counter', 'increment'), `t${i}`, true)
        }
      }
      const upgraded = await runtime.upgrade('counter', v2, { fuelPerMessage: 2_000_000 })
      assert.equal(upgraded.state, 'running')
      assert.equal(upgraded.limits.fuelPerMessage, 2_000_000)
      assert.notEqual(upgraded.moduleHash, (await runtime.inspect(await exampleAgent('counter'))).hash)
      assert.equal(refused, 'not-running')
      await host.until(() => host.handled.length >= 150 ? true : undefined, '150 messages handled')
      assert.deepEqual(host.handled.map(h => h.token), tokens)
      // The recorder keeps no store: the new instance counts from 0 again, so the answers
      // show where the swap was.
      const counts = host.drafts('counter').map(d => Number(d.content))
      const k = counts.findIndex((c, i) => i > 0 && c === 1)
      assert.ok(k >= 1 && k <= 100, `the swap came after message ${k}`)
      assert.deepEqual(counts, [...Array.from({ length: k }, (_, i) => i + 1), ...Array.from({ length: 150 - k }, (_, i) => i + 1)])
      assert.deepEqual(host.stateChanges.map(s => s.state), ['draining', 'loaded', 'running'])
    })

    it('changes nothing for a module the policy refuses; restores the old module when the new one traps at start', async () => {
      const before = runtime.get('counter')
      const bad = await refusal(runtime.upgrade('counter', Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 99)))
      assert.equal((bad as { code?: string }).code, 'MODULE_INVALID')
      assert.equal(host.stateChanges.length, 0)
      const trapsAtStart = await wat(`(module (import "env" "memory" (memory 1))
        (func $boom unreachable) (start $boom)
        (func (export "alloc") (param i32) (result i32) (i32.const 1024))
        (func (export "handle_message") (param i32 i32) (result i32) (i32.const 0)))`)
      const trapped = await refusal(runtime.upgrade('counter', trapsAtStart))
      assert.equal((trapped as { code?: string }).code, 'MODULE_INVALID')
      const after = runtime.get('counter')
      assert.equal(after?.state, 'running')
      assert.equal(after?.moduleHash, before?.moduleHash)
      assert.deepEqual(after?.limits, before?.limits)
      assert.equal(await count('add 2'), '2')
      assert.deepEqual(host.stateChanges.map(s => s.state), ['draining', 'loaded', 'running'])
      await closeWat()
    })

    it('keeps a suspended agent suspended and a stopped one stopped; starts a failed one', async () => {
      const v2 = await counterV2()
      runtime.suspend('counter', 'maintenance')
      const suspended = await runtime.upgrade('counter', v2)
      assert.equal(suspended.state, 'suspended')
      assert.equal(suspended.reason, 'maintenance')
      assert.equal(runtime.deliver('counter', request('counter', 'add 5'), 'inbox-5', true), 'queued')
      runtime.resume('counter')
      assert.equal((await host.sent('counter', 1))[0].content, '5')

      await runtime.stopAgent('counter')
      const stopped = await runtime.upgrade('counter', await exampleAgent('counter'))
      assert.equal(stopped.state, 'stopped')
      assert.equal(stopped.stats.memoryPages, 0)
      assert.equal((await runtime.startAgent('counter')).moduleHash, stopped.moduleHash)

      await runtime.deploy('trap', await wat(`(module (import "env" "memory" (memory 1))
        (func (export "alloc") (param i32) (result i32) (i32.const 1024))
        (func (export "handle_message") (param i32 i32) (result i32) unreachable))`))
      runtime.deliver('trap', request('trap', 'boom'))
      await host.failed('trap')
      const fixed = await runtime.upgrade('trap', await exampleAgent('counter'))
      assert.equal(fixed.state, 'running')
      assert.equal(fixed.lastError, undefined)
      assert.ok(await refusal(runtime.upgrade('ghost', v2)) instanceof AgentNotFoundError)
      await closeWat()
    })
  })

  it('remove of a stopped agent hands back what waited for it', async () => {
    await runtime.stopAgent('counter')
    runtime.deliver('counter', request('counter', 'get'), 'inbox-4', true)
    assert.deepEqual(await runtime.remove('counter'), ['inbox-4'])
    assert.equal(runtime.has('counter'), false)
  })
})

describe('agent runtime send budgets', function () {
  this.timeout(30_000)
  let host: HostRecorder
  let runtime: AgentRuntime
  let metrics: ReturnType<typeof createMetricsRegistry>

  afterEach(async () => { await runtime.stop() })

  async function withFlood (overBudgetGraceMs: number, throttledTurnMs?: number): Promise<void> {
    host = new HostRecorder()
    metrics = createMetricsRegistry()
    runtime = createAgentRuntime({ host, workers: 1, overBudgetGraceMs, metrics, throttledTurnMs })
    await runtime.start()
    // The flood tries 1,000 sends of what it received for every message.
    await runtime.deploy('flood', await exampleAgent('flood'), { sendsPerSecond: 10, sendBurst: 5 })
  }

  it('passes the burst, plus one free send for a message from someone else, and refuses the rest (-5)', async () => {
    await withFlood(60_000)
    runtime.deliver('flood', request('flood', 'go'))
    const [first] = await host.until(() => host.handled.length >= 1 ? host.handled : undefined, 'the first message')
    assert.equal(first.sends.filter(s => s.ok).length, 6)
    const info = runtime.get('flood')
    assert.equal(info?.stats.overBudget, 994)
    assert.equal(info?.state, 'running', 'within the grace period')
    assert.match(await metrics.metrics(), /caxton_runtime_sends_over_budget_total 994/)

    // One of its own messages earns no free send: only what refilled since (10/s) passes.
    const t0 = performance.now()
    runtime.deliver('flood', request('flood', 'again', 'flood'))
    const [, second] = await host.until(() => host.handled.length >= 2 ? host.handled : undefined, 'the second message')
    const refilled = Math.floor((performance.now() - t0) / 100) + 1
    assert.ok(second.sends.length <= refilled, `${second.sends.length} sends, at most ${refilled} refilled`)
  })

  it('gives an agent over its budget its waiting messages in one turn, at most every throttledTurnMs, while the others\' go at once', async () => {
    await withFlood(60_000, 1000)
    await runtime.deploy('echo', await exampleAgent('echo'))
    runtime.deliver('flood', request('flood', 'go'))
    await host.until(() => host.handled.length >= 1 ? true : undefined, 'the first message')
    // Its sends were refused: from now on it gets turns.
    const batches: number[] = []
    const post = Worker.prototype.postMessage
    Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker['postMessage']>) {
      if ((args[0] as { t?: string }).t === 'batch') batches.push(performance.now())
      post.apply(this, args)
    }
    try {
      const handledBy = (id: string): number => host.handled.filter(h => h.agentId === id).length
      // Three messages to itself, delivered in one turn of the event loop: one batch (its first turn is due).
      for (let i = 0; i < 3; i++) assert.equal(runtime.deliver('flood', request('flood', `again ${i}`, 'flood')), 'queued')
      await host.until(() => handledBy('flood') === 4 ? true : undefined, 'the three messages to be handled')
      assert.equal(batches.length, 1, 'the three went in one batch')
      const turn = batches[0]
      // Two more wait for its next turn; a message to echo meanwhile is handled at once.
      for (let i = 0; i < 2; i++) runtime.deliver('flood', request('flood', `later ${i}`, 'flood'))
      runtime.deliver('echo', request('echo', 'hello'))
      await host.until(() => handledBy('echo') === 1 ? true : undefined, 'echo\'s message')
      assert.equal(handledBy('flood'), 4, 'the flood\'s two wait for its turn')
      await host.until(() => handledBy('flood') === 6 ? true : undefined, 'the two to be handled')
      assert.equal(batches.length, 3, 'echo\'s batch, then one batch for the two')
      // A timer may fire up to 1 ms early by this clock.
      assert.ok(batches[2] - turn >= 999, `next turn ${(batches[2] - turn).toFixed(1)} ms after the last`)
      assert.equal(runtime.get('flood')?.state, 'running', 'within the grace period')
    } finally {
      Worker.prototype.postMessage = post
    }
  })

  it('sizes the turn of an agent over its budget by that budget: 1.25 × its sends per throttledTurnMs, at least 256', async () => {
    host = new HostRecorder()
    metrics = createMetricsRegistry()
    runtime = createAgentRuntime({ host, workers: 1, overBudgetGraceMs: 60_000, metrics, throttledTurnMs: 400 })
    await runtime.start()
    // 2,000 sends a second: 1,000 a turn of 400 ms. Each message still tries 1,000 sends.
    await runtime.deploy('flood', await exampleAgent('flood'), { sendsPerSecond: 2000, sendBurst: 5 })
    runtime.deliver('flood', request('flood', 'go'))
    await host.until(() => host.handled.length >= 1 ? true : undefined, 'the first message')
    let batches = 0
    const post = Worker.prototype.postMessage
    Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker['postMessage']>) {
      if ((args[0] as { t?: string }).t === 'batch') batches++
      post.apply(this, args)
    }
    try {
      for (let i = 0; i < 600; i++) assert.equal(runtime.deliver('flood', request('flood', `again ${i}`, 'flood')), 'queued')
      await host.until(() => host.handled.length === 601 ? true : undefined, 'the 600 messages to be handled', 20_000)
      assert.equal(batches, 1, 'all 600 in one turn (256 a turn would take three)')
    } finally {
      Worker.prototype.postMessage = post
    }
  })

  it('answers env.send over the budget with SEND_RESULT.overBudget', async () => {
    await withFlood(60_000)
    // Sends what it received three times (a reply, then the burst of 1); its status is 0
    // only when the third send was answered overBudget.
    await runtime.deploy('thrice', await wat(`(module (import "env" "memory" (memory 1))
      (import "env" "send" (func $send (param i32 i32) (result i32)))
      (func (export "alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "handle_message") (param $p i32) (param $n i32) (result i32)
        (drop (call $send (local.get $p) (local.get $n)))
        (drop (call $send (local.get $p) (local.get $n)))
        (i32.ne (call $send (local.get $p) (local.get $n)) (i32.const ${SEND_RESULT.overBudget}))))`), { sendBurst: 1 })
    runtime.deliver('thrice', request('thrice', 'x'))
    await host.until(() => host.handled.some(h => h.agentId === 'thrice') ? true : undefined, 'thrice to handle it')
    assert.equal(host.drafts('thrice').length, 2)
    assert.equal(runtime.get('thrice')?.stats.errors, 0)
    assert.equal(runtime.get('thrice')?.stats.overBudget, 1)
    await closeWat()
  })

  it('suspends an agent over its budget past the grace period, saying why; resume gives it a new spell', async () => {
    await withFlood(0)
    runtime.deliver('flood', request('flood', 'go'))
    const state = await host.until(() => host.stateChanges.find(s => s.agentId === 'flood'), 'the flood to be suspended')
    assert.deepEqual(state, {
      agentId: 'flood',
      state: 'suspended',
      reason: 'over its send budget (10 messages/s, burst 5, 4194304 bytes/s) for more than 0 ms'
    })
    assert.equal(runtime.get('flood')?.reason, state.reason)
    assert.match(await metrics.metrics(), /caxton_runtime_agent_suspensions_total\{by="budget"\} 1/)
    assert.match(await metrics.metrics(), /caxton_runtime_agents\{state="suspended"\} 1/)
    assert.equal(runtime.resume('flood').state, 'running')
  })
})

/** About a millisecond of work per message. */
const SPIN_AGENT = `(module (import "env" "memory" (memory 1))
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "handle_message") (param i32 i32) (result i32) (local $i i32)
    (local.set $i (i32.const 1000000))
    (loop $spin (local.set $i (i32.sub (local.get $i) (i32.const 1))) (br_if $spin (local.get $i)))
    (i32.const 0)))`

describe('agent runtime fairness', function () {
  this.timeout(30_000)

  it('one agent\'s backlog does not starve another agent of the same worker', async () => {
    const host = new HostRecorder()
    const runtime = createAgentRuntime({ host, workers: 1 })
    await runtime.start()
    try {
      await runtime.deploy('slow', await wat(SPIN_AGENT), { mailboxCapacity: 5000, fuelPerMessage: 100_000_000 })
      await runtime.deploy('echo', await exampleAgent('echo'))
      for (let i = 0; i < 3000; i++) assert.equal(runtime.deliver('slow', request('slow', `${i}`)), 'queued')
      // Let the slow agent's backlog start running, so echo's message arrives behind it.
      await host.until(() => host.handled.length > 0 ? true : undefined, 'the backlog to start')
      runtime.deliver('echo', request('echo', 'are you there?'))
      await host.sent('echo', 1)
      const handled = runtime.get('slow')?.stats.handled ?? 0
      assert.ok(handled < 1000, `echo answered only after ${handled} of the backlog's 3000 messages`)
    } finally {
      await runtime.stop()
      await closeWat()
    }
  })
  it('runs a cheap turn first in a batch and posts its results before the rest of the batch runs', async () => {
    // Echo's turn (one message) and the slow agent's (three) go in one batch: both were
    // delivered in the same turn of the event loop, the slow agent first.
    const host = new HostRecorder()
    const runtime = createAgentRuntime({ host, workers: 1 })
    await runtime.start()
    try {
      await runtime.deploy('slow', await wat(SPIN_AGENT), { fuelPerMessage: 100_000_000 })
      await runtime.deploy('echo', await exampleAgent('echo'))
      // Read in a microtask of echo's `onHandled`: after the rest of the results message
      // that carried echo's record was read, before any later message from the worker.
      let slowHandledThen = -1
      const onHandled = host.onHandled
      host.onHandled = (agentId, token, sends) => {
        onHandled(agentId, token, sends)
        if (agentId === 'echo') queueMicrotask(() => { slowHandledThen = host.handled.filter(h => h.agentId === 'slow').length })
      }
      for (let i = 0; i < 3; i++) assert.equal(runtime.deliver('slow', request('slow', `${i}`)), 'queued')
      assert.equal(runtime.deliver('echo', request('echo', 'are you there?')), 'queued')
      await host.until(() => host.handled.length === 4 ? true : undefined, 'the four messages to be handled')
      assert.deepEqual(host.handled.map(h => h.agentId), ['echo', 'slow', 'slow', 'slow'])
      assert.equal(slowHandledThen, 0, "echo's results came back with the slow agent's")
    } finally {
      await runtime.stop()
      await closeWat()
    }
  })
})

describe('agent workers', function () {
  this.timeout(30_000)

  it('start with the resourceLimits they are given', async () => {
    const watch = new SharedArrayBuffer(Watch.length * Int32Array.BYTES_PER_ELEMENT)
    const worker = spawnWorker('agent-worker', { watch }, { resourceLimits: { maxOldGenerationSizeMb: 48, stackSizeMb: 2 } })
    try {
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => { resolve() })
        worker.once('error', reject)
      })
      assert.equal(worker.resourceLimits?.maxOldGenerationSizeMb, 48)
      assert.equal(worker.resourceLimits?.stackSizeMb, 2)
    } finally {
      await worker.terminate()
    }
  })
})
