import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { StorageCorruptError } from './errors.js'
import type { NodeStorage } from './storage.js'

const KEY = 'privateKey'

/**
 * The node's libp2p private key: created once (Ed25519) and kept in the `identity`
 * sublevel, so the node's PeerId survives restarts.
 * @throws StorageCorruptError when the stored key cannot be decoded.
 */
export async function loadOrCreateIdentity (storage: NodeStorage): Promise<{ privateKey: PrivateKey, created: boolean }> {
  const stored = await storage.identity.get(KEY) as Uint8Array | undefined
  if (stored != null) {
    try {
      return { privateKey: privateKeyFromProtobuf(stored), created: false }
    } catch (err) {
      throw new StorageCorruptError(`identity/${KEY}`, (err as Error).message)
    }
  }
  const privateKey = await generateKeyPair('Ed25519')
  await storage.identity.put(KEY, privateKeyToProtobuf(privateKey))
  return { privateKey, created: true }
}
