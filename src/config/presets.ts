/**
 * Named presets in the spirit of memberlist's DefaultLANConfig / DefaultWANConfig /
 * DefaultLocalConfig: `lan` is the base; `wan` stretches timeouts for slow links; `local`
 * shortens them for nodes on one machine (tests, walkthroughs).
 */
import { SWIM_PRESETS } from '../../protocols/swim/index.js'
// The pure timing module, not src/registry's index: that would load libp2p into every CLI command.
import { REGISTRY_TIMING } from '../../protocols/registry/timing.js'
import type { CaxtonConfig, MembershipConfig, Preset } from './schema.js'

/** Membership defaults of a preset: the SWIM preset of the same name, plus the binding's keys. */
export function membershipDefaults (preset: Preset): MembershipConfig {
  const joinRetryMs = preset === 'local' ? 1000 : preset === 'wan' ? 15_000 : 5000
  return { ...SWIM_PRESETS[preset], joinRetryMs, leaveTimeoutMs: 3000 }
}

/** The `lan` preset: every default of the node. `dataDir` is derived from `name` when not set. */
export function lanDefaults (): Omit<CaxtonConfig, 'dataDir'> {
  return {
    preset: 'lan',
    name: 'node',
    listen: ['/ip4/127.0.0.1/tcp/7400'],
    join: [],
    cluster: { keyFile: null, allowPeers: [] },
    api: {
      host: '127.0.0.1',
      port: 7420,
      bodyLimitBytes: 16 * 1024 * 1024,
      tlsCertFile: '',
      tlsKeyFile: '',
      allowedHosts: [],
      requestTimeoutMs: 60_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 5000,
      rateLimitMax: 1000,
      rateLimitWindowMs: 10_000
    },
    log: { level: 'info' },
    agents: {
      maxMemoryPages: 256,
      mailboxCapacity: 1024,
      fuelPerMessage: 50_000_000,
      handlerTimeoutMs: 5000,
      workers: 1,
      drainTimeoutMs: 5000,
      sendsPerSecond: 1000,
      sendBurst: 1000,
      sendBytesPerSecond: 4 * 1024 * 1024,
      overBudgetGraceMs: 5000,
      workerHeapMb: 256,
      kvQuotaBytes: 1024 * 1024,
      maxTimers: 1000,
      keepVersions: 5
    },
    messages: {
      maxContentBytes: 1024 * 1024,
      recentLimit: 1000,
      ackTimeoutMs: 10_000
    },
    delivery: {
      ttlMs: 30_000,
      maxTtlMs: 3_600_000,
      retryBaseMs: 100,
      retryFactor: 2,
      retryCapMs: 5000,
      breakerThreshold: 5,
      breakerCoolDownMs: 2000,
      maxInFlightPerPeer: 1024,
      outboxMaxMessages: 200_000,
      outboxMaxBytes: 256 * 1024 * 1024,
      outboxMaxMessagesPerPeer: 100_000,
      outboxMaxBytesPerPeer: 128 * 1024 * 1024,
      deadLetterMax: 100_000,
      sync: false,
      durable: true,
      handledLog: false
    },
    conversations: { idleTimeoutMs: 1_800_000, maxInMemory: 100_000 },
    membership: membershipDefaults('lan'),
    registry: { ...REGISTRY_TIMING.lan },
    quota: {
      maxAgents: 1000,
      maxTotalMemoryPages: 65536,
      maxMemoryPages: 4096,
      maxMailboxCapacity: 100_000,
      maxFuelPerMessage: 1_000_000_000,
      maxHandlerTimeoutMs: 60_000,
      maxSendsPerSecond: 100_000,
      maxSendBurst: 100_000,
      maxSendBytesPerSecond: 256 * 1024 * 1024
    },
    routing: { announceIntervalMs: 30_000, dhtLookupTimeoutMs: 5000 }
  }
}

export function presetDefaults (preset: Preset): Omit<CaxtonConfig, 'dataDir'> {
  const base = lanDefaults()
  switch (preset) {
    case 'lan':
      return base
    case 'wan':
      return {
        ...base,
        preset,
        messages: { ...base.messages, ackTimeoutMs: 30_000 },
        delivery: { ...base.delivery, retryCapMs: 15_000, breakerCoolDownMs: 10_000 },
        membership: membershipDefaults(preset),
        registry: { ...REGISTRY_TIMING.wan },
        routing: { announceIntervalMs: 60_000, dhtLookupTimeoutMs: 15_000 }
      }
    case 'local':
      return {
        ...base,
        preset,
        messages: { ...base.messages, ackTimeoutMs: 5000 },
        delivery: { ...base.delivery, retryBaseMs: 50, retryCapMs: 2000 },
        membership: membershipDefaults(preset),
        registry: { ...REGISTRY_TIMING.local },
        routing: { announceIntervalMs: 10_000, dhtLookupTimeoutMs: 2000 }
      }
  }
}
