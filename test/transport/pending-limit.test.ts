/**
 * The bound on one host's connections in their handshake (src/transport/pending-limit.ts):
 * a host that opens many TCP connections to a node's port and sends nothing gets no more
 * than its share, and a member dialling from another address still gets in.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { waitFor } from '../../sim/cluster/index.js'
import { loadConfig } from '../../src/config/index.js'
import { SWIM_PROTOCOL } from '../../src/membership/index.js'
import { startNode, type CaxtonNode } from '../../src/node/index.js'
import { writeSecretFile } from '../../src/storage/index.js'
import { createTransport, generateClusterKey, hostKey, INBOUND_PENDING_PER_HOST, INBOUND_PENDING_TOTAL, parseClusterKey, PendingByHost, type CaxtonLibp2p } from '../../src/transport/index.js'

describe('transport: connections in their handshake, bounded per host', () => {
  it('counts up to the bound per host, each host on its own, and frees a place on release', () => {
    const p = new PendingByHost(2)
    assert.equal(p.tryAcquire('10.0.0.1'), true)
    assert.equal(p.tryAcquire('10.0.0.1'), true)
    assert.equal(p.tryAcquire('10.0.0.1'), false)
    assert.equal(p.count('10.0.0.1'), 2)
    assert.equal(p.tryAcquire('10.0.0.2'), true)
    p.release('10.0.0.1')
    assert.equal(p.count('10.0.0.1'), 1)
    assert.equal(p.tryAcquire('10.0.0.1'), true)
    p.release('10.0.0.2')
    p.release('10.0.0.2')
    assert.equal(p.count('10.0.0.2'), 0)
    assert.equal(p.tryAcquire('10.0.0.2'), true)
  })

  it('counts an IPv4 address as itself, an IPv6 address by its /64 prefix, a mapped IPv4 address as IPv4', () => {
    assert.equal(hostKey('192.0.2.7'), '192.0.2.7')
    assert.equal(hostKey('2001:db8:0:1::5'), '2001:db8:0:1::/64')
    assert.equal(hostKey('2001:db8:0:1:ffff:1:2:3'), hostKey('2001:0db8:0000:0001::9'))
    assert.notEqual(hostKey('2001:db8:0:1::5'), hostKey('2001:db8:0:2::5'))
    assert.equal(hostKey('::ffff:192.0.2.7'), '192.0.2.7')
    assert.equal(hostKey('::1'), '0:0:0:0::/64')
    assert.throws(() => hostKey('not an address'))
  })

  describe('on a node with the cluster key', function () {
    this.timeout(60_000)
    let node: CaxtonNode | undefined
    let member: CaxtonLibp2p | undefined
    const sockets: Socket[] = []
    afterEach(async () => {
      for (const s of sockets.splice(0)) s.destroy()
      await member?.stop()
      await node?.stop()
      member = node = undefined
    })

    it('closes what one silent host opens past its share at once, counting it in the audit log, and still lets a member from another address in', async () => {
      assert.ok(INBOUND_PENDING_TOTAL > INBOUND_PENDING_PER_HOST + 10)
      const dir = mkdtempSync(join(tmpdir(), 'caxton-pending-'))
      const keyFile = join(dir, 'cluster.key')
      await writeSecretFile(keyFile, generateClusterKey())
      node = await startNode(loadConfig({ env: {}, flags: { preset: 'local', name: 'a', dataDir: join(dir, 'a'), listen: ['/ip4/127.0.0.1/tcp/0'], api: { port: 0 }, cluster: { keyFile } } }), { processMetrics: false, api: false })
      const addr = node.info().multiaddrs[0]
      const port = Number(/\/tcp\/(\d+)/.exec(addr)?.[1])

      // A host (127.0.0.2: loopback too, another address) opens connections and sends nothing.
      const opened = INBOUND_PENDING_PER_HOST + 8
      let closed = 0
      for (let i = 0; i < opened; i++) {
        const s = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' })
        s.on('error', () => {})
        s.on('close', () => { closed++ })
        sockets.push(s)
      }
      await waitFor('the node to close the connections over the host\'s share', () => closed >= opened - INBOUND_PENDING_PER_HOST ? true : undefined, 10_000)

      // While the silent host holds its share, a member dials from 127.0.0.1 and gets in.
      member = await createTransport({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], clusterKey: parseClusterKey(readFileSync(keyFile, 'utf8'), 'test').psk })
      await member.start()
      const stream = await member.dialProtocol(multiaddr(addr), SWIM_PROTOCOL, { signal: AbortSignal.timeout(5000) })
      assert.equal(stream.protocol, SWIM_PROTOCOL)
      assert.equal(closed, opened - INBOUND_PENDING_PER_HOST, 'the silent host keeps its share pending, no more, no less')

      // The refusals are counted into the audit log, one entry naming the host.
      await node.refusedFrames.flush()
      const refused = (await node.audit.list({ limit: 1000 })).filter(e => e.action === 'peer.frame' && e.target === 'tcp')
      assert.equal(refused.length, 1, JSON.stringify(refused))
      assert.equal(refused[0].source, '127.0.0.2')
      assert.match(refused[0].detail ?? '', new RegExp(`^${opened - INBOUND_PENDING_PER_HOST} × handshakes-pending: host 127\\.0\\.0\\.2 already has ${INBOUND_PENDING_PER_HOST} connections in their handshake`))
    })
  })
})
