/**
 * The CLI of durable delivery against a real API server over the fake facade with its
 * delivery parts: `caxton dlq list|show|replay|delete|purge`, `caxton message status`
 * (with `--wait-for`) and `caxton message handled`.
 */
import assert from 'node:assert/strict'
import { createApiServer, type ApiServer } from '../../src/api/index.js'
import { MAX_DEAD_LETTER_LIMIT } from '../../src/api/schemas.js'
import type { DeadLetterListResponse, HandledLogResponse, MessageStatusResponse } from '../../src/api/types.js'
import { CaxtonClient, type CliIo } from '../../src/cli/index.js'
import type { DeliveryState } from '../../src/delivery/types.js'
import { testAuth } from '../api/auth-fixture.js'
import { FakeFacade, TINY_WASM } from '../api/fake-facade.js'
import { runCli, type CliResult } from './harness.js'

/** The fake's clock starts here and ticks 1 ms per event. */
const FAKE_EPOCH = 1_700_000_000_000
const NOW = FAKE_EPOCH + 3_600_000

describe('cli: durable delivery (dlq, message status, message handled)', () => {
  let facade: FakeFacade
  let server: ApiServer
  let url: string
  let client: CaxtonClient
  let requests: string[]
  let token: string

  beforeEach(async () => {
    facade = new FakeFacade({ delivery: true })
    const { auth, admin } = await testAuth()
    token = admin
    server = createApiServer({ facade, host: '127.0.0.1', port: 0, auth })
    url = (await server.start()).url
    client = new CaxtonClient({ url, token })
    requests = []
    await facade.deployAgent({ id: 'worker', wasm: TINY_WASM })
    await facade.deployAgent({ id: 'billing', wasm: TINY_WASM })
  })

  afterEach(async () => { await server.stop() })

  async function cli (args: string[], io: Omit<CliIo, 'stdout' | 'stderr'> = {}): Promise<CliResult> {
    return await runCli([...args, '--api', url], {
      env: { CAXTON_TOKEN: token },
      now: () => NOW,
      fetch: async (input, init) => {
        const u = new URL(String(input))
        requests.push(`${init?.method ?? 'GET'} ${u.pathname}${u.search}`)
        return await fetch(input, init)
      },
      ...io
    })
  }

  /** A message whose reply-by has passed: the node dead-letters it at once (`expired`). */
  async function expired (to: string, content: string, sender?: string): Promise<string> {
    const sent = await client.sendMessage(to, { performative: 'REQUEST', content, replyBy: 1, ...(sender !== undefined ? { sender } : {}) })
    return sent.messageId
  }

  const idOf = (messageId: string): string => {
    const d = facade.deadLetterQueue.find(e => e.messageId === messageId)
    assert.ok(d !== undefined, `no dead letter for ${messageId}`)
    return d.id
  }

  describe('dlq list', () => {
    it('prints a table newest first, a hint when empty, and the API body with --json', async () => {
      assert.equal((await cli(['dlq', 'list'])).stdout, 'no dead letters on this node\n')
      const first = await expired('worker', 'one')
      const second = await expired('billing', 'two')
      const r = await cli(['dlq', 'list'])
      assert.equal(r.code, 0, r.stderr)
      const lines = r.stdout.trimEnd().split('\n')
      assert.equal(lines.length, 3)
      assert.match(lines[0], /^ID\s+TIME\s+CAUSE\s+FROM\s+TO\s+MESSAGE\s+ATTEMPTS\s+REASON$/)
      assert.match(lines[1], new RegExp(`^${idOf(second)}\\s+2023-11-14 22:13:20Z\\s+expired\\s+client-1\\s+billing\\s+${second}\\s+0\\s+its reply-by \\(1970-01-01T00:00:00\\.001Z\\) had passed when it …$`))
      assert.match(lines[2], new RegExp(`^${idOf(first)}\\s.*\\sworker\\s+${first}\\s`))
      const json = await cli(['dlq', 'list', '--json'])
      const body = JSON.parse(json.stdout) as DeadLetterListResponse
      assert.deepEqual(body, await client.listDeadLetters())
      assert.equal(body.deadLetters[0].message.content, 'two')
    })

    it('passes --agent, --cause and --limit on, and says when more matched', async () => {
      await expired('worker', 'a', 'ops')
      await expired('billing', 'b', 'ops')
      await expired('worker', 'c')
      const r = await cli(['dlq', 'list', '--agent', 'ops', '--cause', 'expired', '--limit', '1'])
      assert.equal(r.code, 0, r.stderr)
      assert.deepEqual(requests, ['GET /dead-letters?agent=ops&cause=expired&limit=1'])
      const lines = r.stdout.trimEnd().split('\n')
      assert.equal(lines.length, 3)
      assert.match(lines[1], /\sops\s+billing\s/, 'the newest from ops')
      assert.equal(lines[2], '(1 of 2; raise --limit to see more)')
      const toWorker = await cli(['dlq', 'list', '--agent', 'worker', '--json'])
      assert.deepEqual((JSON.parse(toWorker.stdout) as DeadLetterListResponse).deadLetters.map(d => d.message.content), ['c', 'a'], 'to worker, from anyone')
      assert.equal((await cli(['dlq', 'list', '--cause', 'not-found'])).stdout, 'no dead letters match\n')
    })

    it('takes --since as ms since the epoch, an ISO 8601 time or a duration ago', async () => {
      const older = await expired('worker', 'older')
      const newer = await expired('worker', 'newer')
      const atNewer = facade.deadLetterQueue[1].at
      const ids = async (since: string): Promise<string[]> => {
        const r = await cli(['dlq', 'list', '--since', since, '--json'])
        assert.equal(r.code, 0, r.stderr)
        return (JSON.parse(r.stdout) as DeadLetterListResponse).deadLetters.map(d => d.messageId)
      }
      assert.deepEqual(await ids(String(atNewer)), [newer])
      assert.deepEqual(await ids(new Date(FAKE_EPOCH).toISOString()), [newer, older])
      assert.deepEqual(await ids('2023-11-14T22:13:20.999Z'), [], 'after both')
      assert.deepEqual(await ids('2h'), [newer, older])
      assert.deepEqual(await ids('59m'), [])
      assert.equal(requests.at(-1), `GET /dead-letters?since=${NOW - 59 * 60_000}`)
      await ids('1h0m1s')
      assert.equal(requests.at(-1), `GET /dead-letters?since=${NOW - 3_601_000}`)
    })

    for (const [name, args, pattern] of [
      ['a --since that is no time', ['--since', 'yesterday'], /option '--since <time>' argument 'yesterday' is invalid\. expected ms since the epoch, an ISO 8601 time/],
      ['an impossible date', ['--since', '2026-13-45'], /argument '2026-13-45' is invalid/],
      ['an unknown --cause', ['--cause', 'lost'], /argument 'lost' is invalid\. Allowed choices are expired, not-found, rejected, agent-failed, agent-removed/],
      ['a --limit over the API\'s', ['--limit', String(MAX_DEAD_LETTER_LIMIT + 1)], new RegExp(`expected a whole number from 1 to ${MAX_DEAD_LETTER_LIMIT}\\.`)]
    ] as const) {
      it(`exits 2 on ${name}, asking nothing`, async () => {
        const r = await cli(['dlq', 'list', ...args])
        assert.equal(r.code, 2)
        assert.match(r.stderr, pattern)
        assert.deepEqual(requests, [])
      })
    }
  })

  describe('dlq show / replay / delete', () => {
    it('show: the dead letter and its message; --json the API body; 1 when absent or malformed', async () => {
      const m = await expired('worker', 'line one\nline two')
      const id = idOf(m)
      const r = await cli(['dlq', 'show', id])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, [
        `id:            ${id}`,
        'dead-lettered: 2023-11-14 22:13:20Z (59m ago)',
        'cause:         expired',
        'reason:        its reply-by (1970-01-01T00:00:00.001Z) had passed when it was sent',
        'attempts:      0',
        `message:       ${m}`,
        'from:          client-1',
        'to:            worker',
        'performative:  REQUEST',
        `conversation:  ${facade.records.find(x => x.message.messageId === m)?.message.conversationId ?? ''}`,
        'reply-by:      1970-01-01 00:00:00Z',
        'content:       line one',
        '               line two',
        ''
      ].join('\n'))
      const json = await cli(['dlq', 'show', id, '--json'])
      assert.deepEqual(JSON.parse(json.stdout), await client.getDeadLetter(id))

      const absent = await cli(['dlq', 'show', '000000000000000000'])
      assert.equal(absent.code, 1)
      assert.equal(absent.stderr, 'error: no dead letter 000000000000000000 on this node (DEAD_LETTER_NOT_FOUND)\n')
      const malformed = await cli(['dlq', 'show', 'not-an-id'])
      assert.equal(malformed.code, 1)
      assert.match(malformed.stderr, /dead letter id \(18 hex digits\) \(REQUEST_INVALID\)\n$/)
    })

    it('show: names the last peer of a remote receiver', async () => {
      const sent = await client.sendMessage('worker', { performative: 'INFORM' })
      const message = facade.records.find(x => x.message.messageId === sent.messageId)?.message
      assert.ok(message !== undefined)
      const d = facade.addDeadLetter(message, 'remote-agent', 'not-found', 'no node hosts remote-agent', { attempts: 3, peer: '12D3KooWPeerB' })
      const r = await cli(['dlq', 'show', d.id])
      assert.match(r.stdout, /^cause:\s+not-found$/m)
      assert.match(r.stdout, /^attempts:\s+3$/m)
      assert.match(r.stdout, /^last peer:\s+12D3KooWPeerB$/m)
      assert.match(r.stdout, /^content:\s+\(none\)$/m)
    })

    it('replay: queues the message again under its id, and it leaves the queue', async () => {
      const m = await expired('worker', 'again')
      const id = idOf(m)
      const r = await cli(['dlq', 'replay', id])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, `replayed dead letter ${id}: message ${m} is queued again for worker\n`)
      assert.equal(facade.deadLetterQueue.length, 0)
      assert.equal((await client.messageStatus(m)).receivers[0].state, 'delivered')
      const again = await cli(['dlq', 'replay', id, '--json'])
      assert.equal(again.code, 1)
      assert.equal(JSON.parse(again.stdout).error.code, 'DEAD_LETTER_NOT_FOUND')
      const other = idOf(await expired('worker', 'json'))
      const json = await cli(['dlq', 'replay', other, '--json'])
      assert.deepEqual(JSON.parse(json.stdout), { messageId: facade.records[0].message.messageId, receiver: 'worker' })
    })

    it('delete (alias rm): one line, nothing with --json, 1 when absent', async () => {
      const a = idOf(await expired('worker', 'a'))
      const b = idOf(await expired('worker', 'b'))
      const r = await cli(['dlq', 'delete', a])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, `deleted dead letter ${a}\n`)
      const json = await cli(['dlq', 'rm', b, '--json'])
      assert.equal(json.code, 0, json.stderr)
      assert.equal(json.stdout, '')
      assert.equal(facade.deadLetterQueue.length, 0)
      const absent = await cli(['dlq', 'delete', a])
      assert.equal(absent.code, 1)
      assert.match(absent.stderr, /\(DEAD_LETTER_NOT_FOUND\)\n$/)
    })
  })

  describe('dlq purge', () => {
    beforeEach(async () => {
      await expired('worker', 'a')
      await expired('billing', 'b')
      await expired('billing', 'c')
    })

    it('deletes what matches the filters, without asking', async () => {
      let asked = 0
      const r = await cli(['dlq', 'purge', '--agent', 'billing', '--cause', 'expired'], { confirm: async () => { asked++; return false } })
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, 'deleted 2 dead letters\n')
      assert.equal(asked, 0)
      assert.deepEqual(facade.deadLetterQueue.map(d => d.receiver), ['worker'])
      const json = await cli(['dlq', 'purge', '--since', '0', '--json'])
      assert.deepEqual(JSON.parse(json.stdout), { deleted: 1 })
    })

    it('without a filter and without a terminal, refuses (exit 2) unless --yes', async () => {
      const r = await cli(['dlq', 'purge'])
      assert.equal(r.code, 2)
      assert.equal(r.stderr, 'error: without --agent, --cause or --since, purge deletes every dead letter of the node: add --yes ' +
        '(stdin is not a terminal, so it cannot ask)\n(add --help for usage)\n')
      assert.deepEqual(requests, [])
      assert.equal(facade.deadLetterQueue.length, 3)
      const yes = await cli(['dlq', 'purge', '--yes'])
      assert.equal(yes.code, 0, yes.stderr)
      assert.equal(yes.stdout, 'deleted 3 dead letters\n')
      assert.deepEqual(requests, ['DELETE /dead-letters'])
    })

    it('without a filter on a terminal, asks with the count, and deletes only on yes', async () => {
      const questions: string[] = []
      const no = await cli(['dlq', 'purge'], { confirm: async (q) => { questions.push(q); return false } })
      assert.equal(no.code, 1)
      assert.equal(no.stderr, 'error: nothing deleted (ABORTED)\n')
      assert.deepEqual(questions, ['Delete all 3 dead letters on this node?'])
      assert.equal(facade.deadLetterQueue.length, 3)
      const yes = await cli(['dlq', 'purge', '--json'], { confirm: async () => true })
      assert.equal(yes.code, 0, yes.stderr)
      assert.deepEqual(JSON.parse(yes.stdout), { deleted: 3 })
      assert.equal(facade.deadLetterQueue.length, 0)
    })
  })

  describe('conversation show', () => {
    it('prints who takes part and what is awaited; --json gives the node\'s object; an unknown id is CONVERSATION_NOT_FOUND', async () => {
      facade.conversationTable.set('c-7', {
        id: 'c-7', initiator: 'client-1', participants: ['client-1', 'worker', 'ams'], protocol: 'fipa-request', startedAt: NOW - 60_000,
        lastActivity: NOW - 5000, messages: 3, awaiting: [{ key: 'q-1', from: 'client-1', to: ['worker'], replyBy: NOW + 10_000, messageId: 'm-1', checkAt: NOW + 10_000 }]
      })
      const r = await cli(['conversation', 'show', 'c-7'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /participants:\s+client-1, worker, ams/)
      assert.match(r.stdout, /protocol:\s+fipa-request/)
      assert.match(r.stdout, /client-1 awaits worker by .* \(reply-with q-1\)/)
      const j = await cli(['conversation', 'show', 'c-7', '--json'])
      assert.deepEqual(JSON.parse(j.stdout).participants, ['client-1', 'worker', 'ams'])
      const missing = await cli(['conversation', 'show', 'nope'])
      assert.equal(missing.code, 1)
      assert.match(missing.stderr, /CONVERSATION_NOT_FOUND|not known to this node/)
    })
  })

  describe('message status', () => {
    it('prints one row per receiver; a dead letter with its cause, reason and id; --json the API body', async () => {
      const sent = await client.sendMessage('worker', { performative: 'REQUEST', content: 'x' })
      facade.setDeliveryState(sent.messageId, 'worker', 'sent', { peer: '12D3KooWAbCdEfGhIjKlMnOpQrStUv', attempts: 2, reason: 'stream reset' })
      const r = await cli(['message', 'status', sent.messageId])
      assert.equal(r.code, 0, r.stderr)
      const lines = r.stdout.trimEnd().split('\n')
      assert.equal(lines[0], `message ${sent.messageId} from client-1`)
      assert.match(lines[1], /^RECEIVER\s+STATE\s+AT\s+PEER\s+ATTEMPTS\s+REASON$/)
      assert.match(lines[2], /^worker\s+sent\s+2023-11-14 22:13:20Z\s+12D3KooWAbCd…QrStUv\s+2\s+stream reset$/)

      const dead = await expired('billing', 'late')
      const d = await cli(['message', 'status', dead])
      assert.match(d.stdout, new RegExp(`^billing\\s+dead-lettered\\s+\\S+ \\S+\\s+-\\s+0\\s+expired: its reply-by .* \\(dead letter ${idOf(dead)}\\)$`, 'm'))
      const json = await cli(['message', 'status', dead, '--json'])
      assert.deepEqual(JSON.parse(json.stdout), await client.messageStatus(dead))
    })

    it('exits 1 with MESSAGE_NOT_FOUND for a message the node does not know', async () => {
      const r = await cli(['message', 'status', 'm-404'])
      assert.equal(r.code, 1)
      assert.match(r.stderr, /^error: message m-404 is not known to this node .*\(MESSAGE_NOT_FOUND\)\n$/)
    })

    describe('--wait-for', () => {
      /** A clock that only the test's sleep moves, and the pauses the command asked for. */
      function virtualTime (onSleep: (n: number) => void = () => {}): { io: Omit<CliIo, 'stdout' | 'stderr'>, pauses: number[] } {
        let t = NOW
        const pauses: number[] = []
        return {
          pauses,
          io: { now: () => t, sleep: async (ms) => { pauses.push(ms); t += ms; onSleep(pauses.length) } }
        }
      }

      it('polls, backing off, until every receiver is handled', async () => {
        const sent = await client.sendMessage('worker', { performative: 'REQUEST' })
        const steps: DeliveryState[] = ['sent', 'delivered', 'handled']
        const { io, pauses } = virtualTime(n => { facade.setDeliveryState(sent.messageId, 'worker', steps[n - 1]) })
        facade.setDeliveryState(sent.messageId, 'worker', 'queued')
        const r = await cli(['message', 'status', sent.messageId, '--wait-for', 'handled'], io)
        assert.equal(r.code, 0, r.stderr)
        assert.deepEqual(pauses, [100, 200, 400])
        assert.match(r.stdout, /^worker\s+handled\s/m)
        assert.equal(r.stdout.split('\n').filter(l => l.startsWith('RECEIVER')).length, 1, 'the final status only')
      })

      it('counts handled as delivered, and asks once when it is already there', async () => {
        const sent = await client.sendMessage('worker', { performative: 'REQUEST' })
        facade.setDeliveryState(sent.messageId, 'worker', 'handled')
        const { io, pauses } = virtualTime()
        const r = await cli(['message', 'status', sent.messageId, '--wait-for', 'delivered', '--json'], io)
        assert.equal(r.code, 0, r.stderr)
        assert.deepEqual(pauses, [])
        assert.equal((JSON.parse(r.stdout) as MessageStatusResponse).receivers[0].state, 'handled')
      })

      it('gives up after --wait-timeout: exit 1, WAIT_TIMEOUT, the last status printed', async () => {
        const sent = await client.sendMessage('worker', { performative: 'REQUEST' })
        const { io, pauses } = virtualTime()
        const r = await cli(['message', 'status', sent.messageId, '--wait-for', 'handled', '--wait-timeout', '250'], io)
        assert.equal(r.code, 1)
        assert.deepEqual(pauses, [100, 150], 'never past the deadline')
        assert.match(r.stdout, /^worker\s+delivered\s/m)
        assert.equal(r.stderr, `error: message ${sent.messageId} is not handled after 250 ms: worker delivered (WAIT_TIMEOUT)\n`)
      })

      it('stops at once when a receiver is dead-lettered instead (WAIT_UNREACHABLE)', async () => {
        const dead = await expired('worker', 'late')
        const { io, pauses } = virtualTime()
        const r = await cli(['message', 'status', dead, '--wait-for', 'delivered'], io)
        assert.equal(r.code, 1)
        assert.deepEqual(pauses, [])
        assert.match(r.stdout, /^worker\s+dead-lettered\s/m)
        assert.match(r.stderr, new RegExp(`^error: message ${dead} will not be delivered for worker: it is dead-lettered \\(its reply-by .*\\) \\(WAIT_UNREACHABLE\\)\n$`))
        const handled = await client.sendMessage('worker', { performative: 'INFORM' })
        facade.setDeliveryState(handled.messageId, 'worker', 'handled')
        const other = await cli(['message', 'status', handled.messageId, '--wait-for', 'dead-lettered'], virtualTime().io)
        assert.equal(other.code, 1)
        assert.match(other.stderr, /will not be dead-lettered for worker: it is handled \(WAIT_UNREACHABLE\)/)
      })

      it('exits 2 on a state it cannot wait for', async () => {
        const r = await cli(['message', 'status', 'm-1', '--wait-for', 'queued'])
        assert.equal(r.code, 2)
        assert.match(r.stderr, /Allowed choices are delivered, handled, dead-lettered/)
        assert.deepEqual(requests, [])
      })
    })
  })

  describe('message handled', () => {
    it('prints the handled log, pages with --after, hints when empty', async () => {
      const empty = await cli(['message', 'handled'])
      assert.equal(empty.code, 0, empty.stderr)
      assert.match(empty.stdout, /^no handled messages \(the node keeps this log only with delivery\.handledLog/)
      const ids: string[] = []
      for (const content of ['a', 'b']) {
        const sent = await client.sendMessage('worker', { performative: 'INFORM', content })
        facade.setDeliveryState(sent.messageId, 'worker', 'handled')
        ids.push(sent.messageId)
      }
      const r = await cli(['message', 'handled', '--limit', '1'])
      assert.equal(r.code, 0, r.stderr)
      const lines = r.stdout.trimEnd().split('\n')
      assert.match(lines[0], /^KEY\s+TIME\s+AGENT\s+PERFORMATIVE\s+FROM\s+MESSAGE\s+SENT$/)
      assert.match(lines[1], new RegExp(`^00000000000001\\s+2023-11-14 22:13:20Z\\s+worker\\s+INFORM\\s+client-1\\s+${ids[0]}\\s+-$`))
      assert.equal(lines[2], '(more may follow: --after 00000000000001)')
      const next = await cli(['message', 'handled', '--after', '00000000000001', '--json'])
      assert.deepEqual((JSON.parse(next.stdout) as HandledLogResponse).entries.map(e => e.messageId), [ids[1]])
      assert.equal((await cli(['message', 'handled', '--after', '00000000000002'])).stdout, 'no handled messages after 00000000000002\n')
    })
  })
})
