/**
 * What one frame may make a node believe (issue 12, "Evicting"): incarnations stay
 * encodable, a claim at the largest incarnation (or far beyond what is known) is not
 * obeyed, non-members speak only for themselves, and ping-req targets are members the
 * helper knows, reached at the addresses it knows.
 */
import assert from 'node:assert/strict'
import { MAX_INCARNATION, MAX_INCARNATION_STEP, NON_MEMBER_MAX_FRAME_BYTES, createSwimNode, decodeFrame, encodeFrame } from '../../../protocols/swim/index.js'
import type { MemberRecord, MemberUpdate, SwimFrame, SwimNode, SwimOutput } from '../../../protocols/swim/index.js'
import { Harness } from './harness.js'

/** The largest incarnation the wire carries (SPEC.md §8). */
const MAX = Number.MAX_SAFE_INTEGER
/** How far above the incarnation held a relayed claim may be (SPEC.md §2). */
const STEP = 2 ** 16

/** A started node that knows `peers` as alive at incarnation 0. */
function node (id: string, peers: string[], incarnation = 0): SwimNode {
  const n = createSwimNode({ id, incarnation, random: () => 0.5, members: peers.map((p) => ({ id: p, incarnation: 0, state: 'alive' as const, addrs: [`/ip4/127.0.0.1/tcp/1/p2p/${p}`] })) })
  n.start(0)
  return n
}
const gossip = (...updates: MemberUpdate[]): Uint8Array => encodeFrame({ type: 'gossip', updates })
const pushPull = (members: MemberRecord[], reply = false): Uint8Array => encodeFrame({ type: 'push-pull', join: false, reply, members })
const framesTo = (out: SwimOutput, to: string): SwimFrame[] => out.messages.filter((m) => m.to === to).map((m) => decodeFrame(m.bytes))
const everyFrameDecodes = (out: SwimOutput): void => { for (const m of out.messages) decodeFrame(m.bytes) }

