import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { identify, type Identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import { noise } from '@libp2p/noise'
import { ping, type Ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { ConnectionGater, PrivateKey } from '@libp2p/interface'
import { withCorkedWrites } from './fewer-writes.js'
import { INBOUND_PENDING_PER_HOST, withPendingLimit, type RefusedConnectionSink } from './pending-limit.js'
import { withQuietNoiseFrames } from './quiet-noise.js'

/** The services every Caxton node runs. */
export interface CaxtonServices {
  identify: Identify
  ping: Ping
  dht: KadDHT
  pubsub: GossipSub
  [key: string]: unknown
}

export type CaxtonLibp2p = Libp2p<CaxtonServices>

export interface TransportOptions {
  privateKey: PrivateKey
  /** TCP listen multiaddrs, e.g. `/ip4/127.0.0.1/tcp/7400`. */
  listen: string[]
  /** Reported to peers by identify. */
  agentVersion?: string
  /**
   * Consulted on every dial and inbound connection (the allow-list, fault injection's
   * partitions: combine them with `composeGaters`).
   */
  connectionGater?: ConnectionGater
  /**
   * The cluster's pre-shared key in the libp2p private-network format
   * (`parseClusterKey(...).psk`): every connection is encrypted under it before Noise, so
   * only peers holding the same key can connect. Absent: any peer can.
   */
  clusterKey?: Uint8Array
  /** Told of each inbound connection closed before its handshake because its host had too many in theirs. */
  onRefusedConnection?: RefusedConnectionSink
}

/**
 * Inbound connections a node takes from one remote host (IP address) per second; libp2p
 * refuses the ones over it. libp2p's default, 5, let a peer without the cluster key lock
 * out a member on the same host: five failed handshakes from 127.0.0.1 in one second and
 * the next member dialling from loopback was refused (measured in
 * test/transport/admission.test.ts). Loopback clusters and nodes behind one NAT share a
 * host, so the limit only has to stop a flood.
 */
export const INBOUND_CONNECTIONS_PER_HOST_PER_SECOND = 100

/**
 * Inbound connections a node holds in their upgrade (handshakes) at a time, from all hosts
 * together; libp2p refuses new ones past it. One host may hold
 * `INBOUND_PENDING_PER_HOST` (pending-limit.ts), so that a host sending nothing cannot
 * take them all, as it could take libp2p's default of 10.
 */
export const INBOUND_PENDING_TOTAL = 512

/** Protocol id of the private kad-dht (DESIGN.md: kad-dht with prefix `/caxton`). */
export const DHT_PROTOCOL = '/caxton/kad/1.0.0'

/**
 * Creates (not starts) the node's libp2p peer: TCP, Noise (XX), yamux, identify, ping,
 * kad-dht in server mode under `/caxton`, gossipsub; with a cluster key, a private network
 * (`@libp2p/pnet`: XSalsa20 under the key beneath Noise).
 *
 * Choices measured on this stack (libp2p 3.3, Node 20):
 * - `passthroughMapper`: the default mapper strips 127.0.0.1 and private addresses and
 *   leaves a loopback cluster's routing tables empty.
 * - The connection monitor does not abort connections on a late ping: under load it
 *   dropped busy connections; deciding who is dead is membership's job.
 * - gossipsub may publish with no subscribed peer (a lone node still announces).
 * - TCP sockets are corked for the rest of a turn at their first write (fewer-writes.ts):
 *   one `writev` per turn instead of one write per Noise length prefix and ciphertext.
 * - Noise's splitter reads a length prefix without throwing at the end of every chunk
 *   (quiet-noise.ts).
 * - Up to `INBOUND_CONNECTIONS_PER_HOST_PER_SECOND` inbound connections per remote host
 *   and second, not libp2p's 5.
 * - Up to `INBOUND_PENDING_PER_HOST` inbound connections of one host in their handshake at
 *   a time, and `INBOUND_PENDING_TOTAL` of all hosts, not 10 of anyone's
 *   (pending-limit.ts).
 */
export async function createTransport (options: TransportOptions): Promise<CaxtonLibp2p> {
  return await createLibp2p<CaxtonServices>({
    start: false,
    privateKey: options.privateKey,
    addresses: { listen: options.listen },
    transports: [(components: Parameters<ReturnType<typeof tcp>>[0]) => withPendingLimit(withCorkedWrites(tcp()(components)), INBOUND_PENDING_PER_HOST, options.onRefusedConnection)],
    connectionEncrypters: [withQuietNoiseFrames(noise())],
    streamMuxers: [yamux()],
    connectionMonitor: { abortConnectionOnPingFailure: false },
    connectionManager: { inboundConnectionThreshold: INBOUND_CONNECTIONS_PER_HOST_PER_SECOND, maxIncomingPendingConnections: INBOUND_PENDING_TOTAL },
    ...(options.connectionGater !== undefined ? { connectionGater: options.connectionGater } : {}),
    ...(options.clusterKey !== undefined ? { connectionProtector: preSharedKey({ psk: options.clusterKey }) } : {}),
    nodeInfo: options.agentVersion != null ? { userAgent: options.agentVersion } : undefined,
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        clientMode: false,
        peerInfoMapper: passthroughMapper,
        allowQueryWithZeroPeers: true
      }),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        emitSelf: false
      })
    }
  })
}
