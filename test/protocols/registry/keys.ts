/**
 * Real Ed25519 signatures for registry tests whose node ids are names (`node-a`): each
 * name has a key derived from it (seed = SHA-256 of the name), and the verifier derives
 * the writer's public key the same way. The protocol code sees what it sees on a node,
 * a `RegistrySigning`; the node's own one, which reads the key out of a PeerId, is
 * `src/registry/signing.ts` (tested with real PeerIds in `test/registry/`).
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import type { RegistrySigning } from '../../../protocols/registry/index.js'

/** DER prefix of a PKCS#8 Ed25519 private key (RFC 8410): the 32-byte seed follows. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')

const keys = new Map<string, { priv: KeyObject, pub: KeyObject }>()

function keyOf (name: string): { priv: KeyObject, pub: KeyObject } {
  let k = keys.get(name)
  if (k === undefined) {
    const seed = createHash('sha256').update(`caxton registry test key: ${name}`).digest()
    const priv = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' })
    k = { priv, pub: createPublicKey(priv) }
    keys.set(name, k)
  }
  return k
}

/** Signs as `name`; checks anyone's signature by the key derived from their name. */
export function testSigning (name: string): RegistrySigning {
  return {
    sign: (payload) => new Uint8Array(sign(null, payload, keyOf(name).priv)),
    verify: (by, payload, signature) => verify(null, payload, keyOf(by).pub, signature)
  }
}