describe('protocols/swim bounds on what a frame can make a node believe', () => {
  it('names its bounds as SPEC.md §2 and §8 give them', () => {
    assert.equal(MAX_INCARNATION, MAX)
    assert.equal(MAX_INCARNATION_STEP, STEP)
    assert.equal(NON_MEMBER_MAX_FRAME_BYTES, 64 * 1024)
  })

  describe('incarnations', () => {
    it('does not obey a death, leave or suspicion of another member at the largest incarnation (the one-frame eviction)', () => {
      const claims: MemberUpdate[] = [
        { kind: 'dead', id: 'b', incarnation: MAX, from: 'c' },
        { kind: 'left', id: 'b', incarnation: MAX },
        { kind: 'suspect', id: 'b', incarnation: MAX, from: 'c' }
      ]
      for (const claim of claims) {
        const a = node('a', ['b', 'c'])
        const out = a.handle('c', gossip(claim), 10)
        assert.equal(a.member('b')?.state, 'alive', `${claim.kind} at 2^53-1`)
        assert.equal(a.member('b')?.incarnation, 0)
        assert.deepEqual(out.events, [])
        assert.equal(a.metrics.claimsRejected, 1)
      }
      const a = node('a', ['b', 'c'])
      a.handle('c', pushPull([{ id: 'c', incarnation: 0, state: 'alive', addrs: [] }, { id: 'b', incarnation: MAX, state: 'dead', addrs: [] }], true), 10)
      assert.equal(a.member('b')?.state, 'alive', 'nor as a push-pull record')
    })

    it('does not obey a claim that jumps a known member more than 2^16 incarnations ahead', () => {
      const a = node('a', ['b', 'c'])
      a.handle('c', gossip({ kind: 'dead', id: 'b', incarnation: STEP + 1, from: 'c' }), 10)
      a.handle('c', gossip({ kind: 'alive', id: 'b', incarnation: STEP + 1, addrs: ['/ip4/10.6.6.6/tcp/1'] }), 20)
      assert.equal(a.member('b')?.state, 'alive')
      assert.equal(a.member('b')?.incarnation, 0)
      assert.equal(a.metrics.claimsRejected, 2)
      // Within the step it is news, as SWIM has it: the member refutes it (next test).
      a.handle('c', gossip({ kind: 'dead', id: 'b', incarnation: STEP, from: 'c' }), 30)
      assert.equal(a.member('b')?.state, 'dead')
    })

    it('takes a member\'s own word for its incarnation, however far ahead', () => {
      const a = node('a', ['b', 'c'])
      a.handle('b', gossip({ kind: 'alive', id: 'b', incarnation: 10 * STEP, addrs: [] }), 10)
      assert.equal(a.member('b')?.incarnation, 10 * STEP)
      assert.equal(a.metrics.claimsRejected, 0)
    })

    it('answers a claim about itself far ahead with what it is, without raising its incarnation to it', () => {
      for (const claim of [{ kind: 'dead', id: 'b', incarnation: MAX, from: 'a' }, { kind: 'suspect', id: 'b', incarnation: STEP + 1, from: 'a' }] as MemberUpdate[]) {
        const b = node('b', ['a'])
        const out = b.handle('a', gossip(claim), 10)
        everyFrameDecodes(out)
        assert.equal(b.incarnation, 0)
        const [f] = framesTo(out, 'a')
        assert.ok(f?.type === 'gossip' && f.updates.some((u) => u.kind === 'alive' && u.id === 'b' && u.incarnation === 0), JSON.stringify(f))
      }
    })

    it('refutes a claim at the largest incarnation within reach at that incarnation, never above it', () => {
      const b = node('b', ['a'], MAX - 3)
      const out = b.handle('a', gossip({ kind: 'dead', id: 'b', incarnation: MAX, from: 'a' }), 10)
      everyFrameDecodes(out)
      assert.equal(b.incarnation, MAX)
      assert.equal(b.metrics.refutations, 1)
      // ...and the refutation wins over every claim others may hold: a claim at MAX is never obeyed.
      const a = node('a', ['b', 'c'])
      a.handle('c', gossip({ kind: 'dead', id: 'b', incarnation: MAX - 1, from: 'c' }), 10)
      assert.equal(a.member('b')?.state, 'alive', 'beyond the step from 0')
      const near = createSwimNode({ id: 'a', random: () => 0.5, members: [{ id: 'b', incarnation: MAX - 3, state: 'alive', addrs: [] }, { id: 'c', incarnation: 0, state: 'alive', addrs: [] }] })
      near.start(0)
      near.handle('c', gossip({ kind: 'dead', id: 'b', incarnation: MAX - 1, from: 'c' }), 10)
      assert.equal(near.member('b')?.state, 'dead')
      const back = near.handle('b', decodeAndForward(out, 'a'), 20)
      assert.equal(near.member('b')?.state, 'alive')
      assert.equal(back.events[0]?.type, 'member:join')
    })

    it('restores its own incarnation up to the largest encodable one, and refuses more', () => {
      assert.throws(() => createSwimNode({ id: 'a', incarnation: MAX + 1, random: () => 0.5 }))
      const a = createSwimNode({ id: 'a', incarnation: MAX, random: () => 0.5 })
      a.start(0)
      const out = a.handle('b', gossip({ kind: 'suspect', id: 'a', incarnation: MAX, from: 'b' }), 10)
      everyFrameDecodes(out)
      assert.equal(a.incarnation, MAX)
    })

    it('lets a member evicted by a claim within the step refute it and come back everywhere', () => {
      const ids = ['a', 'b', 'c', 'd', 'e']
      const h = new Harness(7)
      for (const id of ids) h.add(id)
      for (const id of ids.slice(1)) h.join(id, ['a'])
      h.runUntilTrue(() => h.allSee(ids), 10_000)
      // c, a member, tells a that e died STEP incarnations from now.
      h.apply('a', h.node('a').handle('c', gossip({ kind: 'dead', id: 'e', incarnation: h.node('e').incarnation + STEP, from: 'c' }), h.now))
      assert.equal(h.node('a').member('e')?.state, 'dead')
      h.runUntilTrue(() => h.allSee(ids), 30_000)
      assert.ok(h.node('e').incarnation > STEP)
    })
  })

  describe('frames from non-members', () => {
    it('applies nothing a non-member says about others, only its own alive news (it joins)', () => {
      const a = node('a', ['b'])
      const out = a.handle('x', gossip({ kind: 'dead', id: 'b', incarnation: 0, from: 'x' }, { kind: 'alive', id: 'x', incarnation: 0, addrs: [] }), 10)
      assert.equal(a.member('b')?.state, 'alive')
      assert.equal(a.member('x')?.state, 'alive')
      assert.deepEqual(out.events.map((e) => [e.type, e.member.id]), [['member:join', 'x']])
      assert.equal(a.metrics.claimsRejected, 1)
      // A push-pull from a non-member: its own record only.
      const a2 = node('a', ['b'])
      a2.handle('y', pushPull([{ id: 'y', incarnation: 0, state: 'alive', addrs: [] }, { id: 'b', incarnation: 0, state: 'dead', addrs: [] }, { id: 'z', incarnation: 0, state: 'alive', addrs: [] }]), 10)
      assert.equal(a2.member('b')?.state, 'alive')
      assert.equal(a2.member('z'), undefined)
      assert.equal(a2.member('y')?.state, 'alive')
    })

    it('takes the whole table from a seed it joined through', () => {
      const x = createSwimNode({ id: 'x', random: () => 0.5 })
      x.start(0)
      x.join([{ id: 's', addrs: ['/ip4/127.0.0.1/tcp/1/p2p/s'] }], 0)
      x.handle('s', pushPull(['s', 'b', 'c'].map((id) => ({ id, incarnation: 0, state: 'alive' as const, addrs: [] })), true), 10)
      assert.deepEqual(x.members().map((m) => m.id).sort(), ['b', 'c', 's', 'x'])
    })

    it('serves ping-req only from members, for members, at the addresses it knows', () => {
      const a = node('a', ['b', 'c'])
      const req = (target: string, addrs: string[]): Uint8Array => encodeFrame({ type: 'ping-req', seq: 1, target, targetAddrs: addrs, nack: true, updates: [] })
      assert.deepEqual(a.handle('x', req('b', []), 10).messages, [], 'from a non-member')
      assert.deepEqual(a.handle('b', req('nobody', ['/ip4/10.6.6.6/tcp/80']), 20).messages, [], 'for a non-member')
      const out = a.handle('b', req('c', ['/ip4/10.6.6.6/tcp/80']), 30)
      const pings = out.messages.filter((m) => m.to === 'c')
      assert.equal(pings.length, 1)
      assert.deepEqual(pings[0].addrs, ['/ip4/127.0.0.1/tcp/1/p2p/c'])
      assert.equal(a.metrics.pingReqsServed, 1)
    })

    it('drops a frame from a non-member larger than 64 KiB without reading it', () => {
      const a = node('a', ['b'])
      const records = Array.from({ length: 2000 }, (_, i) => ({ id: `m${i}`.padEnd(52, 'x'), incarnation: 0, state: 'alive' as const, addrs: [] }))
      const bytes = pushPull([{ id: 'x', incarnation: 0, state: 'alive', addrs: [] }, ...records])
      assert.ok(bytes.byteLength > 64 * 1024)
      const out = a.handle('x', bytes, 10)
      assert.ok(out.rejected !== undefined)
      assert.equal(a.member('x'), undefined)
      assert.deepEqual(out.messages, [])
      // The same frame from a member is read.
      a.handle('b', bytes, 20)
      assert.equal(a.member('x')?.state, 'alive')
    })
  })
})

/** The gossip frames `out` sends to `to`, re-encoded as one frame (what the transport would carry). */
function decodeAndForward (out: SwimOutput, to: string): Uint8Array {
  const updates = framesTo(out, to).flatMap((f) => f.type === 'push-pull' ? [] : f.updates)
  return gossip(...updates)
}
