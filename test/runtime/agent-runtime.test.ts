import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import type { AclMessage, Performative } from '../../protocols/fipa/types.js'
import { createMetricsRegistry } from '../../src/observability/metrics.js'
import {
  AgentExistsError, AgentNotFoundError, InvalidAgentIdError, InvalidLimitsError, InvalidModuleError,
  MAX_FUEL_PER_MESSAGE, RuntimeNotRunningError, createAgentRuntime, type AgentInfo, type AgentRuntime
} from '../../src/runtime/index.js'
import { exampleAgent } from './helpers/agents.js'
import { HostRecorder } from './helpers/host.js'
import { runtimeForSuite } from './helpers/suite-runtime.js'
import { closeWat, wat } from './helpers/wat.js'

let seq = 0
function message (receiver: string, content: string | Uint8Array | undefined, fields: Partial<AclMessage> = {}): AclMessage {
  seq++
  const msg: AclMessage = {
    messageId: `m-${seq}`,
    createdAt: 1_700_000_000_000 + seq,
    performative: 'REQUEST',
    sender: 'client-1',
    receivers: [receiver],
    conversationId: `conv-${seq}`,
    replyWith: `rw-${seq}`,
    ...fields
  }
  if (content !== undefined) msg.content = content
  return msg
}

/** An agent that accepts messages at offset 1024 and runs `body` as handle_message. */
function agentWat (body: string, preamble = ''): string {
  return `(module
    (import "env" "memory" (memory 1))
    ${preamble}
    (func (export "alloc") (param i32) (result i32) (i32.const 1024))
    (func (export "handle_message") (param i32 i32) (result i32) ${body}))`
}

async function rejection (p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  assert.fail('expected a rejection')
}

