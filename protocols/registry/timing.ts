/**
 * The registry sync policy's timing (`sync-policy.ts`): one shape with documented defaults
 * (the `lan` preset) and presets by node preset. No imports, so that the node's config
 * module can read the defaults without loading anything else.
 */

/** How often the registry does what (ms), and how many exchanges it runs at once. */
export interface RegistryTiming {
  /** Period of anti-entropy with one random live member (±20% jitter); 0 disables the timer. @default 10000 (lan) */
  antiEntropyIntervalMs: number
  /** Period of the maintenance round: ack of held tombstones, then their collection; 0 disables. @default 30000 (lan) */
  maintenanceIntervalMs: number
  /** Bound on one anti-entropy exchange (the host enforces it). @default 30000 (lan) */
  syncTimeoutMs: number
  /**
   * On a (re)connection the member with the lower node id starts an exchange at once;
   * the other starts one after this delay unless an exchange with that peer completed
   * meanwhile (so a reconnection costs one exchange, not two). Also the base of the
   * back-off when that exchange fails (a busy responder). @default 1000
   */
  connectSyncFallbackMs: number
  /** Most anti-entropy exchanges running at once (started and answered together). @default 8 */
  maxConcurrentSyncs: number
}

/** Timing by node preset (`src/config` presets `local`, `lan`, `wan`). */
export const REGISTRY_TIMING: Readonly<Record<'local' | 'lan' | 'wan', Readonly<RegistryTiming>>> = Object.freeze({
  local: Object.freeze({ antiEntropyIntervalMs: 2000, maintenanceIntervalMs: 10_000, syncTimeoutMs: 10_000, connectSyncFallbackMs: 500, maxConcurrentSyncs: 8 }),
  lan: Object.freeze({ antiEntropyIntervalMs: 10_000, maintenanceIntervalMs: 30_000, syncTimeoutMs: 30_000, connectSyncFallbackMs: 1000, maxConcurrentSyncs: 8 }),
  wan: Object.freeze({ antiEntropyIntervalMs: 30_000, maintenanceIntervalMs: 120_000, syncTimeoutMs: 60_000, connectSyncFallbackMs: 3000, maxConcurrentSyncs: 8 })
})
