/**
 * Stand-in signatures for the simulator: 64 bytes of SHA-512 over the writer's id and the
 * payload. They have the size of Ed25519 signatures (so byte counts are right) and are
 * checked like them, but anyone can make them: the simulator measures convergence and
 * traffic among honest nodes, not forgery. Real Ed25519 would cost ~100 µs of real CPU per
 * write and receiver (a 1,000-node run merges millions of versions); instead the CPU
 * model charges `signUs` and `verifyUs` of virtual time (`npm run sim -- registry
 * calibrate` measures them).
 */
import { createHash } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { signedPayload, type NodeId, type RegistrySigning } from '../../protocols/registry/index.js'
import { ed25519Signing, ed25519Verifier } from '../../src/registry/signing.js'

function tag (by: NodeId, payload: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha512').update(by).update(payload).digest())
}

/** The stand-in signing of node `nodeId`. */
export function simSigning (nodeId: NodeId): RegistrySigning {
  return {
    sign: (payload) => tag(nodeId, payload),
    verify: (by, payload, signature) => Buffer.from(tag(by, payload)).equals(signature)
  }
}

/** Median and mean of Ed25519 costs, µs per call. */
export interface SigningCosts {
  signUs: number
  verifyUs: number
  /** A verification with the writer's key not yet parsed (the verifier's cache missed). */
  verifyColdUs: number
  payloadBytes: number
}

/**
 * Measures the node's real signing (`ed25519Signing` on node:crypto) on the payload of a
 * typical registration: `n` signatures and `n` checks, after a warm-up; the cold check
 * parses a fresh writer's key from its PeerId each time.
 */
export async function measureEd25519 (n = 5000): Promise<SigningCosts> {
  const writers = await Promise.all(Array.from({ length: 64 }, async () => await generateKeyPair('Ed25519')))
  const me = ed25519Signing(writers[0])
  const by = peerIdFromPrivateKey(writers[0]).toString()
  const payload = signedPayload('agent-000042', {
    by,
    seq: 42,
    hlc: { wall: 1_700_000_000_000, logical: 0 },
    record: { node: by, state: 'running', capabilities: [{ name: 'echo', version: '1.0.0', description: 'does echo' }], updatedAt: 1_700_000_000_000, registeredAt: 1_700_000_000_000 }
  })
  const time = (count: number, fn: (i: number) => void): number => {
    for (let i = 0; i < Math.min(count, 200); i++) fn(i)
    const t0 = performance.now()
    for (let i = 0; i < count; i++) fn(i)
    return (performance.now() - t0) * 1000 / count
  }
  let signature = me.sign(payload)
  const signUs = time(n, () => { signature = me.sign(payload) })
  const verifyUs = time(n, () => { if (!me.verify(by, payload, signature)) throw new Error('the signature does not verify') })
  const others = writers.map(k => ({ by: peerIdFromPrivateKey(k).toString(), signature: ed25519Signing(k).sign(payload) }))
  // a verifier with a one-key cache misses every time the writer changes
  const cold = ed25519Verifier({ keyCache: 1 })
  const verifyColdUs = time(n, i => { const o = others[i % others.length]; cold(o.by, payload, o.signature) })
  return { signUs, verifyUs, verifyColdUs, payloadBytes: payload.byteLength }
}
