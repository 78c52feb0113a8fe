/**
 * Agents' durable state on a node (ABI SPEC.md §7-§8): a store and timers that survive
 * the node's restart, written with the messages that change them, deleted with the agent.
 */
import assert from 'node:assert/strict'
import type { CaxtonNode } from '../../src/node/index.js'
import { waitFor } from '../../sim/cluster/index.js'
import { closeWat, wat } from '../runtime/helpers/wat.js'
import { agent, ask, TestNodes } from './helpers/nodes.js'

describe('agent state on a node', function () {
  this.timeout(60_000)
  const nodes = new TestNodes()
  afterEach(async () => { await nodes.stopAll() })
  after(async () => { await closeWat() })

  it('the counter at 42 answers 43 after its node restarts; its store goes with it when removed', async () => {
    let node = await nodes.start('counter')
    await node.deployAgent({ id: 'counter', wasm: agent('counter') })
    assert.deepEqual(await ask(node, 'counter', 'add 42'), { performative: 'INFORM', content: '42' })

    node = await nodes.restart(node)
    assert.deepEqual(await ask(node, 'counter', 'increment'), { performative: 'INFORM', content: '43' })
    assert.equal(node.agentState.kv.bytes('counter'), 'count'.length + 8 + 32)

    await node.removeAgent('counter')
    assert.deepEqual(node.agentState.kv.entries('counter'), [])
    await node.deployAgent({ id: 'counter', wasm: agent('counter') })
    assert.deepEqual(await ask(node, 'counter', 'get'), { performative: 'INFORM', content: '0' })
    // Nothing of the first counter is left on disk either.
    node = await nodes.restart(node)
    assert.deepEqual(await ask(node, 'counter', 'get'), { performative: 'INFORM', content: '0' })
  })

  it('a key-value store agent keeps its entries across a restart', async () => {
    let node = await nodes.start('store')
    await node.deployAgent({ id: 'store', wasm: agent('kv-store') })
    assert.deepEqual(await ask(node, 'store', 'put colour blue'), { performative: 'INFORM', content: 'ok' })
    assert.deepEqual(await ask(node, 'store', 'put size 42'), { performative: 'INFORM', content: 'ok' })
    assert.deepEqual(await ask(node, 'store', 'delete size'), { performative: 'INFORM', content: 'deleted' })
    node = await nodes.restart(node)
    assert.deepEqual(await ask(node, 'store', 'list'), { performative: 'INFORM', content: 'colour' })
    assert.deepEqual(await ask(node, 'store', 'get colour'), { performative: 'INFORM', content: 'blue' })
  })

  it('a timer set before a restart fires after it, once, through the agent\'s inbox', async () => {
    let node = await nodes.start('timers')
    await node.deployAgent({ id: 'scheduler', wasm: agent('scheduler') })
    await node.deployAgent({ id: 'sink', wasm: agent('sink') })
    // Replies go to reply-to: the sink gets the AGREE and, later, the reminder.
    await node.sendMessage({ to: 'scheduler', draft: { performative: 'REQUEST', content: 'in 1500 wake up', replyTo: ['sink'] } })
    const agreed = await waitFor('the AGREE', () => node.recentMessages({ agent: 'sink' }).find(r => r.message.performative === 'AGREE'), 5000, 20)
    assert.equal(agreed.message.content, '1')
    const pending = node.agentState.timers.list('scheduler')
    assert.deepEqual(pending.map(t => [t.id, t.fired]), [[1, false]])

    node = await nodes.restart(node)
    // The recent-message log is the new node's (in memory): what is there came after the restart.
    const reminder = await waitFor('the reminder to reach the sink', () =>
      node.recentMessages({ agent: 'sink' }).find(r => r.message.sender === 'scheduler' && r.message.performative === 'INFORM'), 10_000, 20)
    assert.equal(reminder.message.content, 'wake up')
    assert.ok(reminder.at >= pending[0].due, `fired at ${reminder.at}, due ${pending[0].due}`)
    await waitFor('the timer to be over', () => node.agentState.timers.list('scheduler').length === 0 ? true : undefined, 5000, 20)
    assert.deepEqual(await ask(node, 'scheduler', 'list'), { performative: 'INFORM', content: '' })
    assert.equal(node.recentMessages({ agent: 'sink' }).filter(r => r.message.content === 'wake up').length, 1)
  })

  it('a timer survives a restart and is cancelled after it: its row goes, ids are not reused', async () => {
    let node = await nodes.start('cancel')
    await node.deployAgent({ id: 'scheduler', wasm: agent('scheduler') })
    await node.deployAgent({ id: 'sink', wasm: agent('sink') })
    assert.deepEqual(await ask(node, 'scheduler', 'in 60000 never'), { performative: 'AGREE', content: '1' })
    assert.deepEqual(await ask(node, 'scheduler', 'in 1500 soon'), { performative: 'AGREE', content: '2' })

    node = await nodes.restart(node)
    // Timer 2 may have fired already (a restart takes longer than its delay); timer 1 is there.
    assert.deepEqual(node.agentState.timers.list('scheduler').map(t => t.id).filter(id => id === 1), [1])
    assert.deepEqual(await ask(node, 'scheduler', 'cancel 1'), { performative: 'INFORM', content: 'cancelled 1' })
    assert.deepEqual(await ask(node, 'scheduler', 'cancel 1'), { performative: 'FAILURE', content: 'no pending reminder 1' })
    // Timer 2 still fires (to the asker: this node's API client, whose reply is the AGREE above).
    await waitFor('timer 2 to fire and be handled', () => node.agentState.timers.list('scheduler').length === 0 ? true : undefined, 10_000, 20)

    node = await nodes.restart(node)
    assert.deepEqual(node.agentState.timers.list('scheduler'), [], 'nothing of either timer is left on disk')
    assert.deepEqual(await ask(node, 'scheduler', 'list'), { performative: 'INFORM', content: '' })
    // Ids go on after the restart: never reused.
    assert.deepEqual(await ask(node, 'scheduler', 'in 60000 later'), { performative: 'AGREE', content: '3' })
  })

  it('drops the store writes of a message whose handler traps; keeps those of the messages before it', async () => {
    // Message 1 writes "one"; message 2 writes "two", then traps.
    const module = await wat(`(module
      (import "env" "memory" (memory 1))
      (import "env" "kv_put" (func $put (param i32 i32 i32 i32) (result i32)))
      (data (i32.const 0) "onetwo")
      (global $n (mut i32) (i32.const 0))
      (func (export "alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "handle_message") (param i32 i32) (result i32)
        (global.set $n (i32.add (global.get $n) (i32.const 1)))
        (if (i32.eq (global.get $n) (i32.const 1))
          (then (drop (call $put (i32.const 0) (i32.const 3) (i32.const 0) (i32.const 3))) (return (i32.const 0))))
        (drop (call $put (i32.const 3) (i32.const 3) (i32.const 3) (i32.const 3)))
        unreachable))`)
    let node = await nodes.start('trap')
    await node.deployAgent({ id: 'trap', wasm: module })
    await node.sendMessage({ to: 'trap', draft: { performative: 'INFORM', content: 'first' } })
    await waitFor('the first write', () => node.agentState.kv.entries('trap').length === 1 ? true : undefined, 5000, 20)
    await node.sendMessage({ to: 'trap', draft: { performative: 'INFORM', content: 'second' } })
    await waitFor('the trap', () => node.getAgent('trap').state === 'failed' ? true : undefined, 5000, 20)
    assert.match(node.getAgent('trap').lastError ?? '', /unreachable/)
    const stored = (n: CaxtonNode): Array<[string, string]> => n.agentState.kv.entries('trap').map(([k, v]) => [k, Buffer.from(v).toString('latin1')])
    assert.deepEqual(stored(node), [['one', 'one']])
    // On disk too: a restarted node loads only the first message's write.
    node = await nodes.restart(node)
    assert.deepEqual(stored(node), [['one', 'one']])
  })

  it('answers a write past the store\'s quota with the quota status, writing nothing', async () => {
    let node = await nodes.start('quota', undefined, { agents: { kvQuotaBytes: 100 } })
    await node.deployAgent({ id: 'store', wasm: agent('kv-store') })
    // 1 + 10 + 32 = 43 bytes; a second such entry would make 86; a third, 129 > 100.
    assert.deepEqual(await ask(node, 'store', 'put a 0123456789'), { performative: 'INFORM', content: 'ok' })
    assert.deepEqual(await ask(node, 'store', 'put b 0123456789'), { performative: 'INFORM', content: 'ok' })
    assert.deepEqual(await ask(node, 'store', 'put c 0123456789'), { performative: 'FAILURE', content: 'store full: the value does not fit in the quota' })
    assert.equal(node.agentState.kv.bytes('store'), 86)
    // Making room works: a delete, then the write.
    assert.deepEqual(await ask(node, 'store', 'delete a'), { performative: 'INFORM', content: 'deleted' })
    assert.deepEqual(await ask(node, 'store', 'put c 0123456789'), { performative: 'INFORM', content: 'ok' })
    node = await nodes.restart(node)
    assert.deepEqual(await ask(node, 'store', 'list'), { performative: 'INFORM', content: 'b\nc' })
  })

  it('accepts at deploy a module importing the clock, randomness, the store and timers, and meters their calls with fuel', async () => {
    const node = await nodes.start('metered')
    const imports = [
      '(import "env" "now" (func $now (result f64)))',
      '(import "env" "random" (func $random (param i32 i32) (result i32)))',
      '(import "env" "kv_get" (func $get (param i32 i32 i32 i32) (result i32)))',
      '(import "env" "kv_put" (func $put (param i32 i32 i32 i32) (result i32)))',
      '(import "env" "kv_delete" (func $del (param i32 i32) (result i32)))',
      '(import "env" "kv_next" (func $next (param i32 i32 i32 i32 i32 i32) (result i32)))',
      '(import "env" "schedule" (func $schedule (param f64 i32 i32) (result i32)))',
      '(import "env" "cancel" (func $cancel (param i32) (result i32)))'
    ].join('\n')
    // A loop of nothing but host calls: only their fuel can stop it before the wall-clock backstop.
    const module = await wat(`(module
      (import "env" "memory" (memory 1))
      ${imports}
      (func (export "alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "handle_message") (param i32 i32) (result i32)
        (loop $l
          (drop (call $now))
          (drop (call $random (i32.const 0) (i32.const 64)))
          (drop (call $get (i32.const 0) (i32.const 4) (i32.const 64) (i32.const 64)))
          (drop (call $next (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 128) (i32.const 64)))
          (br $l))
        (i32.const 0)))`)
    const deployed = await node.deployAgent({ id: 'metered', wasm: module, limits: { fuelPerMessage: 1_000_000, handlerTimeoutMs: 30_000 } })
    assert.equal(deployed.state, 'running')
    const t0 = Date.now()
    await node.sendMessage({ to: 'metered', draft: { performative: 'INFORM', content: 'go' } })
    await waitFor('the agent to run out of fuel', () => node.getAgent('metered').state === 'failed' ? true : undefined, 10_000, 20)
    assert.match(node.getAgent('metered').lastError ?? '', /^out of fuel/)
    assert.ok(Date.now() - t0 < 30_000, 'stopped by fuel, not by the wall-clock backstop')
  })

  it('capabilities an agent declares and withdraws reach the registry, and stay so across a restart', async () => {
    let node = await nodes.start('provider')
    await node.deployAgent({ id: 'provider', wasm: agent('provider'), capabilities: [{ name: 'base' }] })
    const published = (n: CaxtonNode): unknown => n.clusterRegistry.get('provider')?.capabilities
    assert.deepEqual(await ask(node, 'provider', 'offer translate 1.0.0'), { performative: 'INFORM', content: 'offering translate@1.0.0' })
    await waitFor('the registry to list translate', () => (published(node) as unknown[]).length === 2 ? true : undefined, 5000, 20)
    assert.deepEqual(published(node), [{ name: 'base' }, { name: 'translate', version: '1.0.0' }])
    assert.deepEqual(node.getAgent('provider').capabilities, [{ name: 'base' }, { name: 'translate', version: '1.0.0' }])

    node = await nodes.restart(node)
    assert.deepEqual(published(node), [{ name: 'base' }, { name: 'translate', version: '1.0.0' }])
    assert.deepEqual(await ask(node, 'provider', 'withdraw base'), { performative: 'INFORM', content: 'withdrew base' })
    assert.deepEqual(await ask(node, 'provider', 'withdraw base'), { performative: 'FAILURE', content: 'not offering base' })
    await waitFor('the registry to drop base', () => (published(node) as unknown[]).length === 1 ? true : undefined, 5000, 20)

    node = await nodes.restart(node)
    assert.deepEqual(published(node), [{ name: 'translate', version: '1.0.0' }])
    // Removed and deployed again: it offers what this deploy gives, nothing it declared before.
    await node.removeAgent('provider')
    await node.deployAgent({ id: 'provider', wasm: agent('provider') })
    assert.deepEqual(published(node), [])
    assert.deepEqual(await ask(node, 'provider', 'withdraw translate 1.0.0'), { performative: 'FAILURE', content: 'not offering translate@1.0.0' })
  })

  it('a module importing the clock and the store is accepted, and listed with those imports', async () => {
    const node = await nodes.start('imports')
    const report = await node.runtime.inspect(agent('scheduler'))
    for (const name of ['env.kv_get', 'env.kv_put', 'env.kv_next', 'env.schedule', 'env.cancel']) assert.ok(report.imports.includes(name), name)
  })
})
