/**
 * Agent → node resolution: gossipsub announcements, learned routes, kad-dht fallback.
 *
 * @example
 * ```ts
 * const locator = new GossipLocator({ libp2p, localAgents: () => runtime.list().map(a => a.id),
 *   announceIntervalMs: 30_000, dhtLookupTimeoutMs: 5000 })
 * locator.start()
 * await locator.added('echo')
 * ```
 */
export { GossipLocator, type GossipLocatorOptions } from './locator.js'
export { agentKey } from './agent-key.js'
export { AGENTS_TOPIC, encodeAnnouncement, decodeAnnouncement, type AgentAnnouncement } from './announce.js'
