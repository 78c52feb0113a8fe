/**
 * The registry forgeries of issue 12 against the node's registry service: first with
 * in-memory collaborators (the gossip verdicts, the anti-entropy responder, crafted
 * payloads), then on real nodes in one process (libp2p on loopback), each attack run by
 * an outsider (a libp2p peer with a fresh key that never joined) and by a member (a node
 * of the cluster whose key the attacker holds). B hosts `echo`; A must keep routing to
 * it, and B must keep deploying and removing. The same forgeries against the CRDT alone:
 * `test/protocols/registry/forgery.test.ts`.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import fc from 'fast-check'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { pack } from 'msgpackr'
import { pino, type Logger } from 'pino'
import {
  REGISTRY_GOSSIP_TOPIC, Registry, decodeSyncFrame, encodeGossip, encodeSyncFrame, signedPayload,
  type AgentRecord, type RegistryDelta, type RegistrySigning, type Version
} from '../../protocols/registry/index.js'
import { loadConfig } from '../../src/config/index.js'
import { startNode, type CaxtonNode } from '../../src/node/index.js'
import { ClusterRegistry, ed25519Signing, Libp2pSyncNetwork, StaticMembership, type GossipVerdict } from '../../src/registry/index.js'
import { loadOrCreateIdentity, openStorage } from '../../src/storage/index.js'
import { createTransport, type CaxtonLibp2p } from '../../src/transport/index.js'
import { ROOT, waitFor } from '../../sim/cluster/index.js'
import { testSigning } from '../protocols/registry/keys.js'
import { eventually, FlakyStore, MemoryGossipBus, MemorySyncNet } from './fakes.js'

const NOW = 1_700_000_000_000
const running = (node: string, registeredAt: number, updatedAt = registeredAt): AgentRecord =>
  ({ node, state: 'running', capabilities: [{ name: 'echo' }], updatedAt, registeredAt })

/** A version claiming writer `by`, signed with `signing` (the attacker's own key). */
function craft (signing: RegistrySigning, agentId: string, v: { by: string, seq: number, wall: number, record: AgentRecord | null }): Version {
  const unsigned = { by: v.by, seq: v.seq, hlc: { wall: v.wall, logical: 0 }, record: v.record }
  return { ...unsigned, signature: signing.sign(signedPayload(agentId, unsigned)) }
}

const deltaOf = (agentId: string, ...versions: Version[]): RegistryDelta => ({ entries: [{ agentId, versions }] })
const gossip = (delta: RegistryDelta): Uint8Array => encodeGossip({ type: 'delta', delta })

/** `value` packed, with the string `marker` replaced by `bytes` (values msgpackr cannot build, e.g. nested 100,000 deep). */
function packWith (value: unknown, marker: string, bytes: Uint8Array): Uint8Array {
  const packed = pack(value)
  const m = pack(marker)
  const at = Buffer.from(packed).indexOf(Buffer.from(m))
  return Uint8Array.from([...packed.subarray(0, at), ...bytes, ...packed.subarray(at + m.length)])
}

/** Eight payloads no registry writes: broken msgpack, wrong shapes, an old version, deep nesting, huge claims. */
function craftedPayloads (by: string): Uint8Array[] {
  // a schema of arrays nested 100,000 deep: 0x91 is a one-element array
  const deep = Uint8Array.from([...new Uint8Array(100_000).fill(0x91), 0x00])
  return [
    Uint8Array.of(0xc1),
    Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff),
    pack({ v: 1, t: 'delta', d: { e: [] } }),
    packWith({ v: 2, t: 'delta', d: { e: [['echo', [[by, 1, 0, 0, ['running', [{ n: 'x', s: 'DEEP' }], 0, 0], new Uint8Array(64)]]]] } }, 'DEEP', deep),
    pack({ v: 2, t: 'delta', d: { e: [['echo', [[by, Number.MAX_SAFE_INTEGER + 2, 0, 0, null, new Uint8Array(64)]]]] } }),
    pack({ v: 2, t: 'ack', a: { t: [['echo', by, 1], ['echo', by, -1]] } }),
    pack({ v: 2, t: 'delta', d: { e: [], c: [[by, 1e12, [1e12 + 2]]], b: [1, [0]] } }),
    pack({ v: 2, t: '__proto__', d: JSON.parse('{"__proto__": {"polluted": true}}') })
  ]
}

