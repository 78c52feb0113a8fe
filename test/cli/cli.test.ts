import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApiServer, type ApiServer } from '../../src/api/index.js'
import type { AgentInfo, ErrorBody, MessageListResponse, SendResponse } from '../../src/api/types.js'
import { CAXTON_VERSION } from '../../src/api/version.js'
import { run } from '../../src/cli/index.js'
import { fetchWith, testAuth, type TestAuth } from '../api/auth-fixture.js'
import { FakeFacade, TINY_WASM } from '../api/fake-facade.js'
import { runCli, type CliResult } from './harness.js'

describe('cli: caxton commands against a real API server', () => {
  let facade: FakeFacade
  let server: ApiServer
  let url: string
  let access: TestAuth
  let dir: string
  const requestHeaders: Headers[] = []
  const NOW = 1_700_000_000_000 + 3_600_000

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'caxton-cli-'))
    await writeFile(join(dir, 'echo.wasm'), TINY_WASM)
    await writeFile(join(dir, 'bad.wasm'), new Uint8Array([1, 2, 3]))
    await writeFile(join(dir, 'content.txt'), 'hello from a file\n')
    await writeFile(join(dir, 'content.bin'), new Uint8Array([0xff, 0xfe, 0x00]))
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  beforeEach(async () => {
    facade = new FakeFacade()
    access = await testAuth()
    server = createApiServer({ facade, host: '127.0.0.1', port: 0, auth: access.auth })
    url = (await server.start()).url
    requestHeaders.length = 0
  })

  afterEach(async () => {
    facade.releaseHang()
    await server.stop()
  })

  /** Runs `caxton <args>` in-process against the test server (unless args name --api or env does). */
  async function cli (args: string[], options: { env?: Record<string, string>, withApi?: boolean } = {}): Promise<CliResult> {
    return await runCli(options.withApi === false ? args : [...args, '--api', url], {
      env: options.env ?? { CAXTON_TOKEN: access.admin },
      now: () => NOW,
      fetch: async (input, init) => {
        requestHeaders.push(new Headers(init?.headers))
        return await fetch(input, init)
      }
    })
  }

  const deploy = async (id: string): Promise<void> => {
    const r = await cli(['agent', 'deploy', join(dir, 'echo.wasm'), '--id', id])
    assert.equal(r.code, 0, r.stderr)
  }

  describe('agent deploy', () => {
    it('deploys a file with limits and prints one line', async () => {
      const r = await cli(['agent', 'deploy', join(dir, 'echo.wasm'), '--id', 'echo', '--max-memory-pages', '16', '--mailbox', '8', '--fuel', '1000', '--handler-timeout', '250'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stderr, '')
      assert.equal(r.stdout, `deployed agent echo (running, 8 B, sha256 ${'ab'.repeat(6)})\n`)
      assert.deepEqual(facade.deployed[0].wasm, TINY_WASM)
      assert.deepEqual(facade.deployed[0].limits, { maxMemoryPages: 16, mailboxCapacity: 8, fuelPerMessage: 1000, handlerTimeoutMs: 250 })
    })

    it('takes the id from the file name when --id is absent, and sends no limits', async () => {
      const r = await cli(['agent', 'deploy', join(dir, 'echo.wasm')])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(facade.deployed[0].id, 'echo')
      assert.equal(facade.deployed[0].limits, undefined)
    })

    it('--json prints exactly the AgentInfo the API returned', async () => {
      const r = await cli(['agent', 'deploy', join(dir, 'echo.wasm'), '--id', 'j1', '--json'])
      assert.equal(r.code, 0, r.stderr)
      assert.deepEqual(JSON.parse(r.stdout), facade.agents.get('j1'))
    })

    it('exits 1 with the API code when the node rejects the module', async () => {
      const r = await cli(['agent', 'deploy', join(dir, 'bad.wasm'), '--id', 'bad'])
      assert.equal(r.code, 1)
      assert.equal(r.stdout, '')
      assert.equal(r.stderr, 'error: not a WebAssembly module (bad magic number) (MODULE_INVALID)\n')
    })

    it('exits 1 on AGENT_EXISTS; with --json the API error body is on stdout', async () => {
      await deploy('echo')
      const r = await cli(['agent', 'deploy', join(dir, 'echo.wasm'), '--id', 'echo', '--json'])
      assert.equal(r.code, 1)
      const body = JSON.parse(r.stdout) as ErrorBody
      assert.equal(body.error.code, 'AGENT_EXISTS')
      assert.match(r.stderr, /\(AGENT_EXISTS\)\n$/)
    })

    it('exits 1 naming the file when it cannot be read, before any request', async () => {
      const r = await cli(['agent', 'deploy', join(dir, 'missing.wasm'), '--id', 'x'])
      assert.equal(r.code, 1)
      assert.match(r.stderr, /^error: cannot read .*missing\.wasm: no such file \(FILE_UNREADABLE\)\n$/)
      assert.equal(facade.deployed.length, 0)
    })

    for (const [name, args, pattern] of [
      ['an invalid --id', ['--id', 'has space'], /--id 'has space' is not a valid agent id/],
      ['a zero --fuel', ['--id', 'a', '--fuel', '0'], /option '--fuel <n>' argument '0' is invalid/],
      ['a non-numeric --mailbox', ['--id', 'a', '--mailbox', 'lots'], /option '--mailbox <n>' argument 'lots' is invalid/],
      ['too many memory pages', ['--id', 'a', '--max-memory-pages', '65537'], /expected a whole number from 1 to 65536/]
    ] as const) {
      it(`exits 2 on ${name}`, async () => {
        const r = await cli(['agent', 'deploy', join(dir, 'echo.wasm'), ...args])
        assert.equal(r.code, 2)
        assert.match(r.stderr, pattern)
        assert.equal(facade.deployed.length, 0)
      })
    }
  })

  describe('agent list / show / remove', () => {
    it('list: a hint when empty, a table otherwise, the API JSON with --json', async () => {
      const empty = await cli(['agent', 'list'])
      assert.equal(empty.code, 0)
      assert.match(empty.stdout, /^no agents on this node/)
      await deploy('alpha')
      await deploy('beta')
      const r = await cli(['agent', 'list'])
      assert.equal(r.code, 0, r.stderr)
      const lines = r.stdout.trimEnd().split('\n')
      assert.equal(lines.length, 3)
      assert.match(lines[0], /^ID\s+STATE\s+QUEUED\s+HANDLED\s+ERRORS\s+MEMORY\s+AGE$/)
      assert.match(lines[1], /^alpha\s+running\s+0\s+0\s+0\s+1\/256 pages\s+59m$/)
      assert.match(lines[2], /^beta\s+running/)
      const json = await cli(['agent', 'list', '--json'])
      assert.deepEqual(JSON.parse(json.stdout), await (await fetchWith(access.admin)(`${url}/agents`)).json())
    })

    it('show: a key/value block; --json the AgentInfo', async () => {
      await deploy('alpha')
      const r = await cli(['agent', 'show', 'alpha'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^id:\s+alpha$/m)
      assert.match(r.stdout, /^state:\s+running$/m)
      assert.match(r.stdout, /^limits:\s+memory\s+256 pages \(16 MiB\)$/m)
      assert.match(r.stdout, /^\s+fuel\s+50000000 per message$/m)
      assert.match(r.stdout, /^messages:\s+received 0, handled 0, sent 0, errors 0, queued 0$/m)
      const json = await cli(['agent', 'show', 'alpha', '--json'])
      assert.deepEqual(JSON.parse(json.stdout) as AgentInfo, facade.agents.get('alpha'))
    })

    it('show: exits 1 with AGENT_NOT_FOUND for an unknown agent', async () => {
      const r = await cli(['agent', 'show', 'ghost'])
      assert.equal(r.code, 1)
      assert.equal(r.stderr, "error: no agent 'ghost' (AGENT_NOT_FOUND)\n")
    })

    it('remove: one line; nothing on stdout with --json; 1 when absent', async () => {
      await deploy('alpha')
      await deploy('beta')
      const r = await cli(['agent', 'remove', 'alpha'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, 'removed agent alpha\n')
      assert.equal(facade.agents.has('alpha'), false)
      const json = await cli(['agent', 'rm', 'beta', '--json'])
      assert.equal(json.code, 0)
      assert.equal(json.stdout, '')
      const again = await cli(['agent', 'remove', 'alpha'])
      assert.equal(again.code, 1)
      assert.match(again.stderr, /AGENT_NOT_FOUND/)
    })
  })

  describe('agent stop / start / suspend / resume', () => {
    it('prints the state afterwards, with the reason of a suspension; --json the AgentInfo', async () => {
      await deploy('alpha')
      const suspended = await cli(['agent', 'suspend', 'alpha', '--reason', 'floods the node'])
      assert.equal(suspended.code, 0, suspended.stderr)
      assert.equal(suspended.stdout, 'agent alpha is suspended (suspended by an operator: floods the node)\n')
      const show = await cli(['agent', 'show', 'alpha'])
      assert.match(show.stdout, /^reason:\s+suspended by an operator: floods the node$/m)
      const resumed = await cli(['agent', 'resume', 'alpha', '--json'])
      assert.equal(resumed.code, 0, resumed.stderr)
      assert.deepEqual(JSON.parse(resumed.stdout) as AgentInfo, facade.agents.get('alpha'))
      assert.equal(facade.agents.get('alpha')?.state, 'running')
      assert.equal((await cli(['agent', 'stop', 'alpha'])).stdout, 'agent alpha is stopped\n')
      assert.equal((await cli(['agent', 'start', 'alpha'])).stdout, 'agent alpha is running\n')
    })

    it('exits 1 with AGENT_STATE_CONFLICT out of turn, and AGENT_NOT_FOUND for an unknown agent', async () => {
      await deploy('alpha')
      await cli(['agent', 'stop', 'alpha'])
      const conflict = await cli(['agent', 'resume', 'alpha'])
      assert.equal(conflict.code, 1)
      assert.match(conflict.stderr, /cannot resume agent "alpha": it is stopped \(AGENT_STATE_CONFLICT\)/)
      const json = await cli(['agent', 'resume', 'alpha', '--json'])
      assert.equal(JSON.parse(json.stdout).error.code, 'AGENT_STATE_CONFLICT')
      const ghost = await cli(['agent', 'start', 'ghost'])
      assert.equal(ghost.code, 1)
      assert.match(ghost.stderr, /AGENT_NOT_FOUND/)
    })
  })

  describe('agent upgrade / versions / rollback', () => {
    it('upgrade: PUT /agents/:id with the raw module and only the limits given; one line, --json the agent', async () => {
      await deploy('alpha')
      const r = await cli(['agent', 'upgrade', 'alpha', join(dir, 'echo.wasm'), '--fuel', '2000', '--capability', 'echo@2.0.0'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, `upgraded agent alpha to version 2 (running, 8 B, sha256 ${'cd'.repeat(6)})\n`)
      const asked = facade.upgrades[0]
      assert.equal(asked.id, 'alpha')
      assert.deepEqual(asked.limits, { fuelPerMessage: 2000 })
      assert.deepEqual(asked.capabilities, [{ name: 'echo', version: '2.0.0' }])
      assert.deepEqual([...asked.wasm], [...TINY_WASM])
      const json = await cli(['agent', 'upgrade', 'alpha', join(dir, 'echo.wasm'), '--json'])
      assert.equal(json.code, 0, json.stderr)
      assert.deepEqual(JSON.parse(json.stdout), facade.agents.get('alpha'))
      assert.equal(facade.upgrades[1].limits, undefined)
      assert.match((await cli(['agent', 'show', 'alpha'])).stdout, /^version:\s+3$/m)
    })

    it('upgrade: exits 1 with MODULE_INVALID (the agent unchanged) and AGENT_NOT_FOUND', async () => {
      await deploy('alpha')
      const bad = await cli(['agent', 'upgrade', 'alpha', join(dir, 'bad.wasm')])
      assert.equal(bad.code, 1)
      assert.match(bad.stderr, /\(MODULE_INVALID\)/)
      assert.equal(facade.agents.get('alpha')?.version, 1)
      const ghost = await cli(['agent', 'upgrade', 'ghost', join(dir, 'echo.wasm'), '--json'])
      assert.equal(ghost.code, 1)
      assert.equal(JSON.parse(ghost.stdout).error.code, 'AGENT_NOT_FOUND')
    })

    it('versions: a table oldest first marking the current one and rollbacks; --json the API body', async () => {
      await deploy('alpha')
      await cli(['agent', 'upgrade', 'alpha', join(dir, 'echo.wasm'), '--mailbox', '8'])
      await cli(['agent', 'rollback', 'alpha'])
      const r = await cli(['agent', 'versions', 'alpha'])
      assert.equal(r.code, 0, r.stderr)
      const lines = r.stdout.trimEnd().split('\n')
      assert.match(lines[0], /^VERSION\s+DEPLOYED\s+MODULE\s+SHA256\s+LIMITS\s+NOTE$/)
      assert.match(lines[1], /^1\s+2023-11-14 22:13:20Z\s+8 B\s+abababababab\s+-$/)
      assert.match(lines[2], /^2\s+.*cdcdcdcdcdcd\s+mailboxCapacity=8$/)
      assert.match(lines[3], /^3\s+.*abababababab\s+-\s+current, rollback to 1$/)
      const json = await cli(['agent', 'versions', 'alpha', '--json'])
      assert.deepEqual(JSON.parse(json.stdout), facade.agentVersions('alpha'))
    })

    it('rollback: to the previous version or --version N; exits 1 with AGENT_VERSION_NOT_FOUND', async () => {
      await deploy('alpha')
      const none = await cli(['agent', 'rollback', 'alpha'])
      assert.equal(none.code, 1)
      assert.match(none.stderr, /\(AGENT_VERSION_NOT_FOUND\)/)
      await cli(['agent', 'upgrade', 'alpha', join(dir, 'echo.wasm')])
      const back = await cli(['agent', 'rollback', 'alpha'])
      assert.equal(back.code, 0, back.stderr)
      assert.equal(back.stdout, `rolled agent alpha back: now version 3 (running, sha256 ${'ab'.repeat(6)})\n`)
      const to2 = await cli(['agent', 'rollback', 'alpha', '--version', '2', '--json'])
      assert.equal(to2.code, 0, to2.stderr)
      assert.deepEqual(JSON.parse(to2.stdout), facade.agents.get('alpha'))
      assert.equal(facade.agents.get('alpha')?.version, 4)
      const usage = await cli(['agent', 'rollback', 'alpha', '--version', 'two'])
      assert.equal(usage.code, 2)
    })

    it('each has --help with examples', async () => {
      for (const verb of ['upgrade', 'versions', 'rollback']) {
        const r = await cli(['agent', verb, '--help'])
        assert.equal(r.code, 0, r.stderr)
        assert.match(r.stdout, new RegExp(`caxton agent ${verb} counter`), verb)
        assert.match(r.stdout, /--json/, verb)
      }
    })
  })

  describe('message send / list', () => {
    beforeEach(async () => { await deploy('worker') })

    it('builds the draft from the options (performative upper-cased) and prints one line', async () => {
      const r = await cli(['message', 'send', 'worker', '--performative', 'query-ref', '--content', 'price?', '--conversation-id', 'c-9',
        '--protocol', 'fipa-query', '--ontology', 'shop', '--language', 'fipa-sl', '--reply-with', 'r1', '--in-reply-to', 'r0', '--sender', 'me'])
      assert.equal(r.code, 0, r.stderr)
      assert.deepEqual(facade.sent[0].draft, {
        performative: 'QUERY-REF', content: 'price?', conversationId: 'c-9', protocol: 'fipa-query', ontology: 'shop',
        language: 'fipa-sl', replyWith: 'r1', inReplyTo: 'r0', sender: 'me'
      })
      assert.equal(facade.sent[0].to, 'worker')
      assert.equal(facade.sent[0].waitMs, undefined)
      assert.equal(r.stdout, `sent QUERY-REF to worker: message ${facade.records[0].message.messageId}, conversation c-9, as me\n`)
    })

    it('defaults to REQUEST without content', async () => {
      const r = await cli(['message', 'send', 'worker'])
      assert.equal(r.code, 0, r.stderr)
      assert.deepEqual(facade.sent[0].draft, { performative: 'REQUEST' })
    })

    it('sends --content-base64 and binary --content-file as bytes, UTF-8 files as text', async () => {
      assert.equal((await cli(['message', 'send', 'worker', '--content-base64', 'AAEC'])).code, 0)
      assert.deepEqual(facade.sent[0].draft.content, { base64: 'AAEC' })
      assert.equal((await cli(['message', 'send', 'worker', '--content-file', join(dir, 'content.txt')])).code, 0)
      assert.equal(facade.sent[1].draft.content, 'hello from a file\n')
      assert.equal((await cli(['message', 'send', 'worker', '--content-file', join(dir, 'content.bin')])).code, 0)
      assert.deepEqual(facade.sent[2].draft.content, { base64: Buffer.from([0xff, 0xfe, 0x00]).toString('base64') })
    })

    it('--wait prints the reply; --json prints the SendResponse', async () => {
      const r = await cli(['message', 'send', 'echo', '--content', 'ping', '--wait', '2000'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(facade.sent[0].waitMs, 2000)
      const lines = r.stdout.split('\n')
      assert.match(lines[0], /^sent REQUEST to echo: message m-\d+, conversation c-\d+, as client-1$/)
      assert.match(lines[1], /^reply INFORM from echo \(message m-\d+\):$/)
      assert.equal(lines[2], 'ping')
      const json = await cli(['message', 'send', 'echo', '--content-base64', 'AAEC', '--wait', '500', '--json'])
      const body = JSON.parse(json.stdout) as SendResponse
      assert.deepEqual(body.reply?.content, { base64: 'AAEC' })
      assert.equal(body.reply?.inReplyTo, body.messageId)
    })

    it('prints bytes in a reply as their size and base64', async () => {
      const r = await cli(['message', 'send', 'echo', '--content-base64', 'AAEC', '--wait', '100'])
      assert.match(r.stdout, /^<3 bytes> base64: AAEC$/m)
    })

    it('exits 1 with REPLY_TIMEOUT when no reply comes', async () => {
      const r = await cli(['message', 'send', 'silent', '--wait', '100'])
      assert.equal(r.code, 1)
      assert.equal(r.stderr, 'error: no reply within 100 ms (REPLY_TIMEOUT)\n')
    })

    it('exits 1 on OUTBOX_FULL, with the Retry-After advice; --json puts the error body on stdout', async () => {
      const r = await cli(['message', 'send', 'full', '--content', 'x'])
      assert.equal(r.code, 1)
      assert.equal(r.stdout, '')
      assert.equal(r.stderr, 'error: the outbox is full (3 messages, at most 3); retry in 3 s (OUTBOX_FULL)\n' +
        '  nothing was accepted; try again in 3 s or later (Retry-After: 3)\n')
      const json = await cli(['message', 'send', 'full', '--json'])
      assert.equal(json.code, 1)
      assert.equal((JSON.parse(json.stdout) as ErrorBody).error.code, 'OUTBOX_FULL')
      assert.match(json.stderr, /Retry-After: 3\)\n$/)
    })

    it('exits 1 with ACL_INVALID / AGENT_NOT_FOUND from the node', async () => {
      const shout = await cli(['message', 'send', 'worker', '--performative', 'shout'])
      assert.equal(shout.code, 1)
      assert.match(shout.stderr, /unknown performative "SHOUT".* \(ACL_INVALID\)\n$/)
      const nobody = await cli(['message', 'send', 'nobody'])
      assert.equal(nobody.code, 1)
      assert.match(nobody.stderr, /\(AGENT_NOT_FOUND\)\n$/)
    })

    for (const [name, args, pattern] of [
      ['two content options', ['--content', 'a', '--content-base64', 'AA=='], /cannot be used with option/],
      ['bad base64', ['--content-base64', 'not base64!'], /--content-base64 must be standard, padded base64/],
      ['a wait over 300000', ['--wait', '300001'], /expected a whole number from 0 to 300000/],
      ['an unknown option', ['--receiver', 'x'], /unknown option '--receiver'/]
    ] as const) {
      it(`exits 2 on ${name}`, async () => {
        const r = await cli(['message', 'send', 'worker', ...args])
        assert.equal(r.code, 2)
        assert.match(r.stderr, pattern)
        assert.equal(facade.sent.length, 0)
      })
    }

    it('list: a table newest first, filters passed on, --json the API body', async () => {
      await cli(['message', 'send', 'worker', '--content', 'first', '--conversation-id', 'c1'])
      await cli(['message', 'send', 'worker', '--content-base64', 'AAEC', '--conversation-id', 'c2', '--performative', 'inform'])
      const r = await cli(['message', 'list'])
      assert.equal(r.code, 0, r.stderr)
      const lines = r.stdout.trimEnd().split('\n')
      assert.match(lines[0], /^TIME\s+DIR\s+STATUS\s+PERFORMATIVE\s+FROM\s+TO\s+CONVERSATION\s+CONTENT$/)
      assert.match(lines[1], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+local\s+delivered\s+INFORM\s+client-1\s+worker\s+c2\s+<3 bytes>$/)
      assert.match(lines[2], /\s+REQUEST\s+client-1\s+worker\s+c1\s+first$/)
      const filtered = await cli(['message', 'list', '--conversation-id', 'c1', '--limit', '5', '--agent', 'worker', '--json'])
      const body = JSON.parse(filtered.stdout) as MessageListResponse
      assert.deepEqual(body.messages.map(m => m.message.conversationId), ['c1'])
      const none = await cli(['message', 'list', '--conversation-id', 'nope'])
      assert.equal(none.stdout, 'no messages\n')
    })
  })

  describe('cluster, status, metrics', () => {
    it('cluster peers: a table; --json the API body', async () => {
      const r = await cli(['cluster', 'peers'])
      assert.equal(r.code, 0, r.stderr)
      const lines = r.stdout.trimEnd().split('\n')
      assert.match(lines[0], /^PEER\s+CONNECTED\s+BREAKER\s+IN FLIGHT\s+QUEUED\s+ADDRESS$/)
      assert.match(lines[1], /^12D3KooWPeerA\s+yes\s+closed\s+2\s+5\s+\/ip4\/127\.0\.0\.1\/tcp\/4001\/p2p\/12D3KooWPeerA$/)
      assert.match(lines[2], /^12D3KooWPeerB\s+no\s+open \(5 failed\)\s+0\s+12\s+\/ip4\//)
      const json = await cli(['cluster', 'peers', '--json'])
      assert.deepEqual(JSON.parse(json.stdout), { peers: facade.peerList })
      facade.peerList = [
        { peerId: 'P1', multiaddrs: [], connected: true, delivery: { breaker: 'half-open', consecutiveFailures: 0, trips: 2, inFlight: 1, queued: 0 } },
        { peerId: 'P2', multiaddrs: [], connected: true, delivery: { breaker: 'closed', consecutiveFailures: 2, trips: 0, inFlight: 0, queued: 0 } },
        { peerId: 'P3', multiaddrs: [], connected: false }
      ]
      const states = (await cli(['cluster', 'peers'])).stdout.trimEnd().split('\n').slice(1)
      assert.match(states[0], /^P1\s+yes\s+half-open\s+1\s+0\s+-$/)
      assert.match(states[1], /^P2\s+yes\s+closed \(2 failed\)\s+0\s+0\s+-$/)
      assert.match(states[2], /^P3\s+no\s+-\s+-\s+-\s+-$/, 'a peer without delivery state (an older node)')
      facade.peerList = []
      assert.match((await cli(['cluster', 'peers'])).stdout, /^no peers known/)
    })

    it('status: node and readiness; exit 0 when ready, 1 when not', async () => {
      const r = await cli(['status'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^node:\s+node-1 \(12D3KooWSelf\)$/m)
      assert.match(r.stdout, new RegExp(`^version:\\s+0\\.1\\.0 \\(cli ${CAXTON_VERSION.replaceAll('.', '\\.')}\\)$`, 'm'))
      assert.match(r.stdout, /^uptime:\s+1h$/m)
      assert.match(r.stdout, /^ready:\s+yes$/m)
      facade.readinessValue = { ready: false, checks: { storage: { ok: true }, libp2p: { ok: false, detail: 'not listening' } } }
      const notReady = await cli(['status'])
      assert.equal(notReady.code, 1)
      assert.match(notReady.stdout, /^ready:\s+no$/m)
      assert.match(notReady.stdout, /libp2p\s+FAIL\s+not listening$/m)
      const json = await cli(['status', '--json'])
      assert.equal(json.code, 1)
      assert.deepEqual(JSON.parse(json.stdout), { node: facade.info(), ready: facade.readinessValue })
    })

    it('metrics: the Prometheus text, filtered by --grep', async () => {
      await deploy('alpha')
      const all = await cli(['metrics'])
      assert.equal(all.code, 0)
      assert.match(all.stdout, /^# TYPE caxton_agents_running_count gauge$/m)
      const some = await cli(['metrics', '--grep', 'running_count 1'])
      assert.equal(some.stdout, 'caxton_agents_running_count 1\n')
    })
  })

  describe('global behaviour', () => {
    it('sends X-Caxton-CLI-Version on every request', async () => {
      await cli(['agent', 'list'])
      assert.equal(requestHeaders.length, 1)
      assert.equal(requestHeaders[0].get('x-caxton-cli-version'), CAXTON_VERSION)
    })

    it('takes the API from CAXTON_API, and --api before the noun as well as after the verb', async () => {
      await deploy('alpha')
      const fromEnv = await cli(['agent', 'list', '--json'], { env: { CAXTON_API: url, CAXTON_TOKEN: access.admin }, withApi: false })
      assert.equal(fromEnv.code, 0, fromEnv.stderr)
      const before = await cli(['--api', url, '--json', 'agent', 'list'], { withApi: false })
      assert.deepEqual(JSON.parse(before.stdout), JSON.parse(fromEnv.stdout))
    })

    it('takes host:port too, the form `caxton node start` reads from CAXTON_API; a wildcard host is reached on loopback', async () => {
      const port = new URL(url).port
      for (const api of [`127.0.0.1:${port}`, `0.0.0.0:${port}`, port]) {
        const r = await cli(['agent', 'list', '--json'], { env: { CAXTON_API: api, CAXTON_TOKEN: access.admin }, withApi: false })
        assert.equal(r.code, 0, `${api}: ${r.stderr}`)
        assert.deepEqual(JSON.parse(r.stdout), { agents: [] })
      }
      const flag = await cli(['agent', 'list', '--api', `0.0.0.0:${port}`], { withApi: false })
      assert.equal(flag.code, 0, flag.stderr)
      const bad = await cli(['agent', 'list'], { env: { CAXTON_API: 'ftp://127.0.0.1' }, withApi: false })
      assert.equal(bad.code, 2)
      assert.match(bad.stderr, /--api must be an http:\/\/ or https:\/\/ URL, not 'ftp:\/\/127\.0\.0\.1'/)
      const junk = await cli(['agent', 'list', '--api', 'nowhere'], { withApi: false })
      assert.equal(junk.code, 2)
      assert.match(junk.stderr, /--api must be a URL like http:\/\/127\.0\.0\.1:7420 \(or host:port\), not 'nowhere'/)
    })

    it('explains an unreachable API, with the hint, exit 1', async () => {
      await server.stop()
      const r = await cli(['agent', 'list'])
      assert.equal(r.code, 1)
      const [first, second] = r.stderr.split('\n')
      assert.equal(first, `error: cannot reach the Caxton API at ${url}: is a node running? (set --api or CAXTON_API)`)
      assert.match(second, /^ {2}cause: .*ECONNREFUSED/)
    })

    it('gives up after --timeout ms (exit 1, API_TIMEOUT)', async () => {
      const r = await cli(['message', 'send', 'hang', '--timeout', '100'])
      assert.equal(r.code, 1)
      assert.match(r.stderr, /^error: no answer from the Caxton API at .* within 100 ms \(API_TIMEOUT\)/)
    })

    it('--help prints usage with examples on stdout, exit 0; --version the version', async () => {
      for (const args of [['--help'], ['agent', '--help'], ['agent', 'deploy', '--help'], ['message', 'send', '--help'], ['message', 'list', '--help'],
        ['agent', 'list', '--help'], ['agent', 'show', '--help'], ['agent', 'remove', '--help'],
        ['agent', 'stop', '--help'], ['agent', 'start', '--help'], ['agent', 'suspend', '--help'], ['agent', 'resume', '--help'], ['cluster', 'peers', '--help'], ['status', '--help'], ['metrics', '--help'],
        ['message', 'status', '--help'], ['message', 'handled', '--help'], ['dlq', '--help'], ['dlq', 'list', '--help'], ['dlq', 'show', '--help'],
        ['dlq', 'replay', '--help'], ['dlq', 'delete', '--help'], ['dlq', 'purge', '--help']]) {
        const r = await cli(args, { withApi: false })
        assert.equal(r.code, 0, args.join(' '))
        assert.match(r.stdout, /^Usage: caxton/, args.join(' '))
        assert.match(r.stdout, /\nExamples:\n {2}\$ caxton /, args.join(' '))
      }
      const v = await cli(['--version'], { withApi: false })
      assert.equal(v.stdout, `${CAXTON_VERSION}\n`)
    })

    it('exits 2 on usage errors: unknown command, missing argument, no command', async () => {
      const unknown = await cli(['agnet', 'list'], { withApi: false })
      assert.equal(unknown.code, 2)
      assert.match(unknown.stderr, /unknown command 'agnet'/)
      const missing = await cli(['agent', 'show'], { withApi: false })
      assert.equal(missing.code, 2)
      assert.match(missing.stderr, /missing required argument 'id'/)
      const none = await cli([], { withApi: false })
      assert.equal(none.code, 2)
      assert.match(none.stderr, /^Usage: caxton/)
    })

    it('can register more commands through run options (how main.ts adds the node noun)', async () => {
      let out = ''
      const code = await run(['extra', 'hello'], { stdout: (t) => { out += t }, stderr: () => {} }, {
        commands: [(program, ctx) => {
          program.command('extra').command('hello').action(() => { ctx.io.stdout('hi\n'); ctx.exitCode = 3 })
        }]
      })
      assert.equal(out, 'hi\n')
      assert.equal(code, 3)
    })
  })
})
