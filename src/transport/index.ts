/**
 * The node's libp2p peer: TCP + Noise + yamux + identify + ping + kad-dht + gossipsub.
 *
 * @example
 * ```ts
 * const libp2p = await createTransport({ privateKey, listen: ['/ip4/127.0.0.1/tcp/0'] })
 * await libp2p.start()
 * ```
 */
export { createTransport, DHT_PROTOCOL, type CaxtonLibp2p, type CaxtonServices, type TransportOptions } from './create.js'
