/**
 * Agent → node resolution: the cluster registry first, routes learned from traffic next,
 * kad-dht provider records (private `/caxton` DHT) as the fallback.
 *
 * @example
 * ```ts
 * const providers = new ProviderRecords({ contentRouting: libp2p.contentRouting, dht: libp2p.services.dht,
 *   self, localAgents: () => runtime.list().map(a => a.id), reprovideIntervalMs: 30_000, lookupTimeoutMs: 5000 })
 * const locator = new RegistryLocator({ self, registry, providers })
 * providers.start()
 * providers.provide('echo')            // after deploying echo here
 * await locator.resolve('planner')     // registry, learned route, or DHT
 * ```
 */
export { RegistryLocator, type RegistryLocatorOptions, type RegistryLookup, type RegistryAnswer, type ProviderLookup } from './locator.js'
export { ProviderRecords, type ProviderRecordsOptions } from './providers.js'
export { agentKey } from './agent-key.js'
