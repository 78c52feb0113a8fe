/**
 * Cluster admission: who may open a connection to this node at all. Two layers, both
 * optional and both enforced by libp2p below every Caxton protocol:
 *
 * - the **cluster key** (`cluster.keyFile`): a libp2p private network (`@libp2p/pnet`).
 *   A peer without the same key cannot finish a handshake, so it cannot join membership,
 *   reach the registry or deliver a message;
 * - the **allow-list** (`cluster.allowPeers`): only these peer ids may connect, whichever
 *   side dials.
 */
import type { ConnectionGater } from '@libp2p/interface'
import { isLoopback } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import { readClusterKey } from './cluster-key.js'
import { allowListGater } from './gater.js'

export interface ClusterAdmissionOptions {
  /** The key file (`caxton cluster keygen`), or null for none. */
  keyFile: string | null
  /** Peer ids allowed to connect; empty: any peer (holding the key, if there is one). */
  allowPeers: readonly string[]
  /** The node's listen multiaddrs: without a key, one that is not loopback gets a warning. */
  listen: readonly string[]
  logger: Logger
}

/** What libp2p is created with (`createTransport`). */
export interface ClusterAdmission {
  /** The pre-shared key in the pnet format, when there is one. */
  clusterKey?: Uint8Array
  /** The allow-list, when there is one (to be composed with other gaters). */
  gater?: ConnectionGater
}

/**
 * Reads the cluster key and builds the allow-list; logs what the node admits, and warns
 * when the key file is readable by others or when a node without a key listens beyond
 * loopback (anyone who reaches the port could join).
 * @throws ClusterKeyError when the key file cannot be read or holds no key; AllowListError
 *   for an allow-list entry that is not a peer id
 */
export async function clusterAdmission (options: ClusterAdmissionOptions): Promise<ClusterAdmission> {
  const log = options.logger
  const out: ClusterAdmission = {}
  if (options.keyFile !== null) {
    const key = await readClusterKey(options.keyFile)
    out.clusterKey = key.psk
    log.info({ keyFile: options.keyFile, fingerprint: key.fingerprint }, 'private network: only peers holding the cluster key can connect')
    if (key.exposed) log.warn({ keyFile: options.keyFile }, `the cluster key file can be read by other users: chmod 600 ${options.keyFile}`)
  } else {
    const exposed = exposedAddrs(options.listen)
    if (exposed.length > 0) {
      log.warn({ listen: exposed }, 'no cluster key, and listening beyond loopback: any peer that reaches this port can join the cluster (create a key with caxton cluster keygen, start every node with --cluster-key)')
    }
  }
  if (options.allowPeers.length > 0) {
    out.gater = allowListGater(options.allowPeers)
    log.info({ peers: options.allowPeers.length }, 'allow-list: only the listed peers can connect')
  }
  return out
}

/** The listen addresses that are not loopback (`0.0.0.0` included: it is every interface). */
export function exposedAddrs (listen: readonly string[]): string[] {
  return listen.filter(addr => {
    try {
      return !isLoopback(multiaddr(addr))
    } catch {
      return true
    }
  })
}
