/**
 * Anti-entropy sessions without I/O: the three frames of SPEC §6 between two replicas,
 * through the real codec; errors on frames out of order.
 */
import assert from 'node:assert/strict'
import { encodeSyncFrame, Registry } from '../../protocols/registry/index.js'
import { testSigning } from '../protocols/registry/keys.js'
import { RegistrySyncError, SyncInitiator, SyncResponder } from '../../src/registry/index.js'

const A = 'node-a'
const B = 'node-b'

function exchange (a: Registry, b: Registry, now = 10_000): { initiator: SyncInitiator, responder: SyncResponder } {
  const initiator = new SyncInitiator(a, B)
  const responder = new SyncResponder(b, A)
  const reply = responder.receive(initiator.open(), now)
  assert.equal(reply.done, false)
  const step = initiator.receive(reply.send as Uint8Array, now)
  const last = responder.receive(step.send, now)
  assert.equal(last.done, true)
  assert.ok(initiator.done && responder.done)
  return { initiator, responder }
}

const rootOf = (r: Registry): string => Buffer.from(r.digest().root).toString('hex')

describe('registry anti-entropy sessions (sans-I/O)', () => {
  it('leaves both replicas with the same state after one exchange, removals included', () => {
    const a = new Registry({ nodeId: A, signing: testSigning(A) })
    const b = new Registry({ nodeId: B, signing: testSigning(B) })
    a.apply({ type: 'put', agentId: 'both', node: A, state: 'running' }, 1)
    b.merge(a.snapshot(), { now: 2, from: A })
    a.apply({ type: 'put', agentId: 'a-only', node: A, state: 'running', capabilities: [{ name: 'x' }] }, 3)
    b.apply({ type: 'put', agentId: 'b-only', node: B, state: 'loaded' }, 4)
    a.apply({ type: 'remove', agentId: 'both' }, 5)
    const { initiator, responder } = exchange(a, b)
    assert.equal(rootOf(a), rootOf(b))
    assert.deepEqual([...b.entries()].map(x => x.agentId).sort(), ['a-only', 'b-only'])
    assert.equal(b.get('both'), undefined)
    assert.equal(initiator.tally.bytesSent, responder.tally.bytesReceived)
    assert.equal(responder.tally.bytesSent, initiator.tally.bytesReceived)
    assert.ok(initiator.tally.entriesSent >= 1 && initiator.tally.entriesReceived >= 1)
  })

  it('costs three small frames when nothing differs', () => {
    const a = new Registry({ nodeId: A, signing: testSigning(A) })
    const b = new Registry({ nodeId: B, signing: testSigning(B) })
    for (let i = 0; i < 100; i++) a.apply({ type: 'put', agentId: `agent-${i}`, node: A, state: 'running' }, i + 1)
    b.merge(a.snapshot(), { now: 200, from: A })
    const { initiator } = exchange(a, b)
    assert.equal(initiator.tally.entriesSent + initiator.tally.entriesReceived, 0)
    // two digests of 256 buckets × 8 bytes, and an empty delta
    assert.ok(initiator.tally.bytesSent + initiator.tally.bytesReceived < 5000, JSON.stringify(initiator.tally))
  })

  it('brings a new replica 10,000 agents in one reply', function () {
    this.timeout(20_000)
    const a = new Registry({ nodeId: A, signing: testSigning(A) })
    for (let i = 0; i < 10_000; i++) a.apply({ type: 'put', agentId: `agent-${i}`, node: A, state: 'running', capabilities: [{ name: `cap-${i % 50}` }] }, i + 1)
    const b = new Registry({ nodeId: B, signing: testSigning(B) })
    const { initiator } = exchange(b, a)
    assert.equal(b.size, 10_000)
    assert.equal(rootOf(a), rootOf(b))
    assert.equal(initiator.tally.entriesReceived, 10_000)
    assert.ok(initiator.tally.bytesReceived > 500_000, `${initiator.tally.bytesReceived} bytes`)
  })

  it('refuses frames out of order or undecodable, naming the peer', () => {
    const a = new Registry({ nodeId: A, signing: testSigning(A) })
    const responder = new SyncResponder(a, B)
    assert.throws(() => responder.receive(encodeSyncFrame({ type: 'entries', delta: { entries: [] } }), 1),
      (err: unknown) => err instanceof RegistrySyncError && err.peer === B && /expected a digest frame, got entries/.test(err.message))
    const r2 = new SyncResponder(a, B)
    assert.throws(() => r2.receive(Uint8Array.of(0x92, 1), 1), RegistrySyncError)
    const initiator = new SyncInitiator(a, B)
    assert.throws(() => initiator.receive(encodeSyncFrame({ type: 'digest', digest: a.digest() }), 1), /exchange ended/)
    initiator.open()
    assert.throws(() => initiator.receive(encodeSyncFrame({ type: 'digest', digest: a.digest() }), 1), /expected a reply frame/)
  })
})
