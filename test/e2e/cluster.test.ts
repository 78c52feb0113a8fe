/**
 * The first whole slice, on real parts: three node processes on loopback join into a
 * cluster; the echo agent is deployed to the third through the CLI (which finds the
 * node's admin token by itself); a REQUEST from the
 * first, through the REST API, comes back as INFORM with the right in-reply-to; the third
 * node restarts and its agent is back under the same PeerId.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ROOT, apiFetch, runCli, startNodeProcess, waitFor, type NodeProcess } from '../../sim/cluster/index.js'

const ECHO = join(ROOT, 'dist', 'agents', 'echo.wasm')

async function api<T> (node: NodeProcess, path: string, init?: RequestInit): Promise<{ status: number, body: T }> {
  const res = await apiFetch(node, path, { ...init, headers: { 'content-type': 'application/json', ...init?.headers } })
  const text = await res.text()
  return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T }
}

interface Reply { messageId: string, conversationId: string, sender: string, reply?: Record<string, unknown> }

describe('e2e: three nodes, an echo agent, a request across the cluster', function () {
  this.timeout(120_000)
  const nodes: NodeProcess[] = []

  after(async () => {
    await Promise.all(nodes.map(async n => await n.stop('SIGKILL')))
  })

  it('joins three nodes, deploys through the CLI, answers through the REST API, and survives a restart', async () => {
    const n1 = await startNodeProcess({ name: 'n1' })
    nodes.push(n1)
    const n2 = await startNodeProcess({ name: 'n2', join: [n1.multiaddrs[0]] })
    nodes.push(n2)
    let n3 = await startNodeProcess({ name: 'n3', join: [n1.multiaddrs[0]] })
    nodes.push(n3)

    await waitFor('n1 to see both peers', async () => {
      const { body } = await api<{ peers: Array<{ peerId: string }> }>(n1, '/cluster/peers')
      const ids = body.peers.map(p => p.peerId)
      return ids.includes(n2.peerId) && ids.includes(n3.peerId) ? true : undefined
    })

    // Without a token nothing is served; the CLI finds n3's admin token through its data folder.
    assert.equal((await fetch(`${n3.api}/agents`)).status, 401)
    const deploy = await runCli(['agent', 'deploy', ECHO, '--id', 'echo', '--api', n3.api, '--json'], { CAXTON_DATA: n3.dataDir })
    assert.equal(deploy.code, 0, `deploy failed: ${deploy.stderr}`)
    assert.equal(JSON.parse(deploy.stdout).id, 'echo')

    const sent = await api<Reply>(n1, '/agents/echo/messages?wait=10000', {
      method: 'POST',
      body: JSON.stringify({ performative: 'REQUEST', content: 'hello from n1', replyWith: 'req-1' })
    })
    assert.equal(sent.status, 200, JSON.stringify(sent.body))
    const reply = sent.body.reply!
    assert.equal(reply.performative, 'INFORM')
    assert.equal(reply.content, 'hello from n1')
    assert.equal(reply.inReplyTo, 'req-1')
    assert.equal(reply.sender, 'echo')
    assert.equal(reply.conversationId, sent.body.conversationId)
    assert.deepEqual(reply.receivers, [sent.body.sender])
    // The reply stays in the request's trace (W3C traceparent: same trace id).
    const request = (await api<{ messages: Array<{ message: { messageId: string, traceparent: string } }> }>(n1, '/messages?limit=10')).body.messages
      .find(r => r.message.messageId === sent.body.messageId)!.message
    assert.equal(String(reply.traceparent).split('-')[1], request.traceparent.split('-')[1])

    // An agent nobody hosts: a clear 404, nothing routed.
    const missing = await api<{ error: { code: string } }>(n1, '/agents/nobody/messages', {
      method: 'POST', body: JSON.stringify({ performative: 'REQUEST', content: 'x' })
    })
    assert.equal(missing.status, 404)
    assert.equal(missing.body.error.code, 'AGENT_NOT_FOUND')

    // A malformed message: HTTP 400 with the reason.
    const bad = await api<{ error: { code: string, message: string } }>(n1, '/agents/echo/messages', {
      method: 'POST', body: JSON.stringify({ performative: 'SHOUT', content: 'x' })
    })
    assert.equal(bad.status, 400)
    assert.match(bad.body.error.message, /SHOUT/)

    // Restart n3 on the same data folder: same PeerId, the agent is back and answers.
    const { peerId, token } = n3
    assert.equal(await n3.stop(), 0, 'n3 stops cleanly on SIGTERM')
    n3 = await startNodeProcess({ name: 'n3', dataDir: n3.dataDir, join: [n1.multiaddrs[0]] })
    nodes.push(n3)
    assert.equal(n3.peerId, peerId)
    assert.equal(n3.token, token, 'the admin token survives the restart')
    const agent = await api<{ id: string, state: string }>(n3, '/agents/echo')
    assert.equal(agent.status, 200)
    assert.equal(agent.body.state, 'running')

    const again = await waitFor('a reply from the restarted n3', async () => {
      const r = await api<Reply>(n1, '/agents/echo/messages?wait=5000', {
        method: 'POST', body: JSON.stringify({ performative: 'REQUEST', content: 'again' })
      })
      return r.status === 200 && r.body.reply?.performative === 'INFORM' ? r.body : undefined
    }, 30_000, 250)
    assert.equal(again.reply!.content, 'again')
    assert.equal(again.reply!.inReplyTo, again.messageId)
  })
})
