/**
 * The node's registry signing (`src/registry/signing.ts`): Ed25519 with the libp2p key,
 * checked against the key inside the writer's PeerId.
 */
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Registry, type RegistryDelta } from '../../protocols/registry/index.js'
import { ed25519Signing, ed25519Verifier } from '../../src/registry/index.js'

describe('registry signing with the node\'s key', () => {
  it('signs with the node\'s key and checks any writer by its PeerId, without a lookup', async () => {
    const [keyA, keyB] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')])
    const a = peerIdFromPrivateKey(keyA).toString()
    const b = peerIdFromPrivateKey(keyB).toString()
    const payload = Uint8Array.from([1, 2, 3])
    const sig = ed25519Signing(keyA).sign(payload)
    assert.equal(sig.length, 64)
    const verify = ed25519Verifier()
    assert.equal(verify(a, payload, sig), true)
    assert.equal(verify(b, payload, sig), false, 'another writer')
    assert.equal(verify(a, Uint8Array.from([1, 2, 4]), sig), false, 'another payload')
    assert.equal(verify(a, payload, sig.subarray(0, 63)), false, 'a truncated signature, without throwing')
    assert.equal(ed25519Signing(keyA).sign(payload).join(), sig.join(), 'deterministic (RFC 8032)')
  })

  it('never verifies a node id that does not carry an Ed25519 key', async () => {
    const secp = await generateKeyPair('secp256k1')
    const verify = ed25519Verifier()
    const payload = Uint8Array.of(7)
    for (const by of [peerIdFromPrivateKey(secp).toString(), 'node-a', '', 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N']) {
      assert.equal(verify(by, payload, new Uint8Array(64)), false, by)
    }
    assert.throws(() => ed25519Signing(secp), TypeError)
  })

  it('lets a registry of real nodes take each other\'s writes and refuse a forged one', async () => {
    const [keyA, keyB] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')])
    const a = new Registry({ nodeId: peerIdFromPrivateKey(keyA).toString(), signing: ed25519Signing(keyA) })
    const b = new Registry({ nodeId: peerIdFromPrivateKey(keyB).toString(), signing: ed25519Signing(keyB) })
    const delta = b.apply({ type: 'put', agentId: 'echo', node: b.nodeId, state: 'running' }, 1_000).delta as RegistryDelta
    assert.equal(a.merge(delta, { now: 1_000 }).accepted, 1)
    const v = delta.entries[0].versions[0]
    const forged = { entries: [{ agentId: 'echo', versions: [{ ...v, seq: 2, record: null, signature: ed25519Signing(keyA).sign(Uint8Array.of(0)) }] }] }
    assert.deepEqual(a.merge(forged, { now: 1_000 }).rejected.map(r => r.reason), ['signature'])
    assert.equal(a.get('echo')?.node, b.nodeId)
  })
})
