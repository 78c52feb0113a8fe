/**
 * Membership over real libp2p peers in one process (TCP on loopback, Noise, yamux): four
 * members join through a seed, keep ONE outbound SWIM stream per member however many
 * probes go by, detect a member whose libp2p went away, and see a graceful leave as a
 * leave. Fast protocol settings (200 ms probes) keep it to a few seconds.
 */
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createMembership, SWIM_PROTOCOL, type SwimMembership } from '../../src/membership/index.js'
import { createTransport, type CaxtonLibp2p } from '../../src/transport/index.js'
import { waitFor } from '../../sim/cluster/index.js'

const FAST = { probeIntervalMs: 200, probeTimeoutMs: 80, suspicionMult: 3, gossipIntervalMs: 50, pushPullIntervalMs: 2000, reconnectIntervalMs: 500 }

interface Member { libp2p: CaxtonLibp2p, membership: SwimMembership, id: string }

async function member (seeds: string[] = []): Promise<Member> {
  const libp2p = await createTransport({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  await libp2p.start()
  const membership = createMembership({ libp2p, seeds, preset: 'local', config: FAST, joinRetryMs: 500, leaveTimeoutMs: 1000 })
  await membership.start()
  return { libp2p, membership, id: libp2p.peerId.toString() }
}

const swimStreams = (m: Member, direction: 'inbound' | 'outbound'): number =>
  m.libp2p.getConnections().flatMap(c => c.streams).filter(s => s.protocol === SWIM_PROTOCOL && s.direction === direction).length

describe('membership over libp2p (in-process)', function () {
  this.timeout(30_000)
  const members: Member[] = []
  afterEach(async () => {
    await Promise.all(members.splice(0).map(async m => {
      await m.membership.stop()
      await m.libp2p.stop()
    }))
  })

  it('joins, keeps one stream per member, detects a vanished member and tells a leave from a death', async () => {
    const a = await member()
    members.push(a)
    const seed = a.libp2p.getMultiaddrs()[0].toString()
    for (let i = 0; i < 3; i++) members.push(await member([i === 0 ? seed : seed.replace(/\/p2p\/.*$/, '')]))
    const [, b, c, d] = members
    await waitFor('four members to know each other', () => members.every(m => m.membership.alive().length === 3) ? true : undefined, 10_000, 20)

    // Probes ride the warm connections: no connection and no stream per probe.
    const connections = (m: Member): string[] => m.libp2p.getConnections().map(c => c.id).sort()
    const probes = async (n: number): Promise<void> => {
      const from = a.membership.counters?.probes ?? 0
      await waitFor(`a to probe ${n} more times`, () => (a.membership.counters?.probes ?? 0) >= from + n ? true : undefined, 10_000, 50)
    }
    await probes(6) // two rounds: every member has probed every other once at least
    const before = members.map(connections)
    await probes(15)
    members.forEach((m, i) => {
      assert.equal(swimStreams(m, 'outbound'), 3, 'one outbound SWIM stream per other member')
      assert.deepEqual(connections(m), before[i], `the same connections as before the probes: ${JSON.stringify(m.libp2p.getConnections().map(c => [c.id, c.direction, c.remotePeer.toString().slice(-4), c.status]))} vs ${JSON.stringify(before[i])}`)
    })

    // d's libp2p goes away without a word: the others must find out by probing.
    const deaths: string[] = []
    a.membership.addEventListener('member:dead', (evt) => { deaths.push(evt.detail) })
    members.splice(members.indexOf(d), 1)
    await d.libp2p.stop()
    await waitFor('a, b and c to mark d dead', () => [a, b, c].every(m => m.membership.stateOf(d.id) === 'dead') ? true : undefined, 15_000, 20)
    assert.deepEqual(deaths, [d.id])
    assert.equal(a.membership.downReason(d.id), `node ${d.id} is dead`)

    // c leaves gracefully: a leave, not a death.
    members.splice(members.indexOf(c), 1)
    await c.membership.stop()
    await c.libp2p.stop()
    await waitFor('a and b to see c leave', () => [a, b].every(m => m.membership.stateOf(c.id) === 'left') ? true : undefined, 5000, 20)
    assert.deepEqual(deaths, [d.id])
    assert.deepEqual(a.membership.alive(), [b.id])
  })
})