describe('agent runtime', function () {
  this.timeout(30_000)
  const host = new HostRecorder()
  const metrics = createMetricsRegistry()
  let runtime: AgentRuntime

  before(async () => {
    runtime = createAgentRuntime({ host, metrics, workers: 1, drainTimeoutMs: 2000 })
    await runtime.start()
    await runtime.deploy('echo', await exampleAgent('echo'))
    await runtime.deploy('counter', await exampleAgent('counter'))
  })

  after(async () => {
    await runtime?.stop()
    await closeWat()
  })

  /** The agent's info once it has handled `count` messages. */
  async function handled (id: string, count: number, what: string): Promise<AgentInfo> {
    return await host.until(() => {
      const i = runtime.get(id)
      return i !== undefined && i.stats.handled === count ? i : undefined
    }, what)
  }

  it('refuses to deploy before start()', async () => {
    const idle = createAgentRuntime({ host })
    assert.ok(await rejection(idle.deploy('x', new Uint8Array(8))) instanceof RuntimeNotRunningError)
  })

  describe('echo agent', () => {
    it('answers REQUEST with INFORM carrying the same content, in the same conversation', async () => {
      const before = host.drafts('echo').length
      const msg = message('echo', 'hello, agent')
      assert.equal(runtime.deliver('echo', msg), 'queued')
      const reply = (await host.sent('echo', before + 1))[before]
      assert.deepEqual(reply, {
        performative: 'INFORM',
        receivers: ['client-1'],
        content: 'hello, agent',
        conversationId: msg.conversationId,
        inReplyTo: msg.replyWith
      })
    })

    it('keeps binary content binary, and replies in-reply-to the message-id without a reply-with', async () => {
      const before = host.drafts('echo').length
      const msg = message('echo', Uint8Array.of(0, 1, 254, 255), { replyWith: undefined })
      delete msg.replyWith
      runtime.deliver('echo', msg)
      const reply = (await host.sent('echo', before + 1))[before]
      assert.deepEqual(reply.content, Uint8Array.of(0, 1, 254, 255))
      assert.equal(reply.inReplyTo, msg.messageId)
    })

    it('answers other performatives with NOT-UNDERSTOOD', async () => {
      const before = host.drafts('echo').length
      runtime.deliver('echo', message('echo', 'hi', { performative: 'INFORM' }))
      const reply = (await host.sent('echo', before + 1))[before]
      assert.equal(reply.performative, 'NOT-UNDERSTOOD')
    })

    it('handles an agent\'s messages in delivery order', async () => {
      const before = host.drafts('echo').length
      for (let i = 0; i < 300; i++) assert.equal(runtime.deliver('echo', message('echo', `#${i}`)), 'queued')
      const replies = (await host.sent('echo', before + 300)).slice(before)
      assert.deepEqual(replies.map(r => r.content), Array.from({ length: 300 }, (_, i) => `#${i}`))
      const info = runtime.get('echo')
      assert.equal(info?.state, 'running')
      assert.equal(info?.stats.queued, 0)
      assert.equal(info?.stats.errors, 0)
      assert.equal(info?.stats.received, info?.stats.handled)
    })
  })

  describe('counter agent', () => {
    async function ask (content: string, performative: Performative = 'REQUEST'): Promise<Record<string, unknown>> {
      const before = host.drafts('counter').length
      runtime.deliver('counter', message('counter', content, { performative }))
      return (await host.sent('counter', before + 1))[before]
    }

    it('keeps its count across messages', async () => {
      assert.equal((await ask('reset')).content, '0')
      assert.equal((await ask('increment')).content, '1')
      assert.equal((await ask('increment')).content, '2')
      assert.equal((await ask('add 40')).content, '42')
      assert.equal((await ask('add -2')).content, '40')
      assert.deepEqual(await ask('get'), { performative: 'INFORM', receivers: ['client-1'], content: '40', conversationId: `conv-${seq}`, inReplyTo: `rw-${seq}` })
    })

    it('answers FAILURE with the reason for a command it cannot parse', async () => {
      const reply = await ask('add lots')
      assert.equal(reply.performative, 'FAILURE')
      assert.match(String(reply.content), /add expects an integer/)
      assert.equal((await ask('fly')).performative, 'FAILURE')
      assert.equal((await ask('get', 'QUERY-REF')).performative, 'NOT-UNDERSTOOD')
    })

    it('passes its env.log lines to the host', async () => {
      await ask('reset')
      const line = await host.until(() => host.logs.find(l => l.agentId === 'counter'), 'a log line')
      assert.deepEqual(line, { agentId: 'counter', level: 'info', text: 'counter reset' })
    })
  })

  describe('deploy and inspect', () => {
    it('reports what a module is', async () => {
      const wasm = await exampleAgent('echo')
      const report = await runtime.inspect(wasm)
      assert.equal(report.hash, createHash('sha256').update(wasm).digest('hex'))
      assert.equal(report.bytes, wasm.length)
      assert.deepEqual([...report.imports].sort(), ['env.abort', 'env.memory', 'env.send'])
      assert.deepEqual([...report.exports].sort(), ['alloc', 'handle_message'])
      assert.deepEqual(report.memory, { initial: 1 })
      const info = runtime.get('echo')
      assert.equal(info?.moduleHash, report.hash)
      assert.equal(info?.moduleBytes, wasm.length)
    })

    it('rejects an id already deployed, a malformed id and limits out of range', async () => {
      const wasm = await exampleAgent('echo')
      const exists = await rejection(runtime.deploy('echo', wasm))
      assert.ok(exists instanceof AgentExistsError)
      assert.equal(exists.agentId, 'echo')
      assert.ok(await rejection(runtime.deploy('no spaces', wasm)) instanceof InvalidAgentIdError)
      const limits = await rejection(runtime.deploy('e2', wasm, { maxMemoryPages: 0 }))
      assert.ok(limits instanceof InvalidLimitsError)
      assert.equal(limits.field, 'maxMemoryPages')
      assert.equal(runtime.has('e2'), false)
    })

    async function invalid (wasm: Uint8Array, limits?: { maxMemoryPages: number }): Promise<string> {
      const err = await rejection(runtime.deploy(`bad-${seq++}`, wasm, limits))
      assert.ok(err instanceof InvalidModuleError, String(err))
      assert.equal(err.code, 'MODULE_INVALID')
      return err.reason
    }

    it('rejects an unknown import, naming it', async () => {
      const reason = await invalid(await wat(agentWat('(i32.const 0)', '(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))')))
      assert.match(reason, /imports "wasi_snapshot_preview1\.fd_write": only env\.memory, env\.send, env\.log, env\.abort, env\.now, env\.random, env\.kv_get, env\.kv_put, env\.kv_delete, env\.kv_next, env\.schedule, env\.cancel, env\.capability_declare, env\.capability_withdraw are allowed/)
    })

    it('rejects SIMD, naming the feature', async () => {
      const reason = await invalid(await wat(agentWat('(drop (i32x4.extract_lane 0 (v128.const i32x4 1 2 3 4))) (i32.const 0)'), ['simd']))
      assert.match(reason, /disallowed WebAssembly feature SIMD/)
      assert.doesNotMatch(reason, /multi-value/)
    })

    it('rejects multi-value results', async () => {
      const reason = await invalid(await wat(agentWat('(i32.const 0)', '(func (result i32 i32) (i32.const 1) (i32.const 2))'), ['multivalue']))
      assert.match(reason, /disallowed WebAssembly feature multi-value/)
    })

    it('rejects bulk memory and shared memory', async () => {
      assert.match(await invalid(await wat(agentWat('(memory.fill (i32.const 0) (i32.const 0) (i32.const 8)) (i32.const 0)'), ['bulk'])), /feature bulk memory/)
      const shared = await wat('(module (import "env" "memory" (memory 1 2 shared)) (func (export "alloc") (param i32) (result i32) (i32.const 0)) (func (export "handle_message") (param i32 i32) (result i32) (i32.const 0)))', ['threads'])
      assert.match(await invalid(shared), /shared memory is not allowed/)
    })

    it('rejects a missing export and a mistyped import', async () => {
      const noHandler = await wat('(module (import "env" "memory" (memory 1)) (func (export "alloc") (param i32) (result i32) (i32.const 0)))')
      assert.match(await invalid(noHandler), /missing export "handle_message": a function \(i32, i32\) -> i32/)
      const badSend = await wat(agentWat('(i32.const 0)', '(import "env" "send" (func (param i32) (result i32)))'))
      assert.match(await invalid(badSend), /import env\.send has signature \(i32\) -> i32, expected \(i32, i32\) -> i32/)
    })

    it('rejects bytes that are not WebAssembly', async () => {
      assert.match(await invalid(new TextEncoder().encode('definitely not wasm')), /not a valid WebAssembly module/)
      assert.match(await invalid(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 200)), /not a valid WebAssembly module/)
    })

    it('rejects an initial memory above the cap', async () => {
      const big = await wat('(module (import "env" "memory" (memory 20)) (func (export "alloc") (param i32) (result i32) (i32.const 0)) (func (export "handle_message") (param i32 i32) (result i32) (i32.const 0)))')
      assert.match(await invalid(big, { maxMemoryPages: 8 }), /initial memory of 20 pages exceeds the cap of 8 pages/)
    })

    it('runs a module that defines its own memory and a start function', async () => {
      // The start function must run (with fuel set) before the first message: handle_message
      // returns the global it resets, so status 0 means it ran.
      const wasm = await wat(`(module
        (memory 1)
        (global $g (mut i32) (i32.const 5))
        (func $start (global.set $g (i32.const 0)))
        (start $start)
        (func (export "alloc") (param i32) (result i32) (i32.const 1024))
        (func (export "handle_message") (param i32 i32) (result i32) (global.get $g)))`)
      assert.deepEqual((await runtime.inspect(wasm)).imports, [])
      await runtime.deploy('own-memory', wasm)
      runtime.deliver('own-memory', message('own-memory', 'x'))
      const info = await handled('own-memory', 1, 'the message to be handled')
      assert.equal(info.stats.errors, 0)
    })
  })

  describe('faults', () => {
    it('stops an infinite loop by fuel and reports it, while other agents keep answering', async () => {
      await runtime.deploy('spinner', await wat(agentWat('(loop $forever (br $forever)) (i32.const 0)')), { fuelPerMessage: 1_000_000 })
      const before = host.drafts('echo').length
      runtime.deliver('spinner', message('spinner', 'go'))
      runtime.deliver('echo', message('echo', 'still here?'))
      const reason = await host.failed('spinner')
      assert.match(reason, /out of fuel: handling one message took more than 1000000 fuel/)
      const info = runtime.get('spinner')
      assert.equal(info?.state, 'failed')
      assert.equal(info?.lastError, reason)
      assert.equal(info?.stats.errors, 1)
      assert.equal(runtime.deliver('spinner', message('spinner', 'again')), 'not-running')
      assert.equal((await host.sent('echo', before + 1))[before].content, 'still here?')
    })

    it('caps linear memory: memory.grow past the cap returns -1, and the agent that then traps fails', async () => {
      const grower = agentWat(`
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1))
          (then (call $log (i32.const 3) (i32.const 0) (i32.const 11)) (unreachable)))
        (i32.const 0)`, '(import "env" "log" (func $log (param i32 i32 i32))) (data (i32.const 0) "grow failed")')
      await runtime.deploy('grower', await wat(grower), { maxMemoryPages: 3 })
      for (let i = 0; i < 3; i++) runtime.deliver('grower', message('grower', `${i}`))
      const reason = await host.failed('grower')
      assert.ok(host.logs.some(l => l.agentId === 'grower' && l.level === 'error' && l.text === 'grow failed'))
      assert.match(reason, /trap: .*unreachable.*3\/3 pages/)
      const info = runtime.get('grower')
      assert.equal(info?.stats.handled, 2)
      assert.equal(info?.stats.memoryPages, 3)
      const before = host.drafts('echo').length
      runtime.deliver('echo', message('echo', 'alive'))
      await host.sent('echo', before + 1)
    })

    it('reports abort() with its message and location, decoded from UTF-16', async () => {
      await runtime.deploy('aborter', await wat(agentWat(
        '(call $abort (i32.const 20) (i32.const 36) (i32.const 7) (i32.const 3)) (i32.const 0)',
        `(import "env" "abort" (func $abort (param i32 i32 i32 i32)))
         (data (i32.const 16) "\\08\\00\\00\\00b\\00o\\00o\\00m\\00")
         (data (i32.const 32) "\\08\\00\\00\\00a\\00.\\00t\\00s\\00")`)))
      runtime.deliver('aborter', message('aborter', 'x'))
      assert.equal(await host.failed('aborter'), 'aborted: boom at a.ts:7:3')
    })

    it('reports unbounded recursion as a stack overflow', async () => {
      await runtime.deploy('recurser', await wat(agentWat('(call $down) (i32.const 0)', '(func $down (call $down))')))
      runtime.deliver('recurser', message('recurser', 'x'))
      assert.match(await host.failed('recurser'), /stack overflow/)
    })

    it('counts a non-zero handle_message status as a failed message, not a fault', async () => {
      await runtime.deploy('grumpy', await wat(agentWat('(i32.const 7)')))
      runtime.deliver('grumpy', message('grumpy', 'x'))
      runtime.deliver('grumpy', message('grumpy', 'y'))
      const info = await handled('grumpy', 2, 'two messages handled')
      assert.equal(info.stats.errors, 2)
      assert.equal(info.state, 'running')
    })

    it('refuses a malformed env.send with { ok: false } and -1, and forwards a valid one', async () => {
      // Sends 9 bytes that are not a message, then a valid INFORM to "x"; returns 0 only
      // if the host answered -1 and then 0.
      await runtime.deploy('sender', await wat(agentWat(`
        (if (result i32) (i32.and
              (i32.eq (call $send (i32.const 0) (i32.const 9)) (i32.const -1))
              (i32.eq (call $send (i32.const 16) (i32.const 13)) (i32.const 0)))
          (then (i32.const 0)) (else (i32.const 1)))`,
      `(import "env" "send" (func $send (param i32 i32) (result i32)))
       (data (i32.const 0) "\\09not a msg")
       (data (i32.const 16) "\\01\\01\\01\\00\\00\\00\\07\\03\\01\\00\\00\\00x")`)))
      runtime.deliver('sender', message('sender', 'go'))
      const refused = await host.until(() => host.sends.find(s => s.agentId === 'sender' && !s.outbound.ok), 'a refused send')
      assert.deepEqual(refused.outbound, { ok: false, error: 'unsupported ABI version 9 (this host reads version 1)' })
      assert.deepEqual((await host.sent('sender', 1))[0], { performative: 'INFORM', receivers: ['x'] })
      const info = await handled('sender', 1, 'the message to be handled')
      assert.equal(info.stats.errors, 0)
      assert.equal(info.stats.sent, 1)
    })

    it('forwards a send from linear memory grown during the call', async () => {
      // Sends the INFORM to "x" from page 0, grows memory by a page, copies the 13 bytes
      // to page 1 and sends them from there; returns 0 only if both were accepted.
      await runtime.deploy('grown', await wat(agentWat(`
        (local $ok i32)
        (local.set $ok (i32.eqz (call $send (i32.const 16) (i32.const 13))))
        (drop (memory.grow (i32.const 1)))
        (i64.store (i32.const 65552) (i64.load (i32.const 16)))
        (i32.store (i32.const 65560) (i32.load (i32.const 24)))
        (i32.store8 (i32.const 65564) (i32.load8_u (i32.const 28)))
        (if (result i32) (i32.and (local.get $ok) (i32.eqz (call $send (i32.const 65552) (i32.const 13))))
          (then (i32.const 0)) (else (i32.const 1)))`,
      `(import "env" "send" (func $send (param i32 i32) (result i32)))
       (data (i32.const 16) "\\01\\01\\01\\00\\00\\00\\07\\03\\01\\00\\00\\00x")`)))
      runtime.deliver('grown', message('grown', 'go'))
      assert.deepEqual(await host.sent('grown', 2), [{ performative: 'INFORM', receivers: ['x'] }, { performative: 'INFORM', receivers: ['x'] }])
      const info = await handled('grown', 1, 'the message to be handled')
      assert.equal(info.stats.errors, 0)
      assert.equal(info.stats.memoryPages, 2)
    })

    it('refuses sends over the size limit (-2) and past the per-message quota (-3)', async () => {
      // One send of 2 MB, then 1004 valid ones: every attempt counts towards the quota of
      // 1000, so 999 are accepted and 5 refused. Returns 0 only if the host answered so.
      await runtime.deploy('flooder', await wat(agentWat(`
        (local $i i32) (local $refused i32) (local $big i32)
        (local.set $big (call $send (i32.const 0) (i32.const 2000000)))
        (loop $more
          (if (i32.eq (call $send (i32.const 16) (i32.const 13)) (i32.const -3))
            (then (local.set $refused (i32.add (local.get $refused) (i32.const 1)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $more (i32.lt_u (local.get $i) (i32.const 1004))))
        (if (result i32) (i32.and (i32.eq (local.get $refused) (i32.const 5)) (i32.eq (local.get $big) (i32.const -2)))
          (then (i32.const 0)) (else (i32.const 1)))`,
      `(import "env" "send" (func $send (param i32 i32) (result i32)))
       (data (i32.const 16) "\\01\\01\\01\\00\\00\\00\\07\\03\\01\\00\\00\\00x")`)))
      runtime.deliver('flooder', message('flooder', 'go'))
      const info = await handled('flooder', 1, 'the message to be handled')
      assert.equal(info.stats.errors, 0)
      assert.equal(info.stats.sent, 999)
      const refusals = host.sends.filter(s => s.agentId === 'flooder' && !s.outbound.ok).map(s => (s.outbound as { error: string }).error)
      assert.deepEqual(refusals, [
        'message of 2000000 bytes exceeds the limit of 1048576 bytes',
        'more than 1000 sends while handling one message; further sends are refused'
      ])
    })

    it('fails an agent whose alloc returns a pointer outside its memory', async () => {
      await runtime.deploy('liar', await wat(`(module (import "env" "memory" (memory 1))
        (func (export "alloc") (param i32) (result i32) (i32.const 70000))
        (func (export "handle_message") (param i32 i32) (result i32) (i32.const 0)))`))
      runtime.deliver('liar', message('liar', 'x'))
      assert.match(await host.failed('liar'), /alloc\(\d+\) returned 70000, outside linear memory \(65536 bytes\)/)
    })
  })

  describe('mailbox and lifecycle', () => {
    it('answers mailbox-full past mailboxCapacity', async () => {
      await runtime.deploy('small', await exampleAgent('echo'), { mailboxCapacity: 2 })
      // Deliveries in one synchronous run: no handled report can arrive in between.
      assert.deepEqual([1, 2, 3].map(i => runtime.deliver('small', message('small', `${i}`))), ['queued', 'queued', 'mailbox-full'])
      assert.equal(runtime.deliver('nobody', message('nobody', 'x')), 'no-such-agent')
      assert.deepEqual((await host.sent('small', 2)).map(d => d.content), ['1', '2'])
    })

    it('remove() drains the mailbox, then forgets the agent', async () => {
      await runtime.deploy('leaving', await exampleAgent('echo'))
      for (let i = 0; i < 20; i++) runtime.deliver('leaving', message('leaving', `${i}`))
      await runtime.remove('leaving')
      assert.equal(host.drafts('leaving').length, 20)
      assert.equal(runtime.has('leaving'), false)
      assert.equal(runtime.get('leaving'), undefined)
      assert.equal(runtime.deliver('leaving', message('leaving', 'late')), 'no-such-agent')
      const missing = await rejection(runtime.remove('leaving'))
      assert.ok(missing instanceof AgentNotFoundError)
      // The id is free again.
      await runtime.deploy('leaving', await exampleAgent('echo'))
      await runtime.remove('leaving')
    })

    it('reports each handled message with its token and the sends it made, in delivery order', async () => {
      await runtime.deploy('tokens', await exampleAgent('echo'))
      for (let i = 0; i < 5; i++) runtime.deliver('tokens', message('tokens', `${i}`), `tok-${i}`)
      const handled = await host.until(() => {
        const h = host.handled.filter(e => e.agentId === 'tokens')
        return h.length === 5 ? h : undefined
      }, 'five handled')
      assert.deepEqual(handled.map(h => h.token), ['tok-0', 'tok-1', 'tok-2', 'tok-3', 'tok-4'])
      assert.deepEqual(handled.map(h => h.sends.map(o => o.ok ? o.draft.content : o.error)), [['0'], ['1'], ['2'], ['3'], ['4']])
      await runtime.remove('tokens')
    })

    it('admit() counts messages on their way in; remove() hands back the tokens it did not handle', async () => {
      await runtime.deploy('tight', await exampleAgent('echo'), { mailboxCapacity: 2 })
      assert.equal(runtime.admit('tight'), 'queued')
      assert.equal(runtime.admit('tight', 2), 'mailbox-full')
      assert.equal(runtime.admit('nobody'), 'no-such-agent')
      await runtime.remove('tight')
      // A stuck agent cannot drain: what is left comes back as tokens.
      const stuckRuntime = createAgentRuntime({ host, drainTimeoutMs: 50, defaults: { handlerTimeoutMs: 60_000, fuelPerMessage: 2_000_000_000 } })
      await stuckRuntime.start()
      try {
        await stuckRuntime.deploy('loop', await wat(agentWat('(loop $l (br $l)) (i32.const 0)')))
        for (let i = 0; i < 3; i++) stuckRuntime.deliver('loop', message('loop', `${i}`), `left-${i}`)
        assert.deepEqual(await stuckRuntime.remove('loop'), ['left-0', 'left-1', 'left-2'])
      } finally {
        await stuckRuntime.stop()
      }
    })

    it('answers env.send with -4 while the node\'s outbox is full, and reports nothing for it', async () => {
      // Returns 0 only if the send was refused with -4.
      await runtime.deploy('pressed', await wat(agentWat(`
        (if (result i32) (i32.eq (call $send (i32.const 16) (i32.const 13)) (i32.const -4))
          (then (i32.const 0)) (else (i32.const 1)))`,
      `(import "env" "send" (func $send (param i32 i32) (result i32)))
       (data (i32.const 16) "\\01\\01\\01\\00\\00\\00\\07\\03\\01\\00\\00\\00x")`)))
      runtime.setSendBackpressure(true)
      try {
        runtime.deliver('pressed', message('pressed', 'go'), 'p-1')
        const h = await host.until(() => host.handled.find(e => e.agentId === 'pressed'), 'handled')
        assert.deepEqual(h.sends, [])
        assert.equal(runtime.get('pressed')?.stats.errors, 0, 'the handler saw -4')
      } finally {
        runtime.setSendBackpressure(false)
      }
      runtime.deliver('pressed', message('pressed', 'again'), 'p-2')
      const h2 = await host.until(() => host.handled.find(e => e.token === 'p-2'), 'handled again')
      assert.equal(h2.sends.length, 1, 'accepted once the outbox has room')
      await runtime.remove('pressed')
    })

    it('removes a failed agent', async () => {
      assert.equal(runtime.get('spinner')?.state, 'failed')
      await runtime.remove('spinner')
      assert.equal(runtime.has('spinner'), false)
    })

    it('exports metrics: messages handled, failures, handler durations, agents by state', async () => {
      const text = await metrics.metrics()
      assert.match(text, /caxton_runtime_messages_handled_total\{result="ok"\} [1-9]/)
      assert.match(text, /caxton_runtime_message_failures_total\{kind="fuel"\} 1/)
      assert.match(text, /caxton_runtime_message_failures_total\{kind="status"\} [1-9]/)
      assert.match(text, /caxton_runtime_handler_duration_seconds_count [1-9]/)
      assert.match(text, /caxton_runtime_agents\{state="running"\} [1-9]/)
      assert.match(text, /caxton_runtime_agents\{state="failed"\} [1-9]/)
    })
  })
})

