/**
 * Cluster admission on real nodes (issue 12, "Joining", "Evicting"): two nodes started with the
 * cluster key; outsiders — a libp2p peer without the key, one with another key, one with
 * the key but not on the allow-list — try to connect, join membership with a push-pull,
 * open the registry's sync protocol and the message stream, both ways. A peer holding the key does all of that
 * (the control: the attempts do reach the nodes).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { encodeFrame } from '../../protocols/swim/index.js'
import { REGISTRY_SYNC_PROTOCOL } from '../../protocols/registry/codec.js'
import { waitFor } from '../../sim/cluster/index.js'
import { loadConfig, type ConfigInput } from '../../src/config/index.js'
import { FIPA_PROTOCOL } from '../../src/delivery/index.js'
import { SWIM_PROTOCOL } from '../../src/membership/index.js'
import { startNode, type CaxtonNode } from '../../src/node/index.js'
import { writeSecretFile } from '../../src/storage/index.js'
import { encodeBatch } from '../../src/transport/framing.js'
import { createTransport, generateClusterKey, INBOUND_CONNECTIONS_PER_HOST_PER_SECOND, parseClusterKey, type CaxtonLibp2p } from '../../src/transport/index.js'

const tmp = (name: string): string => mkdtempSync(join(tmpdir(), `caxton-admission-${name}-`))

async function keyFile (): Promise<string> {
  const path = join(tmp('key'), 'cluster.key')
  await writeSecretFile(path, generateClusterKey())
  return path
}

async function start (name: string, cluster: ConfigInput['cluster'], extra: ConfigInput = {}, dataDir = tmp(name)): Promise<CaxtonNode> {
  const config = loadConfig({ env: {}, flags: { preset: 'local', name, dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], api: { port: 0 }, cluster, ...extra } })
  return await startNode(config, { processMetrics: false, api: false })
}

/** A bare libp2p peer, with the key in `keyPath` (read as a node reads it) or none. */
async function peer (key?: string): Promise<CaxtonLibp2p> {
  const libp2p = await createTransport({
    privateKey: await generateKeyPair('Ed25519'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    ...(key !== undefined ? { clusterKey: parseClusterKey(key, 'test').psk } : {})
  })
  await libp2p.start()
  return libp2p
}

/**
 * What `from` manages against `node`: a SWIM stream carrying a join and then the eviction
 * of issue 12 (`victim` dead at incarnation 2^53 − 1), a registry sync stream, a
 * connection the node keeps. A handshake that cannot succeed may also just stall: each
 * try gives up after `timeoutMs`.
 */
async function attempt (from: CaxtonLibp2p, node: CaxtonNode, victim: string, timeoutMs = 1500, errors: string[] = []): Promise<{ swimJoin: boolean, registrySync: boolean, fipa: boolean, connected: boolean }> {
  const failed = (what: string) => (err: Error): false => { errors.push(`${what}: ${err.name}: ${err.message}`); return false }
  const addr = multiaddr(node.info().multiaddrs[0])
  const signal = (): AbortSignal => AbortSignal.timeout(timeoutMs)
  const swimJoin = await from.dialProtocol(addr, SWIM_PROTOCOL, { signal: signal() }).then(stream => {
    const id = from.peerId.toString()
    stream.send(encodeBatch([
      encodeFrame({ type: 'push-pull', join: true, reply: false, members: [{ id, incarnation: 0, state: 'alive', addrs: from.getMultiaddrs().map(String) }] }),
      encodeFrame({ type: 'gossip', updates: [{ kind: 'dead', id: victim, incarnation: Number.MAX_SAFE_INTEGER, from: id }] })
    ]))
    return true
  }, failed('swim'))
  const registrySync = await from.dialProtocol(addr, REGISTRY_SYNC_PROTOCOL, { signal: signal() }).then(() => true, failed('registry sync'))
  // The message stream: where a forged sender would be tried (test/delivery/impersonation.test.ts).
  const fipa = await from.dialProtocol(addr, FIPA_PROTOCOL, { signal: signal() }).then(() => true, failed('fipa'))
  return { swimJoin, registrySync, fipa, connected: node.libp2p.getConnections(from.peerId).length > 0 }
}

describe('cluster admission: the cluster key and the allow-list (real libp2p nodes)', function () {
  this.timeout(60_000)
  const nodes: CaxtonNode[] = []
  const peers: CaxtonLibp2p[] = []
  afterEach(async () => {
    await Promise.all(peers.splice(0).map(async p => { await p.stop() }))
    await Promise.all(nodes.splice(0).map(async n => { await n.stop() }))
  })

  it('lets no peer without the key, or with another key, connect, join membership, evict a member or reach the registry; a peer with the key joins, but evicts nobody', async () => {
    const key = await keyFile()
    const a = await start('a', { keyFile: key })
    nodes.push(a)
    const b = await start('b', { keyFile: key }, { join: [a.info().multiaddrs[0]] })
    nodes.push(b)
    await waitFor('a and b to see each other alive', () => a.clusterMembership.alive().length === 1 && b.clusterMembership.alive().length === 1 ? true : undefined, 30_000)

    const none = await peer()
    const other = await peer(generateClusterKey())
    const member = await peer(readFileSync(key, 'utf8'))
    peers.push(none, other, member)

    const victim = (node: CaxtonNode): string => (node === a ? b : a).info().peerId
    for (const [name, outsider] of [['no key', none], ['another key', other]] as const) {
      for (const node of [a, b]) {
        assert.deepEqual(await attempt(outsider, node, victim(node)), { swimJoin: false, registrySync: false, fipa: false, connected: false }, `${name} → ${node.config.name}`)
      }
      // ...nor the other way round: a node cannot connect to it either.
      await assert.rejects(a.libp2p.dial(outsider.getMultiaddrs()[0], { signal: AbortSignal.timeout(1500) }), `a → ${name}`)
    }
    // Failed handshakes from a host do not lock out a member on the same host: libp2p refuses
    // inbound connections from one host past a rate (5 a second by default, which the
    // attempts above could reach when the garbage of a wrong key failed fast).
    assert.ok(INBOUND_CONNECTIONS_PER_HOST_PER_SECOND > 12 + 7)
    for (let i = 0; i < 12; i++) {
      assert.equal(await none.dialProtocol(multiaddr(a.info().multiaddrs[0]), SWIM_PROTOCOL, { signal: AbortSignal.timeout(1500) }).then(() => true, () => false), false)
    }
    // Each stream opening proves a connection. Whether a still holds it afterwards depends on
    // timing: the peer answers no SWIM probes, so a may suspect it and close it under load.
    const errors: string[] = []
    const { swimJoin, registrySync, fipa } = await attempt(member, a, victim(a), 10_000, errors)
    assert.deepEqual({ swimJoin, registrySync, fipa }, { swimJoin: true, registrySync: true, fipa: true }, `a peer holding the key (${errors.join('; ')})`)
    const joined = member.peerId.toString()
    await waitFor('a to list the peer that holds the key', () => a.clusterMembership.member(joined))
    // It joined, but its claim that b is dead for good is not obeyed (protocols/swim/SPEC.md §2).
    await waitFor('a to turn the claim down', () => (a.clusterMembership.counters?.claimsRejected ?? 0) >= 1 ? true : undefined)
    assert.equal(a.clusterMembership.stateOf(b.info().peerId), 'alive')
    for (const outsider of [none, other]) {
      assert.equal(a.clusterMembership.member(outsider.peerId.toString()), undefined)
      assert.equal(b.clusterMembership.member(outsider.peerId.toString()), undefined)
      assert.equal(a.libp2p.getConnections(outsider.peerId).length, 0)
    }
  })

  it('with an allow-list, refuses a peer holding the key that is not on it, both ways', async () => {
    const key = await keyFile()
    const b = await start('b', { keyFile: key })
    nodes.push(b)
    const a = await start('a', { keyFile: key, allowPeers: [b.info().peerId] }, { join: [b.info().multiaddrs[0]] })
    nodes.push(a)
    await waitFor('a and b to see each other alive', () => a.clusterMembership.alive().length === 1 && b.clusterMembership.alive().length === 1 ? true : undefined, 30_000)
    const stranger = await peer(readFileSync(key, 'utf8'))
    peers.push(stranger)
    assert.deepEqual(await attempt(stranger, a, b.info().peerId), { swimJoin: false, registrySync: false, fipa: false, connected: false })
    await assert.rejects(a.libp2p.dial(stranger.getMultiaddrs()[0], { signal: AbortSignal.timeout(1500) }))
    // b has no allow-list: the stranger reaches b; a still keeps no connection to it.
    assert.equal((await attempt(stranger, b, a.info().peerId, 10_000)).swimJoin, true, 'a stream to b opened')
    assert.equal(a.libp2p.getConnections(stranger.peerId).length, 0)
  })

  it('rotates the key by restarting every node with the new one: nodes on different keys cannot talk, on the same key they reunite', async () => {
    const oldKey = await keyFile()
    const newKey = await keyFile()
    const aDir = tmp('a')
    const bDir = tmp('b')
    let a = await start('a', { keyFile: oldKey }, {}, aDir)
    const listenA = a.info().multiaddrs[0].replace(/\/p2p\/.*$/, '')
    let b = await start('b', { keyFile: oldKey }, { join: [a.info().multiaddrs[0]] }, bDir)
    await waitFor('a and b to see each other alive', () => a.clusterMembership.alive().length === 1 ? true : undefined, 30_000)
    await a.stop()
    a = await start('a', { keyFile: newKey }, { listen: [listenA] }, aDir)
    nodes.push(a)
    await assert.rejects(b.libp2p.dial(multiaddr(a.info().multiaddrs[0]), { signal: AbortSignal.timeout(3000) }), 'old key → new key')
    await b.stop()
    b = await start('b', { keyFile: newKey }, { join: [a.info().multiaddrs[0]] }, bDir)
    nodes.push(b)
    await waitFor('a and b, both on the new key, to see each other alive', () => a.clusterMembership.alive().length === 1 && b.clusterMembership.alive().length === 1 ? true : undefined, 15_000)
  })
})
