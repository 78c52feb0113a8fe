import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, envVarName, loadConfig, parseHostPort, presetDefaults } from '../../src/config/index.js'

function tmpFile (content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'caxton-config-'))
  const path = join(dir, 'caxton.json')
  writeFileSync(path, content)
  return path
}

function configError (fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`)
    return err
  }
  assert.fail('expected a ConfigError')
}

describe('config', () => {
  it('defaults to the lan preset, with the data folder named after the node', () => {
    const c = loadConfig({ env: {} })
    assert.equal(c.preset, 'lan')
    assert.equal(c.dataDir, join('.caxton', 'node'))
    assert.deepEqual(c.listen, ['/ip4/127.0.0.1/tcp/7400'])
    assert.deepEqual(c.api, {
      host: '127.0.0.1',
      port: 7420,
      bodyLimitBytes: 16 * 1024 * 1024,
      tlsCertFile: '',
      tlsKeyFile: '',
      allowedHosts: [],
      requestTimeoutMs: 60_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 5000,
      rateLimitMax: 1000,
      rateLimitWindowMs: 10_000
    })
    assert.deepEqual(c.quota, {
      maxAgents: 1000, maxTotalMemoryPages: 65536, maxMemoryPages: 4096, maxMailboxCapacity: 100_000, maxFuelPerMessage: 1_000_000_000,
      maxHandlerTimeoutMs: 60_000,
      maxSendsPerSecond: 100_000,
      maxSendBurst: 100_000,
      maxSendBytesPerSecond: 256 * 1024 * 1024
    })
    assert.equal(loadConfig({ env: {}, flags: { name: 'n2' } }).dataDir, join('.caxton', 'n2'))
  })

  it('layers file < environment < flags', () => {
    const file = tmpFile(JSON.stringify({ name: 'from-file', api: { port: 9001 }, messages: { recentLimit: 5 } }))
    const env = { CAXTON_API_PORT: '9002', CAXTON_MESSAGES_RECENT_LIMIT: '7' }
    const c = loadConfig({ file, env, flags: { api: { port: 9003 } } })
    assert.equal(c.name, 'from-file')
    assert.equal(c.api.port, 9003)
    assert.equal(c.api.host, '127.0.0.1')
    assert.equal(c.messages.recentLimit, 7)
  })

  it('reads every key from its CAXTON_* variable, lists split on commas', () => {
    assert.equal(envVarName('agents.maxMemoryPages'), 'CAXTON_AGENTS_MAX_MEMORY_PAGES')
    const c = loadConfig({
      env: {
        CAXTON_LISTEN: '/ip4/127.0.0.1/tcp/1, /ip4/127.0.0.1/tcp/2',
        CAXTON_AGENTS_MAX_MEMORY_PAGES: '512',
        CAXTON_DATA: '/tmp/x',
        CAXTON_API: '127.0.0.2:8000'
      }
    })
    assert.deepEqual(c.listen, ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2'])
    assert.equal(c.agents.maxMemoryPages, 512)
    assert.equal(c.dataDir, '/tmp/x')
    assert.deepEqual([c.api.host, c.api.port], ['127.0.0.2', 8000])
  })

  it('takes defaults from the chosen preset', () => {
    const c = loadConfig({ env: { CAXTON_PRESET: 'wan' } })
    assert.equal(c.preset, 'wan')
    assert.equal(c.messages.ackTimeoutMs, presetDefaults('wan').messages.ackTimeoutMs)
    assert.notEqual(presetDefaults('wan').messages.ackTimeoutMs, presetDefaults('lan').messages.ackTimeoutMs)
  })

  it('names the bad key and its source', () => {
    let e = configError(() => loadConfig({ env: { CAXTON_API_PORT: '70000' } }))
    assert.equal(e.key, 'api.port')
    assert.equal(e.source, 'env CAXTON_API_PORT')
    assert.equal(e.code, 'CONFIG_INVALID')

    e = configError(() => loadConfig({ env: { CAXTON_AGENTS_WORKERS: 'many' } }))
    assert.equal(e.key, 'agents.workers')
    assert.match(e.message, /not a number/)

    e = configError(() => loadConfig({ env: {}, flags: { listen: ['tcp://127.0.0.1:1'] } }))
    assert.equal(e.key, 'listen.0')
    assert.equal(e.source, 'flag --listen')

    assert.deepEqual(loadConfig({ env: {}, flags: { join: ['/dns4/node1/tcp/7400'] } }).join, ['/dns4/node1/tcp/7400'])
    e = configError(() => loadConfig({ env: {}, flags: { join: ['/ip4/127.0.0.1/tcp/7400/p2p/notapeer'] } }))
    assert.equal(e.key, 'join.0')
    assert.match(e.message, /\/p2p\/<peerId>/)

    e = configError(() => loadConfig({ env: { CAXTON_PRESET: 'moon' } }))
    assert.equal(e.key, 'preset')
  })

  it('rejects unknown keys and malformed files', () => {
    let e = configError(() => loadConfig({ env: {}, file: tmpFile('{"nmae": "x"}') }))
    assert.match(e.message, /unknown key nmae/)
    assert.match(e.source, /^file /)
    e = configError(() => loadConfig({ env: {}, file: tmpFile('{"api": {"prot": 1}}') }))
    assert.match(e.message, /prot/)
    e = configError(() => loadConfig({ env: {}, file: tmpFile('{ not json') }))
    assert.match(e.message, /not valid JSON/)
    e = configError(() => loadConfig({ env: {}, file: '/nonexistent/caxton.json' }))
    assert.match(e.message, /cannot read/)
  })

  it('refuses a message size that would not fit in an agent\'s memory', () => {
    const e = configError(() => loadConfig({ env: { CAXTON_AGENTS_MAX_MEMORY_PAGES: '16', CAXTON_MESSAGES_MAX_CONTENT_BYTES: '1048576' } }))
    assert.equal(e.key, 'messages.maxContentBytes')
    assert.match(e.message, /16 pages/)
  })

  it('takes the cluster key file from cluster.keyFile, CAXTON_CLUSTER_KEY(_FILE) or a flag, and checks the allow-list\'s peer ids', () => {
    assert.deepEqual(loadConfig({ env: {} }).cluster, { keyFile: null, allowPeers: [] })
    assert.equal(loadConfig({ env: { CAXTON_CLUSTER_KEY: '/etc/caxton/cluster.key' } }).cluster.keyFile, '/etc/caxton/cluster.key')
    assert.equal(loadConfig({ env: { CAXTON_CLUSTER_KEY_FILE: 'k' } }).cluster.keyFile, 'k')
    assert.equal(loadConfig({ env: { CAXTON_CLUSTER_KEY: 'from-env' }, flags: { cluster: { keyFile: 'from-flag' } } }).cluster.keyFile, 'from-flag')
    const peer = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'
    assert.deepEqual(loadConfig({ env: { CAXTON_CLUSTER_ALLOW_PEERS: `${peer}, ${peer}` } }).cluster.allowPeers, [peer, peer])
    const e = configError(() => loadConfig({ env: { CAXTON_CLUSTER_ALLOW_PEERS: 'nobody' } }))
    assert.equal(e.key, 'cluster.allowPeers.0')
  })

  it('checks the API and quota keys against each other', () => {
    const cert = configError(() => loadConfig({ env: { CAXTON_API_TLS_CERT_FILE: 'cert.pem' } }))
    assert.equal(cert.key, 'api.tlsKeyFile')
    assert.equal(loadConfig({ env: { CAXTON_API_TLS_CERT_FILE: 'c.pem', CAXTON_API_TLS_KEY_FILE: 'k.pem' } }).api.tlsKeyFile, 'k.pem')
    assert.equal(configError(() => loadConfig({ env: { CAXTON_API_HEADERS_TIMEOUT_MS: '90000' } })).key, 'api.headersTimeoutMs')
    const tooBig = configError(() => loadConfig({ env: { CAXTON_AGENTS_HANDLER_TIMEOUT_MS: '120000' } }))
    assert.equal(tooBig.key, 'agents.handlerTimeoutMs')
    assert.match(tooBig.message, /quota\.maxHandlerTimeoutMs/)
    const budget = configError(() => loadConfig({ env: { CAXTON_AGENTS_SENDS_PER_SECOND: '200000' } }))
    assert.equal(budget.key, 'agents.sendsPerSecond')
    assert.match(budget.message, /quota\.maxSendsPerSecond/)
    const raised = loadConfig({ env: { CAXTON_AGENTS_SENDS_PER_SECOND: '200000', CAXTON_QUOTA_MAX_SENDS_PER_SECOND: '500000', CAXTON_AGENTS_OVER_BUDGET_GRACE_MS: '250' } })
    assert.equal(raised.agents.sendsPerSecond, 200_000)
    assert.equal(raised.agents.overBudgetGraceMs, 250)
    assert.deepEqual(loadConfig({ env: { CAXTON_API_ALLOWED_HOSTS: 'caxton.internal, .mesh.example' } }).api.allowedHosts, ['caxton.internal', '.mesh.example'])
    assert.equal(configError(() => loadConfig({ env: { CAXTON_API_ALLOWED_HOSTS: 'http://x' } })).key, 'api.allowedHosts.0')
  })

  it('parses HOST:PORT forms', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:7420'), { host: '127.0.0.1', port: 7420 })
    assert.deepEqual(parseHostPort('[::1]:80'), { host: '::1', port: 80 })
    assert.deepEqual(parseHostPort(':9000'), { host: '127.0.0.1', port: 9000 })
    assert.deepEqual(parseHostPort('9000'), { host: '127.0.0.1', port: 9000 })
    assert.throws(() => parseHostPort('localhost:99999'), ConfigError)
    assert.throws(() => parseHostPort('a:b'), ConfigError)
  })
})
