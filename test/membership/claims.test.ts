/**
 * The eviction attack of issue 12 on real libp2p peers of a keyed cluster: a peer that
 * holds the cluster key sends membership frames by hand. Before the bounds of
 * protocols/swim/SPEC.md §2, one gossip frame claiming B dead at incarnation 2^53 − 1
 * had A hold B dead for good (B's refutation at 2^53 does not decode), and a frame from a
 * peer that never joined was obeyed like a member's.
 */
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { encodeFrame, type MemberUpdate } from '../../protocols/swim/index.js'
import { waitFor } from '../../sim/cluster/index.js'
import { createMembership, SWIM_PROTOCOL, type SwimMembership } from '../../src/membership/index.js'
import { encodeBatch } from '../../src/transport/framing.js'
import { createTransport, generateClusterKey, parseClusterKey, type CaxtonLibp2p } from '../../src/transport/index.js'

const FAST = { probeIntervalMs: 200, probeTimeoutMs: 80, suspicionMult: 3, gossipIntervalMs: 50, pushPullIntervalMs: 2000, reconnectIntervalMs: 500 }

interface Member { libp2p: CaxtonLibp2p, membership: SwimMembership, id: string, refused: string[][] }

describe('membership claims from a peer holding the cluster key (real libp2p)', function () {
  this.timeout(30_000)
  const psk = parseClusterKey(generateClusterKey(), 'test').psk
  const members: Member[] = []
  const peers: CaxtonLibp2p[] = []

  async function libp2p (): Promise<CaxtonLibp2p> {
    const node = await createTransport({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], clusterKey: psk })
    await node.start()
    return node
  }

  async function member (seeds: string[] = []): Promise<Member> {
    const node = await libp2p()
    const refused: string[][] = []
    const onRefusedFrame = (peer: string, protocol: string, kind: string): void => { refused.push([peer, protocol, kind]) }
    const membership = createMembership({ libp2p: node, seeds, preset: 'local', config: FAST, joinRetryMs: 500, leaveTimeoutMs: 1000, onRefusedFrame })
    await membership.start()
    const m = { libp2p: node, membership, id: node.peerId.toString(), refused }
    members.push(m)
    return m
  }

  /** A keyed peer with a SWIM stream open to `to`, sending frames of its own making. */
  async function attacker (to: Member): Promise<{ id: string, send: (...frames: Uint8Array[]) => void }> {
    const node = await libp2p()
    peers.push(node)
    const stream: Stream = await node.dialProtocol(multiaddr(to.libp2p.getMultiaddrs()[0]), SWIM_PROTOCOL)
    return { id: node.peerId.toString(), send: (...frames) => { stream.send(encodeBatch(frames)) } }
  }

  const gossip = (...updates: MemberUpdate[]): Uint8Array => encodeFrame({ type: 'gossip', updates })
  const rejected = (m: Member): number => m.membership.counters?.claimsRejected ?? 0

  afterEach(async () => {
    await Promise.all(peers.splice(0).map(async p => { await p.stop() }))
    await Promise.all(members.splice(0).map(async m => {
      await m.membership.stop()
      await m.libp2p.stop()
    }))
  })

  async function pair (): Promise<[Member, Member]> {
    const a = await member()
    const b = await member([a.libp2p.getMultiaddrs()[0].toString()])
    await waitFor('a and b to see each other alive', () => a.membership.alive().includes(b.id) && b.membership.alive().includes(a.id) ? true : undefined, 10_000, 20)
    return [a, b]
  }

  it('a member claiming B dead at 2^53 − 1 evicts nobody; a claim B can outgrow is refuted and taken back', async () => {
    const [a, b] = await pair()
    const m = await attacker(a)
    // m joins like any member: a push-pull with its own record.
    m.send(encodeFrame({ type: 'push-pull', join: true, reply: false, members: [{ id: m.id, incarnation: 0, state: 'alive', addrs: [] }] }))
    await waitFor('a to list m', () => a.membership.member(m.id))

    m.send(gossip({ kind: 'dead', id: b.id, incarnation: Number.MAX_SAFE_INTEGER, from: m.id }))
    await waitFor('a to act on the claim', () => rejected(a) >= 1 || a.membership.stateOf(b.id) === 'dead' ? true : undefined)
    assert.equal(a.membership.stateOf(b.id), 'alive')
    assert.equal(a.membership.downReason(b.id), undefined)

    // At B's own incarnation the claim is news (SWIM): a believes it, B refutes, a takes it back.
    const incarnation = b.membership.summary().incarnation
    const deaths: string[] = []
    a.membership.addEventListener('member:dead', (evt) => { deaths.push(evt.detail) })
    m.send(gossip({ kind: 'dead', id: b.id, incarnation, from: m.id }))
    await waitFor('a to mark b dead', () => deaths.includes(b.id) ? true : undefined, 10_000, 10)
    await waitFor('b to refute and a to hold it alive again', () => a.membership.stateOf(b.id) === 'alive' ? true : undefined, 10_000, 20)
    assert.ok((a.membership.member(b.id)?.incarnation ?? 0) > incarnation)
    assert.ok(b.membership.summary().incarnation < 2 ** 16, 'b refuted at the claim + 1, an encodable incarnation')
  })

  it('a peer that never joined speaks for nobody but itself', async () => {
    const [a, b] = await pair()
    const s = await attacker(a)
    const gone: string[] = []
    for (const type of ['member:dead', 'member:leave'] as const) a.membership.addEventListener(type, (evt) => { gone.push(`${type} ${evt.detail}`) })
    s.send(gossip({ kind: 'dead', id: b.id, incarnation: b.membership.summary().incarnation, from: s.id }, { kind: 'left', id: b.id, incarnation: b.membership.summary().incarnation + 1 }))
    await waitFor('a to act on the claims', () => rejected(a) >= 2 || gone.length > 0 ? true : undefined, 10_000, 10)
    assert.deepEqual(gone, [])
    assert.equal(a.membership.stateOf(b.id), 'alive')
    assert.equal(a.membership.member(s.id), undefined)
    // Reported for the audit log, with the peer that sent them.
    assert.deepEqual(a.refused.find(r => r[0] === s.id), [s.id, SWIM_PROTOCOL, 'claim-not-obeyed'])
  })
})
