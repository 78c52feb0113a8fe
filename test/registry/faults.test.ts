/**
 * Fault injection (src/faults), used by the registry's partition tests: the gate, the
 * connections it closes, the redials on heal, and the loopback rule.
 */
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { FaultInjector, isLoopbackHost } from '../../src/faults/index.js'

async function peer (): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

describe('fault injection', () => {
  it('cuts named peers (closing their connections, refusing new ones both ways), heals and redials them', async () => {
    const [a, b, c] = [await peer(), await peer(), await peer()]
    const open = new Set([a, b])
    const hungUp: string[] = []
    const dialled: string[] = []
    const libp2p = {
      peerId: peerIdFromString(c),
      getConnections: () => [...open].map(p => ({ remotePeer: peerIdFromString(p) })),
      hangUp: async (p: { toString: () => string }) => { hungUp.push(p.toString()); open.delete(p.toString()) },
      dial: async (p: { toString: () => string }) => { dialled.push(p.toString()); open.add(p.toString()) }
    }
    const faults = new FaultInjector().attach(libp2p as never)
    const g = faults.gater
    assert.deepEqual(await faults.partition({ peers: [a] }), { isolated: false, blocked: [a] })
    assert.deepEqual(hungUp, [a])
    assert.equal(g.denyDialPeer?.(peerIdFromString(a)), true)
    assert.equal(g.denyDialPeer?.(peerIdFromString(b)), false)
    assert.equal(g.denyInboundEncryptedConnection?.(peerIdFromString(a), undefined as never), true)
    assert.equal(g.denyDialMultiaddr?.(undefined as never), false)

    await faults.partition()
    assert.equal(faults.state().isolated, true)
    assert.deepEqual(hungUp, [a, b])
    assert.equal(g.denyInboundConnection?.(undefined as never), true)
    assert.equal(g.denyDialPeer?.(peerIdFromString(b)), true)

    await faults.heal()
    assert.deepEqual(faults.state(), { isolated: false, blocked: [] })
    assert.deepEqual(dialled.sort(), [a, b].sort())
    assert.equal(g.denyDialPeer?.(peerIdFromString(a)), false)
    await assert.rejects(faults.partition({ peers: ['not-a-peer'] }), { code: 'FAULT_REQUEST_INVALID', field: 'peers[0]' })
  })

  it('refuses to cut or heal before it is attached to a libp2p node', async () => {
    const faults = new FaultInjector()
    await assert.rejects(faults.partition(), { code: 'FAULTS_REFUSED' })
    assert.equal(faults.gater.denyDialPeer?.(peerIdFromString(await peer())), false)
  })

  it('knows loopback API addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(h), true, h)
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', 'example.com', '128.0.0.1']) assert.equal(isLoopbackHost(h), false, h)
  })
})
