import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { compileAgent } from '../../agents/build.mjs'
import type { AclMessage } from '../../protocols/fipa/types.js'
import { createAgentRuntime, type AgentRuntime } from '../../src/runtime/index.js'
import { HostRecorder } from './helpers/host.js'

describe('AssemblyScript SDK', function () {
  this.timeout(60_000)
  const host = new HostRecorder()
  let runtime: AgentRuntime

  before(async () => {
    const { binary } = await compileAgent(fileURLToPath(new URL('../fixtures/wasm/sdk-tour/index.ts', import.meta.url)))
    runtime = createAgentRuntime({ host, workers: 1 })
    await runtime.start()
    await runtime.deploy('tour', binary)
  })

  after(async () => { await runtime?.stop() })

  const base: AclMessage = {
    messageId: 'm-1',
    createdAt: 1_700_000_000_000,
    performative: 'REQUEST',
    sender: 'visitor',
    receivers: ['tour'],
    conversationId: 'conv-tour',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
  }

  it('encodes every field of a new message, and replies with bytes to the reply-to agents', async () => {
    runtime.deliver('tour', { ...base, content: 'tour', replyWith: 'q1', replyTo: ['visitor-inbox'] })
    const [sent, replied] = await host.sent('tour', 2)
    assert.deepEqual(sent, {
      performative: 'PROPOSE',
      receivers: ['observer', 'observer-2'],
      replyTo: ['tour-replies'],
      content: new TextEncoder().encode('été'),
      language: 'fipa-sl',
      encoding: 'utf-8',
      ontology: 'tour',
      protocol: 'fipa-contract-net',
      conversationId: 'conv-tour',
      replyWith: 'tour-1',
      replyBy: 1700000000123,
      traceparent: base.traceparent,
      tracestate: 'k=v'
    })
    assert.deepEqual(replied, {
      performative: 'INFORM',
      receivers: ['visitor-inbox'],
      content: Uint8Array.of(1, 2, 3),
      conversationId: 'conv-tour',
      inReplyTo: 'q1',
      traceparent: base.traceparent
    })
    const line = await host.until(() => host.logs.find(l => l.agentId === 'tour'), 'a log line')
    assert.deepEqual(line, { agentId: 'tour', level: 'warn', text: 'tour of visitor done ✓' })
  })

  it('sees what send returned; makeReply keeps conversation, protocol, ontology, language and trace context', async () => {
    runtime.deliver('tour', { ...base, messageId: 'm-2', content: 'status', replyWith: 'q2', protocol: 'fipa-request', ontology: 'o', language: 'l' })
    const replies = await host.sent('tour', 3)
    assert.deepEqual(replies[2], {
      performative: 'INFORM',
      receivers: ['visitor'],
      content: 'last send: 0, in-reply-to: q2',
      language: 'l',
      ontology: 'o',
      protocol: 'fipa-request',
      conversationId: 'conv-tour',
      inReplyTo: 'q2',
      traceparent: base.traceparent
    })
  })

  it('answers what it does not know with NOT-UNDERSTOOD, in-reply-to the message-id', async () => {
    runtime.deliver('tour', { ...base, messageId: 'm-3', content: 'dance' })
    const replies = await host.sent('tour', 4)
    assert.deepEqual(replies[3], {
      performative: 'NOT-UNDERSTOOD',
      receivers: ['visitor'],
      content: 'unknown: dance',
      conversationId: 'conv-tour',
      inReplyTo: 'm-3',
      traceparent: base.traceparent
    })
  })
})

describe('example agents and reports', function () {
  this.timeout(60_000)
  const host = new HostRecorder()
  let runtime: AgentRuntime

  before(async () => {
    runtime = createAgentRuntime({ host, workers: 1 })
    await runtime.start()
    for (const name of ['echo', 'counter', 'relay', 'sink']) {
      const { binary } = await compileAgent(fileURLToPath(new URL(`../../agents/examples/${name}/index.ts`, import.meta.url)))
      await runtime.deploy(name, binary)
    }
  })

  after(async () => { await runtime?.stop() })

  const report = (to: string, performative: 'FAILURE' | 'NOT-UNDERSTOOD', i: number): AclMessage =>
    ({ messageId: `r-${to}-${i}`, createdAt: 1, performative, sender: 'ams', receivers: [to], content: 'message to x not delivered' })

  it('never answer FAILURE or NOT-UNDERSTOOD (no report loops), but still answer what they do not understand', async () => {
    for (const name of ['echo', 'counter', 'relay', 'sink']) {
      runtime.deliver(name, report(name, 'FAILURE', 1), `${name}-f`)
      runtime.deliver(name, report(name, 'NOT-UNDERSTOOD', 2), `${name}-n`)
    }
    runtime.deliver('echo', { messageId: 'q', createdAt: 1, performative: 'QUERY-IF', sender: 'visitor', receivers: ['echo'] }, 'echo-q')
    const handled = await host.until(() => host.handled.length === 9 ? host.handled : undefined, 'nine messages handled')
    const answered = handled.filter(h => h.sends.length > 0).map(h => h.token)
    assert.deepEqual(answered, ['echo-q'])
  })

  it('relay passes a REQUEST on to the agent it names, in the same conversation', async () => {
    const before = host.handled.length
    runtime.deliver('relay', { messageId: 'q2', createdAt: 1, performative: 'REQUEST', sender: 'client-1', receivers: ['relay'], content: 'sink-7', conversationId: 'chaos-1' }, 'relay-q')
    const h = await host.until(() => host.handled.slice(before).find(x => x.token === 'relay-q'), 'relay handled')
    assert.equal(h.sends.length, 1)
    const out = h.sends[0]
    assert.ok(out.ok)
    assert.deepEqual(out.draft.receivers, ['sink-7'])
    assert.equal(out.draft.performative, 'INFORM')
    assert.equal(out.draft.conversationId, 'chaos-1')
  })
})