describe('registry service against forgeries (in-memory collaborators)', function () {
  this.timeout(10_000)
  const OFF = { antiEntropyIntervalMs: 0, maintenanceIntervalMs: 0, connectSyncFallbackMs: 20, syncTimeoutMs: 2000 }
  let registries: ClusterRegistry[]
  let now: number

  beforeEach(() => {
    registries = []
    now = NOW
  })
  afterEach(async () => { await Promise.all(registries.map(async r => { await r.stop() })) })

  async function node (id: string, members: string[], bus: MemoryGossipBus, net: MemorySyncNet, logger?: Logger, refused?: string[]): Promise<ClusterRegistry> {
    const reg = new ClusterRegistry({
      nodeId: id,
      ...(logger !== undefined ? { logger } : {}),
      ...(refused !== undefined ? { onRefusedFrame: (peer: string, protocol: string, kind: string) => { refused.push(`${peer} ${protocol} ${kind}`) } } : {}),
      signing: testSigning(id),
      store: new FlakyStore(),
      gossip: bus.gossip(id),
      sync: net.network(id),
      membership: new StaticMembership(members),
      timing: OFF,
      clock: () => now
    })
    await reg.start()
    registries.push(reg)
    return reg
  }

  const onGossip = (reg: ClusterRegistry, from: string, data: Uint8Array): GossipVerdict =>
    (reg as unknown as { onGossip: (from: string, data: Uint8Array) => GossipVerdict }).onGossip(from, data)

  it('ignores gossip published by a non-member; rejects a member\'s forgeries and another node\'s writes; ignores its far-future ones', async () => {
    const bus = new MemoryGossipBus()
    const net = new MemorySyncNet()
    const refused: string[] = []
    const a = await node('node-a', ['node-b', 'node-m'], bus, net, undefined, refused)
    const b = new Registry({ nodeId: 'node-b', signing: testSigning('node-b') })
    const echo = b.apply({ type: 'put', agentId: 'echo', node: 'node-b', state: 'running' }, NOW).delta as RegistryDelta
    assert.equal(onGossip(a, 'node-b', gossip(echo)), 'accept')
    await eventually('a to merge echo', () => a.get('echo') !== undefined)

    const m = testSigning('node-m')
    const forged = gossip(deltaOf('echo', craft(m, 'echo', { by: 'node-b', seq: 2, wall: NOW, record: null })))
    assert.equal(onGossip(a, 'node-x', forged), 'ignore', 'an outsider: not a member, not even looked at')
    assert.equal(a.summary().stats.gossipIgnored, 1)
    assert.equal(onGossip(a, 'node-m', forged), 'reject', 'a member relaying a version it did not write')
    const broken = { ...craft(m, 'echo', { by: 'node-m', seq: 2, wall: NOW, record: null }), signature: new Uint8Array(64) }
    assert.equal(onGossip(a, 'node-m', gossip(deltaOf('echo', broken))), 'reject', 'its own write with a broken signature')
    assert.equal(onGossip(a, 'node-m', gossip(deltaOf('echo', craft(m, 'echo', { by: 'node-m', seq: 3, wall: NOW + 86_400_000, record: running('node-m', 0, NOW + 86_400_000) })))), 'ignore', 'from the future')
    assert.equal(onGossip(a, 'node-m', gossip(deltaOf('mine', craft(m, 'mine', { by: 'node-m', seq: 4, wall: NOW, record: running('node-m', NOW) })))), 'accept')
    assert.equal(onGossip(a, 'node-m', gossip(echo)), 'reject', 'even B\'s genuine write: gossip carries its publisher\'s own writes')
    await eventually('a to merge mine', () => a.get('mine') !== undefined)
    assert.equal(a.get('echo')?.node, 'node-b')
    assert.equal(a.summary().stats.gossipRejected, 3)
    assert.deepEqual(refused, Array(3).fill('node-m caxton/registry/2 rejected'), 'each rejection reaches the audit tally; ignored gossip does not')
  })

  it('answers anti-entropy for members only, and a member\'s inflated context prunes nothing of B\'s', async () => {
    const bus = new MemoryGossipBus()
    const net = new MemorySyncNet()
    const a = await node('node-a', ['node-b', 'node-m'], bus, net)
    const b = await node('node-b', ['node-a', 'node-m'], bus, net)
    await b.commit({ type: 'put', agentId: 'echo', node: 'node-b', state: 'running' })
    await eventually('a to learn echo', () => a.get('echo') !== undefined)
    const entries = (from: string): Promise<RegistryDelta | undefined> => (async () => {
      const ch = await net.network(from).open('node-a', AbortSignal.timeout(1000))
      const stranger = new Registry({ nodeId: from, signing: testSigning(from), bucketCount: 256 })
      await ch.send(encodeSyncFrame({ type: 'digest', digest: stranger.digest() }))
      const reply = await ch.receive(AbortSignal.timeout(1000)).catch(() => undefined)
      if (reply === undefined) return undefined
      const frame = decodeSyncFrame(reply)
      if (frame.type !== 'reply') throw new Error('expected a reply')
      const context = ['node-a', 'node-b', from].sort().map(node => ({ node, upTo: 1_000_000, extra: [] }))
      const forged = craft(testSigning(from), 'echo', { by: 'node-b', seq: 2, wall: NOW, record: null })
      await ch.send(encodeSyncFrame({ type: 'entries', delta: { entries: [{ agentId: 'echo', versions: [forged] }], context, complete: { bucketCount: 256, buckets: Array.from({ length: 256 }, (_, i) => i) } } }))
      await ch.close()
      return frame.delta
    })()
    assert.equal(await entries('node-x'), undefined, 'the stranger got nothing')
    assert.equal(a.summary().stats.syncAnswered, 0)
    const got = await entries('node-m')
    assert.deepEqual(got?.entries.map(e => e.agentId), ['echo'], 'a member gets the registry')
    await eventually('a to refuse the forged tombstone', () => a.summary().stats.versionsRejected === 1)
    assert.equal(a.summary().stats.versionsPruned, 0)
    assert.equal(a.get('echo')?.node, 'node-b')
    // b's next write is not taken for one seen superseded
    await b.commit({ type: 'update', agentId: 'echo', state: 'draining' })
    await eventually('a to take b\'s next write', () => a.get('echo')?.state === 'draining')
  })

  it('warns when another node registers an agent this node hosts', async () => {
    const lines: Array<Record<string, unknown>> = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } })
    const bus = new MemoryGossipBus()
    const a = await node('node-a', ['node-m'], bus, new MemorySyncNet(), logger)
    await a.commit({ type: 'put', agentId: 'echo', node: 'node-a', state: 'running' })
    const m = testSigning('node-m')
    // a registration claiming to be the earlier one: shown, but not unnoticed
    assert.equal(onGossip(a, 'node-m', gossip(deltaOf('echo', craft(m, 'echo', { by: 'node-m', seq: 1, wall: NOW, record: running('node-m', 0, NOW) })))), 'accept')
    await eventually('the warning', () => lines.some(l => l.msg === 'another node also registers an agent hosted here'))
    const warning = lines.find(l => l.msg === 'another node also registers an agent hosted here')
    assert.deepEqual([warning?.agentId, warning?.shown, warning?.others], ['echo', 'node-m', [{ node: 'node-m', registeredAt: 0 }]])
  })

  it('lets no crafted payload or merge failure escape the gossip handler', async () => {
    const bus = new MemoryGossipBus()
    const a = await node('node-a', ['node-m'], bus, new MemorySyncNet())
    for (const p of craftedPayloads('node-m')) assert.equal(onGossip(a, 'node-m', p), 'reject')
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
    // and mutations of a valid signed delta, through decode and merge
    const m0 = testSigning('node-m')
    const valid = gossip(deltaOf('mine', craft(m0, 'mine', { by: 'node-m', seq: 1, wall: NOW, record: running('node-m', NOW) })))
    fc.assert(fc.property(fc.array(fc.record({ at: fc.nat(), byte: fc.nat(255) }), { minLength: 1, maxLength: 6 }), edits => {
      const bytes = Uint8Array.from(valid)
      for (const e of edits) bytes[e.at % bytes.length] = e.byte
      assert.ok(['accept', 'ignore', 'reject'].includes(onGossip(a, 'node-m', bytes)))
    }), { numRuns: 2_000 })
    // a merge that throws (here: a clock gone wrong) is contained
    now = Number.NaN
    const m = testSigning('node-m')
    assert.equal(onGossip(a, 'node-m', gossip(deltaOf('mine', craft(m, 'mine', { by: 'node-m', seq: 1, wall: NOW, record: running('node-m', NOW) })))), 'ignore')
    now = NOW
    assert.equal(a.isHealthy, true)
  })
})

