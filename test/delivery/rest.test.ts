/**
 * Durable delivery through a real node's REST API: a message's status, the dead-letter
 * queue (list, filter, show, replay, delete, purge) and the handled log.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/index.js'
import { startNode, type CaxtonNode } from '../../src/node/index.js'
import { ROOT, waitFor } from '../../sim/cluster/index.js'
import { adminTokenOf, fetchWith } from '../api/auth-fixture.js'

const ECHO = readFileSync(join(ROOT, 'dist', 'agents', 'echo.wasm'))
const SINK = readFileSync(join(ROOT, 'dist', 'agents', 'sink.wasm'))

describe('delivery over REST (in-process node)', function () {
  this.timeout(60_000)
  let node: CaxtonNode
  let api: string
  let fetch: typeof globalThis.fetch

  before(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'caxton-delivery-rest-'))
    node = await startNode(loadConfig({
      env: {},
      flags: { preset: 'local', name: 'rest', dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], api: { port: 0 }, delivery: { handledLog: true } }
    }), { processMetrics: false })
    api = node.info().api
    fetch = fetchWith(await adminTokenOf(dataDir))
    await node.deployAgent({ id: 'echo', wasm: ECHO })
    await node.deployAgent({ id: 'sink', wasm: SINK })
  })

  after(async () => { await node.stop() })

  const get = async (path: string): Promise<{ status: number, body: any }> => {
    const res = await fetch(api + path)
    return { status: res.status, body: res.status === 204 ? undefined : await res.json() }
  }
  const send = async (method: string, path: string, body?: unknown): Promise<{ status: number, body: any }> => {
    const res = await fetch(api + path, { method, ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) })
    return { status: res.status, body: res.status === 204 ? undefined : await res.json() }
  }

  it('follows a message to handled, and shows it in the handled log', async () => {
    const sent = await send('POST', '/agents/echo/messages', { performative: 'REQUEST', content: 'status please' })
    assert.equal(sent.status, 202)
    const status = await waitFor('handled', async () => {
      const s = await get(`/messages/${sent.body.messageId as string}`)
      return s.body.receivers?.[0]?.state === 'handled' ? s : undefined
    })
    assert.equal(status.status, 200)
    assert.equal(status.body.sender, sent.body.sender)
    assert.equal(status.body.receivers[0].receiver, 'echo')
    const log = await get('/messages/handled?limit=100')
    const line = log.body.entries.find((e: { messageId: string }) => e.messageId === sent.body.messageId)
    assert.equal(line.receiver, 'echo')
    assert.equal(line.sent.length, 1, 'echo\'s reply, committed with the handling')
    assert.equal((await get('/messages/no-such-message')).body.error.code, 'MESSAGE_NOT_FOUND')
  })

  it('lists, shows, replays and deletes dead letters', async () => {
    // A reply-by already past: dead-lettered at once, with FAILURE to the client.
    const a = await send('POST', '/agents/echo/messages?wait=5000', { performative: 'REQUEST', content: 'late', replyBy: 1 })
    assert.equal(a.status, 200)
    assert.equal(a.body.reply.performative, 'FAILURE')
    const b = await send('POST', '/agents/echo/messages', { performative: 'REQUEST', content: 'late too', replyBy: 1 })
    const list = await get('/dead-letters?agent=echo&cause=expired')
    assert.equal(list.status, 200)
    assert.equal(list.body.total, 2)
    assert.deepEqual(list.body.deadLetters.map((d: { messageId: string }) => d.messageId), [b.body.messageId, a.body.messageId], 'newest first')
    const [newest] = list.body.deadLetters
    assert.equal(newest.message.content, 'late too')
    assert.match(newest.reason, /reply-by .* had passed when it was sent/)
    assert.equal((await get(`/dead-letters/${newest.id as string}`)).body.id, newest.id)
    assert.equal((await get('/dead-letters?cause=not-found')).body.total, 0)
    assert.equal((await get('/dead-letters/000000000000000000')).body.error.code, 'DEAD_LETTER_NOT_FOUND')
    assert.equal((await get('/dead-letters?cause=lost')).status, 400)

    const replay = await send('POST', `/dead-letters/${newest.id as string}/replay`)
    assert.equal(replay.status, 202)
    assert.deepEqual(replay.body, { messageId: b.body.messageId, receiver: 'echo' })
    await waitFor('the replay handled', async () => (await get(`/messages/${b.body.messageId as string}`)).body.receivers?.[0]?.state === 'handled' ? true : undefined)
    assert.equal((await get('/dead-letters')).body.total, 1)

    const older = list.body.deadLetters[1]
    assert.equal((await send('DELETE', `/dead-letters/${older.id as string}`)).status, 204)
    assert.equal((await send('DELETE', `/dead-letters/${older.id as string}`)).body.error.code, 'DEAD_LETTER_NOT_FOUND')
    await send('POST', '/agents/echo/messages', { performative: 'REQUEST', replyBy: 1 })
    assert.deepEqual((await send('DELETE', '/dead-letters?agent=echo')).body, { deleted: 1 })
    assert.equal((await get('/dead-letters')).body.total, 0)
  })

  it('enforces reply-by: a request delivered but never answered gets FAILURE from ams; the conversation is there to read', async () => {
    const replyBy = Date.now() + 1500
    const sent = await send('POST', '/agents/sink/messages?wait=10000', { performative: 'REQUEST', content: 'answer?', replyBy, protocol: 'fipa-request' })
    assert.equal(sent.status, 200)
    assert.equal(sent.body.reply.performative, 'FAILURE')
    assert.equal(sent.body.reply.sender, 'ams')
    assert.equal(sent.body.reply.inReplyTo, sent.body.messageId)
    assert.match(sent.body.reply.content, /no reply from sink by its reply-by/)
    assert.ok(Date.now() >= replyBy)
    const handledStatus = await get(`/messages/${sent.body.messageId as string}`)
    assert.equal(handledStatus.body.receivers[0].state, 'handled', 'delivered and handled: the FAILURE is about the reply, not the delivery')
    const c = await get(`/conversations/${sent.body.conversationId as string}`)
    assert.equal(c.status, 200)
    assert.equal(c.body.initiator, sent.body.sender)
    assert.deepEqual(c.body.participants, [sent.body.sender, 'sink', 'ams'])
    assert.equal(c.body.protocol, 'fipa-request')
    assert.equal(c.body.messages, 2, 'the request and the FAILURE')
    assert.deepEqual(c.body.awaiting, [])
    assert.equal((await get('/conversations/nope')).body.error.code, 'CONVERSATION_NOT_FOUND')
  })

  it('shows delivery state per peer in GET /cluster/peers', async () => {
    const { body } = await get('/cluster/peers')
    assert.ok(Array.isArray(body.peers))
    for (const p of body.peers) assert.equal(typeof p.delivery.breaker, 'string')
  })
})
