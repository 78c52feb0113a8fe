/**
 * The registry's {@link RegistrySigning} on the node's libp2p key: Ed25519 (RFC 8032)
 * with node:crypto. A writer's public key is read out of its PeerId (an Ed25519 PeerId is
 * the identity multihash of the key), so checking a signature needs no lookup; parsed
 * keys are kept in an LRU cache, since parsing costs about a third of a verification.
 * Node ids that are not Ed25519 PeerIds never verify.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { LRUCache } from 'lru-cache'
import type { NodeId, RegistrySigning } from '../../protocols/registry/index.js'

/** Parsed public keys kept: one per writer seen recently. */
const DEFAULT_KEY_CACHE = 4096

/** `null`: the node id does not carry an Ed25519 key. */
type CachedKey = KeyObject | null

function base64url (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

function publicKeyOf (nodeId: NodeId): CachedKey {
  try {
    const peer = peerIdFromString(nodeId)
    if (peer.type !== 'Ed25519') return null
    return createPublicKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', x: base64url(peer.publicKey.raw) } })
  } catch {
    return null
  }
}

/** Checks any writer's signature by its node id, with a cache of parsed keys. */
export function ed25519Verifier (options: { keyCache?: number } = {}): RegistrySigning['verify'] {
  const keys = new LRUCache<NodeId, { key: CachedKey }>({ max: options.keyCache ?? DEFAULT_KEY_CACHE })
  return (by, payload, signature) => {
    let cached = keys.get(by)
    if (cached === undefined) {
      cached = { key: publicKeyOf(by) }
      keys.set(by, cached)
    }
    if (cached.key === null) return false
    try {
      return verify(null, payload, cached.key, signature)
    } catch {
      return false
    }
  }
}

/**
 * Signs with the node's libp2p key and checks everyone's signatures.
 * @throws TypeError when the key is not Ed25519 (a Caxton node's identity always is)
 * @example
 * ```ts
 * const { privateKey } = await loadOrCreateIdentity(storage)
 * new ClusterRegistry({ nodeId, signing: ed25519Signing(privateKey), ... })
 * ```
 */
export function ed25519Signing (privateKey: PrivateKey, options: { keyCache?: number } = {}): RegistrySigning {
  if (privateKey.type !== 'Ed25519') throw new TypeError(`the registry signs with an Ed25519 key, not ${privateKey.type}`)
  // raw: the 32-byte seed, then the 32-byte public key
  const raw = privateKey.raw
  const key = createPrivateKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', d: base64url(raw.subarray(0, 32)), x: base64url(raw.subarray(32)) } })
  return {
    sign: (payload) => new Uint8Array(sign(null, payload, key)),
    verify: ed25519Verifier(options)
  }
}