// ---- on real nodes ----

const ECHO = readFileSync(join(ROOT, 'dist', 'agents', 'echo.wasm'))
const FAST = { antiEntropyIntervalMs: 500, maintenanceIntervalMs: 1000, connectSyncFallbackMs: 200 }

/** A node whose key the test holds (the identity is written to its data folder first). */
async function startWithKey (name: string, seeds: string[]): Promise<{ node: CaxtonNode, key: PrivateKey }> {
  const dataDir = mkdtempSync(join(tmpdir(), `caxton-forgery-${name}-`))
  const storage = await openStorage(dataDir)
  const { privateKey } = await loadOrCreateIdentity(storage)
  await storage.close()
  const config = loadConfig({ env: {}, flags: { preset: 'local', name, dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], api: { port: 0 }, join: seeds } })
  return { node: await startNode(config, { processMetrics: false, registryTiming: FAST }), key: privateKey }
}

interface Attacker {
  id: string
  signing: RegistrySigning
  libp2p: CaxtonLibp2p
  stop: () => Promise<void>
}

for (const role of ['outsider', 'member'] as const) {
  describe(`registry forgeries by ${role === 'outsider' ? 'an outsider' : 'a member'} (real nodes)`, function () {
    this.timeout(60_000)
    let a: CaxtonNode
    let b: CaxtonNode
    let attacker: Attacker
    const bId = (): string => b.info().peerId

    before(async () => {
      a = (await startWithKey('a', [])).node
      b = (await startWithKey('b', [a.info().multiaddrs[0]])).node
      await b.deployAgent({ id: 'echo', wasm: ECHO })
      await waitFor('a to learn echo', () => a.clusterRegistry.get('echo'))
      if (role === 'member') {
        const m = await startWithKey('m', [a.info().multiaddrs[0]])
        attacker = { id: m.node.info().peerId, signing: ed25519Signing(m.key), libp2p: m.node.libp2p, stop: async () => { await m.node.stop() } }
        await waitFor('a and b to count m a member', () => [a, b].every(n => n.clusterMembership.members().some(x => x.id === attacker.id && x.state === 'alive')) ? true : undefined)
      } else {
        const key = await generateKeyPair('Ed25519')
        const libp2p = await createTransport({ privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'] })
        await libp2p.start()
        attacker = { id: peerIdFromPrivateKey(key).toString(), signing: ed25519Signing(key), libp2p, stop: async () => { await libp2p.stop() } }
        libp2p.services.pubsub.subscribe(REGISTRY_GOSSIP_TOPIC)
        await libp2p.dial(multiaddr(a.info().multiaddrs[0]))
      }
      await waitFor('the attacker to see a subscribed', () => attacker.libp2p.services.pubsub.getSubscribers(REGISTRY_GOSSIP_TOPIC).some(p => p.toString() === a.info().peerId) ? true : undefined)
    })

    after(async () => {
      await attacker?.stop()
      await b?.stop()
      await a?.stop()
    })

    async function echoStillOnB (): Promise<void> {
      for (const n of [a, b]) {
        assert.equal(n.clusterRegistry.get('echo')?.node, bId(), `${n.config.name} sees echo on b`)
        assert.equal(n.clusterRegistry.get('echo')?.state, 'running')
      }
      const out = await a.sendMessage({ to: 'echo', draft: { performative: 'REQUEST', content: 'still b' }, waitMs: 5000 })
      assert.equal(out.reply?.content, 'still b', 'a\'s REQUEST reached b\'s echo')
    }

    const score = (): number => (a.libp2p.services.pubsub as unknown as { getScore: (peer: string) => number }).getScore(attacker.id)

    /**
     * Publishes a gossip message from the attacker and waits until a has handled it, unless
     * a's gossipsub already ignores the attacker (its score is below the graylist
     * threshold, -80: its messages no longer reach the registry).
     */
    async function publish (data: Uint8Array): Promise<void> {
      if (score() < -80) {
        await attacker.libp2p.services.pubsub.publish(REGISTRY_GOSSIP_TOPIC, data)
        return
      }
      const s = a.clusterRegistry.summary().stats
      const seen = s.gossipRejected + s.gossipIgnored + s.deltasReceived + s.acksReceived
      await attacker.libp2p.services.pubsub.publish(REGISTRY_GOSSIP_TOPIC, data)
      await waitFor('a to handle the message', () => {
        const t = a.clusterRegistry.summary().stats
        return t.gossipRejected + t.gossipIgnored + t.deltasReceived + t.acksReceived > seen ? true : undefined
      })
    }

    /**
     * Opens an anti-entropy exchange with a and sends `entries` after a's reply: the reply,
     * or undefined when a refused the exchange. Resolves once a has merged and closed.
     */
    async function sync (entries: RegistryDelta): Promise<RegistryDelta | undefined> {
      const channel = await new Libp2pSyncNetwork(attacker.libp2p).open(a.info().peerId, AbortSignal.timeout(5000))
      const empty = new Registry({ nodeId: attacker.id, signing: attacker.signing })
      // a refusal resets the stream: the digest may not even go out
      const reply = await channel.send(encodeSyncFrame({ type: 'digest', digest: empty.digest() }))
        .then(async () => await channel.receive(AbortSignal.timeout(5000)))
        .catch(() => undefined)
      if (reply === undefined) return undefined
      const frame = decodeSyncFrame(reply)
      await channel.send(encodeSyncFrame({ type: 'entries', delta: entries }))
      // a closes its side once the merge is written
      assert.equal(await channel.receive(AbortSignal.timeout(5000)), undefined)
      await channel.close()
      return frame.type === 'reply' ? frame.delta : undefined
    }

    const complete = (context: RegistryDelta['context'], ...entries: RegistryDelta['entries']): RegistryDelta =>
      ({ entries, context, complete: { bucketCount: 256, buckets: Array.from({ length: 256 }, (_, i) => i) } })

    it('a forged tombstone "by b", gossiped or sent by anti-entropy, removes nothing', async () => {
      const tombstone = craft(attacker.signing, 'echo', { by: bId(), seq: 2, wall: Date.now(), record: null })
      await publish(gossip(deltaOf('echo', tombstone)))
      const reply = await sync(complete([], { agentId: 'echo', versions: [tombstone] }))
      if (role === 'outsider') assert.equal(reply, undefined, 'the outsider gets no exchange')
      else assert.ok(reply?.entries.some(e => e.agentId === 'echo'))
      await echoStillOnB()
    })

    it('a record re-pointing b\'s agent is refused; the attacker\'s own registration does not take it', async () => {
      const now = Date.now()
      const forged = craft(attacker.signing, 'echo', { by: bId(), seq: 2, wall: now, record: running(bId(), 0, now) })
      await publish(gossip(deltaOf('echo', forged)))
      const own = craft(attacker.signing, 'echo', { by: attacker.id, seq: 50, wall: now, record: running(attacker.id, now) })
      await publish(gossip(deltaOf('echo', own)))
      await sync(complete([], { agentId: 'echo', versions: [forged, own] }))
      await echoStillOnB()
      if (role === 'member') await waitFor('a to keep the member\'s registration as a conflict', () => a.clusterRegistry.get('echo')?.conflicts === 1 ? true : undefined)
    })

    it('a version "by b" numbered 2^53−1 is refused: b deploys and removes afterwards', async () => {
      const max = Number.MAX_SAFE_INTEGER
      const now = Date.now()
      const forged = craft(attacker.signing, 'echo', { by: bId(), seq: max, wall: now, record: running(bId(), 0, now) })
      await publish(gossip(deltaOf('echo', forged)))
      await sync(complete([{ node: bId(), upTo: max, extra: [] }], { agentId: 'echo', versions: [forged] }))
      await b.deployAgent({ id: 'after-attack', wasm: ECHO })
      await waitFor('a to learn after-attack', () => a.clusterRegistry.get('after-attack'))
      await b.removeAgent('after-attack')
      await waitFor('a to learn the removal', () => a.clusterRegistry.get('after-attack') === undefined ? true : undefined)
      await echoStillOnB()
    })

    it('a far-future timestamp wins nothing', async () => {
      const future = Date.now() + 365 * 86_400_000
      const own = craft(attacker.signing, 'echo', { by: attacker.id, seq: 60, wall: future, record: running(attacker.id, 0, future) })
      await publish(gossip(deltaOf('echo', own)))
      await sync(complete([], { agentId: 'echo', versions: [own] }))
      assert.ok(a.clusterRegistry.registry.hlc.wall < future - 86_400_000, 'a\'s clock did not follow')
      await echoStillOnB()
    })

    it('an anti-entropy frame with an inflated complete context prunes nothing', async () => {
      const context = [a.info().peerId, bId(), attacker.id].sort().map(node => ({ node, upTo: 1_000_000, extra: [] }))
      const forged = craft(attacker.signing, 'echo', { by: bId(), seq: 3, wall: Date.now(), record: null })
      const ofB = (): string => JSON.stringify(a.clusterRegistry.list({ node: bId() }).map(x => [x.agentId, x.state, x.version]))
      const before = ofB()
      await sync(complete(context, { agentId: 'echo', versions: [forged] }))
      assert.equal(ofB(), before, 'every registration of b still held (a member may drop only its own)')
      await echoStillOnB()
    })

    it('forged gossip is dropped, not forwarded, and costs the sender its peer score', async () => {
      await publish(gossip(deltaOf('echo', craft(attacker.signing, 'echo', { by: bId(), seq: 4, wall: Date.now(), record: null }))))
      // below gossipsub's graylist threshold (-80), a ignores everything the member sends
      if (role === 'member') await waitFor('a member that sent what a rejects to be graylisted', () => score() < -80 ? true : undefined)
      else assert.ok(a.clusterRegistry.summary().stats.gossipIgnored > 0, 'published by a non-member: ignored')
      await echoStillOnB()
    })

    it('crafted payloads crash nothing and change nothing', async () => {
      const view = JSON.stringify(a.clusterRegistry.list())
      for (const p of craftedPayloads(bId())) await publish(p)
      assert.equal(JSON.stringify(a.clusterRegistry.list()), view)
      assert.equal(a.clusterRegistry.isHealthy, true)
      await echoStillOnB()
    })
  })
}