describe('agent runtime watchdog', function () {
  this.timeout(30_000)
  const host = new HostRecorder()
  let runtime: AgentRuntime
  runtimeForSuite(host, r => { runtime = r })

  it('stops a call stuck past handlerTimeoutMs inside its own instance: only that agent fails, its neighbours keep their state', async () => {
    await runtime.deploy('counter', await exampleAgent('counter'))
    await runtime.deploy('echo', await exampleAgent('echo'))
    // Fuel this high lets the loop run for seconds: only the wall-clock backstop stops it.
    await runtime.deploy('stuck', await wat(agentWat('(loop $forever (br $forever)) (i32.const 0)')), {
      fuelPerMessage: MAX_FUEL_PER_MESSAGE, handlerTimeoutMs: 100
    })
    runtime.deliver('counter', message('counter', 'add 5'))
    assert.equal((await host.sent('counter', 1))[0].content, '5')

    runtime.deliver('stuck', message('stuck', 'spin'))
    runtime.deliver('echo', message('echo', 'queued behind the stuck agent'))
    const reason = await host.failed('stuck')
    assert.equal(reason, 'handler ran longer than 100 ms (handlerTimeoutMs): stopped by the watchdog')
    assert.equal(runtime.get('stuck')?.state, 'failed')

    // The echo message queued behind it is handled by the same instance.
    assert.equal((await host.sent('echo', 1))[0].content, 'queued behind the stuck agent')
    assert.equal(runtime.get('echo')?.state, 'running')
    // The counter kept its count: nothing was restarted.
    runtime.deliver('counter', message('counter', 'add 1'))
    assert.equal((await host.sent('counter', 2))[1].content, '6')
    assert.equal(runtime.get('counter')?.stats.restarts, 0)
    assert.equal(runtime.get('echo')?.stats.restarts, 0)
    assert.deepEqual(host.restarts, [])
  })
})

describe('agent runtime stop', function () {
  this.timeout(30_000)

  it('drains every mailbox before it stops', async () => {
    const host = new HostRecorder()
    const runtime = createAgentRuntime({ host, workers: 1 })
    await runtime.start()
    await runtime.deploy('echo', await exampleAgent('echo'))
    for (let i = 0; i < 200; i++) assert.equal(runtime.deliver('echo', message('echo', `${i}`)), 'queued')
    await runtime.stop()
    assert.equal(host.drafts('echo').length, 200)
    assert.equal(runtime.get('echo')?.state, 'stopped')
    assert.equal(runtime.deliver('echo', message('echo', 'late')), 'not-running')
  })

  it('fails a deploy still in progress instead of leaving it hanging', async () => {
    const runtime = createAgentRuntime({ host: new HostRecorder(), workers: 1 })
    await runtime.start()
    const outcome = rejection(runtime.deploy('echo', await exampleAgent('echo')))
    await runtime.stop()
    const err = await outcome
    assert.match(err.message, /policy worker stopped|not running/)
    assert.equal(runtime.has('echo'), false)
  })
})
