/**
 * What membership does to delivery: a message for a node membership holds dead fails at
 * once with FAILURE "node X is dead" (no ack timeout), and so do the messages already
 * waiting for its ack when it dies. The router gets an injected predicate
 * (`peerDown`) and is told of deaths (`peerWentDown`), wired as the node wires them.
 */
import assert from 'node:assert/strict'
import type { AclMessage } from '../../protocols/fipa/index.js'
import { MessageRouter, SYSTEM_AGENT, type Ack, type AgentLocator } from '../../src/router/index.js'
import type { DeliverResult } from '../../src/runtime/types.js'
import { FakeClock, FakeNetwork, fakeMember } from './fakes.js'

class Agents {
  readonly inbox = new Map<string, AclMessage[]>()
  has (id: string): boolean { return this.inbox.has(id) }
  deliver (id: string, m: AclMessage): DeliverResult {
    this.inbox.get(id)?.push(m)
    return 'queued'
  }
}

const locator = (table: Record<string, string>): AgentLocator => ({
  lookup: (id) => table[id],
  resolve: async (id) => table[id],
  learn: () => {},
  forget: () => {}
})

/** A link whose sends stay pending until answered. */
class HangingLink {
  readonly sent: string[] = []
  readonly pending: Array<(ack: Ack) => void> = []
  async send (peer: string): Promise<Ack> {
    this.sent.push(peer)
    return await new Promise<Ack>(resolve => { this.pending.push(resolve) })
  }
}

async function turns (check: () => boolean, n = 50): Promise<void> {
  for (let i = 0; i < n && !check(); i++) await new Promise(resolve => setImmediate(resolve))
  assert.ok(check(), 'condition did not hold')
}

function setup (down: Map<string, string>): { router: MessageRouter, agents: Agents, link: HangingLink } {
  const agents = new Agents()
  agents.inbox.set('a', [])
  const link = new HangingLink()
  let n = 0
  const router = new MessageRouter({
    localPeer: 'self',
    runtime: agents,
    locator: locator({ far: 'peer-1', near: 'peer-2' }),
    link,
    peerDown: (peer) => down.get(peer),
    clock: () => 1000,
    newId: () => `id-${++n}`
  })
  return { router, agents, link }
}

const request = (to: string): Parameters<MessageRouter['sendFromAgent']>[1] =>
  ({ ok: true, draft: { performative: 'REQUEST', receivers: [to], replyWith: `r-${to}`, conversationId: 'c1' } })

describe('router and membership: fail fast on dead nodes', () => {
  it('fails a message for a dead node at once, without sending it', async () => {
    const { router, agents, link } = setup(new Map([['peer-1', 'node peer-1 is dead']]))
    router.sendFromAgent('a', request('far'))
    await turns(() => agents.inbox.get('a')!.length === 1)
    const f = agents.inbox.get('a')![0]
    assert.equal(f.performative, 'FAILURE')
    assert.equal(f.sender, SYSTEM_AGENT)
    assert.equal(f.inReplyTo, 'r-far')
    assert.match(String(f.content), /delivery to node peer-1 failed: node peer-1 is dead/)
    assert.deepEqual(link.sent, [])
    assert.equal(router.recent({}).find(r => r.status === 'failed')?.reason, 'delivery to node peer-1 failed: node peer-1 is dead')
  })

  it('fails the messages waiting for a node\'s ack when it dies, and only those', async () => {
    const down = new Map<string, string>()
    const { router, agents, link } = setup(down)
    router.sendFromAgent('a', request('far'))
    router.sendFromAgent('a', request('far'))
    router.sendFromAgent('a', request('near'))
    await turns(() => link.sent.length === 3)
    assert.equal(agents.inbox.get('a')!.length, 0, 'waiting for acks')

    down.set('peer-1', 'node peer-1 is dead')
    router.peerWentDown('peer-1')
    await turns(() => agents.inbox.get('a')!.length === 2)
    assert.deepEqual(agents.inbox.get('a')!.map(m => [m.performative, m.inReplyTo]), [['FAILURE', 'r-far'], ['FAILURE', 'r-far']])
    // peer-2's message still waits; its ack completes it without a FAILURE.
    link.pending[2]({ status: 'ok' })
    // A late ack from the dead node changes nothing either.
    link.pending[0]({ status: 'ok' })
    await turns(() => router.recent({}).some(r => r.status === 'delivered'))
    assert.equal(agents.inbox.get('a')!.length, 2)
    router.peerWentDown('peer-3') // nobody waits for it: nothing happens
  })

  it('wired to the membership service: a crashed node is failed fast once declared dead', async () => {
    const clock = new FakeClock()
    const network = new FakeNetwork(clock)
    const self = fakeMember(network, 'self')
    const peer = fakeMember(network, 'peer-1', { seeds: ['/mem/self/p2p/self'] })
    await self.start()
    await peer.start()
    await clock.until('the two to meet', () => self.alive().length === 1, 5000)

    const agents = new Agents()
    agents.inbox.set('a', [])
    const link = new HangingLink()
    const router = new MessageRouter({ localPeer: 'self', runtime: agents, locator: locator({ far: 'peer-1' }), link, peerDown: (p) => self.downReason(p) })
    self.addEventListener('member:dead', (evt) => { router.peerWentDown(evt.detail) })

    router.sendFromAgent('a', request('far')) // in flight when the node dies
    await turns(() => link.sent.length === 1)
    network.crash('peer-1')
    await clock.until('peer-1 to be declared dead', () => self.stateOf('peer-1') === 'dead', 30_000)
    await turns(() => agents.inbox.get('a')!.length === 1)
    router.sendFromAgent('a', request('far')) // after: never sent
    await turns(() => agents.inbox.get('a')!.length === 2)
    assert.equal(link.sent.length, 1)
    assert.ok(agents.inbox.get('a')!.every(m => m.performative === 'FAILURE' && String(m.content).includes('node peer-1 is dead')))
  })
})
