/**
 * The node's libp2p peer: TCP + Noise + yamux + identify + ping + kad-dht + gossipsub, and
 * cluster admission (a private network under the cluster key, an allow-list of peers);
 * fewer socket writes per message (corked sockets, fewer yamux window updates); Noise's
 * splitter without an exception per chunk read; and the
 * length-prefixed framing every Caxton protocol's streams use.
 *
 * @example
 * ```ts
 * const listen = ['/ip4/127.0.0.1/tcp/0']
 * // Only peers holding the key in cluster.key (caxton cluster keygen) can connect.
 * const { clusterKey, gater } = await clusterAdmission({ keyFile: 'cluster.key', allowPeers: [], listen, logger })
 * const libp2p = await createTransport({ privateKey, listen, clusterKey, connectionGater: composeGaters([gater, faults?.gater]) })
 * await libp2p.start()
 * ```
 */
export { createTransport, DHT_PROTOCOL, INBOUND_CONNECTIONS_PER_HOST_PER_SECOND, INBOUND_PENDING_TOTAL, type CaxtonLibp2p, type CaxtonServices, type TransportOptions } from './create.js'
export { clusterAdmission, exposedAddrs, type ClusterAdmission, type ClusterAdmissionOptions } from './admission.js'
export { generateClusterKey, parseClusterKey, readClusterKey, type ClusterKey } from './cluster-key.js'
export { allowListGater, composeGaters } from './gater.js'
export { corkSocketWrites, fewerWindowUpdates, withCorkedWrites } from './fewer-writes.js'
export { hostKey, INBOUND_PENDING_PER_HOST, PendingByHost, remoteHost, withPendingLimit, type RefusedConnectionSink } from './pending-limit.js'
export { quietenNoiseSplitter, quietUint16Length, withQuietNoiseFrames } from './quiet-noise.js'
export { createFrameDecoder, drained, encodeBatch, FrameInbox, FrameWriter, readFrames, type FrameWriterOptions } from './framing.js'
export { AllowListError, ClusterKeyError, TooManyPendingError } from './errors.js'
