/**
 * SWIM configuration: one options shape with documented defaults (the `lan` preset), and
 * presets that override a few fields, in the spirit of HashiCorp memberlist's
 * DefaultLANConfig / DefaultWANConfig / DefaultLocalConfig.
 */
import { SwimConfigError } from './errors.js'

export interface SwimConfig {
  /**
   * Protocol period T' (SWIM §3.1): time between the starts of two probes, ms. Stretched by
   * the local health score (Lifeguard §IV-A).
   * @default 1000
   */
  probeIntervalMs: number
  /**
   * How long to wait for the direct ack before asking k members to probe indirectly, ms.
   * Stretched by the local health score. Must be less than `probeIntervalMs`.
   * @default 500
   */
  probeTimeoutMs: number
  /**
   * k, the number of members asked to probe a silent member indirectly (ping-req, SWIM §3.1).
   * @default 3
   */
  indirectChecks: number
  /**
   * Suspicion timeout multiplier: the minimum suspicion timeout is
   * `suspicionMult × max(1, log10(N)) × probeIntervalMs` (memberlist; Lifeguard §IV-B "Min").
   * Also fixes the number of independent confirmations that shrink a suspicion to its
   * minimum: `suspicionMult − 2`.
   * @default 4
   */
  suspicionMult: number
  /**
   * The maximum suspicion timeout, as a multiple of the minimum (Lifeguard §IV-B "Max"): a
   * fresh, unconfirmed suspicion waits this long before declaring a member dead.
   * @default 6
   */
  suspicionMaxTimeoutMult: number
  /**
   * λ of SWIM §4.1: an update is piggybacked at most `retransmitMult × ceil(log10(N + 1))` times.
   * @default 4
   */
  retransmitMult: number
  /**
   * Period of the full-state push-pull exchange with one random live member, ms; stretched
   * for clusters above 32 members (memberlist's pushPullScale). 0 disables it.
   * @default 30000
   */
  pushPullIntervalMs: number
  /**
   * Period of the gossip round that sends pending updates to `gossipNodes` random members,
   * ms. 0 disables gossip rounds (updates then ride only on probe frames).
   * @default 200
   */
  gossipIntervalMs: number
  /**
   * Members gossiped to per gossip round.
   * @default 3
   */
  gossipNodes: number
  /**
   * For how long after a member is declared dead it still receives gossip (so it learns of
   * its death and can refute it), ms.
   * @default 30000
   */
  gossipToTheDeadMs: number
  /**
   * Upper bound S of the local health multiplier (Lifeguard §IV-A): the health score runs
   * from 0 to S − 1 and timeouts are multiplied by score + 1.
   * @default 8
   */
  awarenessMaxMultiplier: number
  /**
   * Event-loop delay that adds one point to the health score, ms (see `reportLoad`).
   * 0 ignores the load signal.
   * @default 100
   */
  awarenessLoadStepMs: number
  /**
   * A member asked to probe indirectly sends a nack back if the target has not acked within
   * this fraction of `probeTimeoutMs` (Lifeguard §IV-A "nack").
   * @default 0.8
   */
  nackTimeoutFraction: number
  /**
   * How long a dead or left member is remembered before it is forgotten, ms. While
   * remembered, a dead member is retried (see `reconnectIntervalMs`) and its stale alive
   * gossip cannot resurrect it.
   * @default 3600000
   */
  deadMemberReclaimMs: number
  /**
   * Period of the reconnect attempt: a push-pull with one random dead (not left) member,
   * made with probability dead/live (Serf's reconnect), so that healed partitions and
   * restarted nodes rejoin without an operator, ms. 0 disables it.
   * @default 10000
   */
  reconnectIntervalMs: number
  /**
   * Byte budget of a probe or gossip frame including its piggybacked updates (a UDP-sized
   * packet keeps a probe's latency independent of the backlog), bytes.
   * @default 1400
   */
  maxPacketBytes: number
  /**
   * Largest frame the decoder accepts (push-pull of a large cluster), bytes.
   * @default 8388608
   */
  maxFrameBytes: number
  /**
   * Largest application metadata a member may carry, bytes.
   * @default 512
   */
  maxMetaBytes: number
}

/** The `lan` preset: memberlist's DefaultLANConfig values for the fields both have. */
export const LAN_CONFIG: Readonly<SwimConfig> = Object.freeze({
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  retransmitMult: 4,
  pushPullIntervalMs: 30_000,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  gossipToTheDeadMs: 30_000,
  awarenessMaxMultiplier: 8,
  awarenessLoadStepMs: 100,
  nackTimeoutFraction: 0.8,
  deadMemberReclaimMs: 3_600_000,
  reconnectIntervalMs: 10_000,
  maxPacketBytes: 1400,
  maxFrameBytes: 8 * 1024 * 1024,
  maxMetaBytes: 512
})

/** The `wan` preset: slower probes and longer suspicion for high-latency links (memberlist's DefaultWANConfig). */
export const WAN_CONFIG: Readonly<SwimConfig> = Object.freeze({
  ...LAN_CONFIG,
  probeIntervalMs: 5000,
  probeTimeoutMs: 3000,
  suspicionMult: 6,
  pushPullIntervalMs: 60_000,
  gossipIntervalMs: 500,
  gossipNodes: 4,
  gossipToTheDeadMs: 60_000,
  awarenessLoadStepMs: 500,
  reconnectIntervalMs: 30_000
})

/** The `local` preset: one machine or loopback, fast detection (memberlist's DefaultLocalConfig). */
export const LOCAL_CONFIG: Readonly<SwimConfig> = Object.freeze({
  ...LAN_CONFIG,
  probeIntervalMs: 1000,
  probeTimeoutMs: 200,
  indirectChecks: 1,
  suspicionMult: 3,
  retransmitMult: 2,
  pushPullIntervalMs: 15_000,
  gossipIntervalMs: 100,
  gossipToTheDeadMs: 15_000,
  awarenessLoadStepMs: 50,
  deadMemberReclaimMs: 300_000,
  reconnectIntervalMs: 5000
})

export const SWIM_PRESETS = Object.freeze({ lan: LAN_CONFIG, wan: WAN_CONFIG, local: LOCAL_CONFIG })
export type SwimPreset = keyof typeof SWIM_PRESETS

interface FieldRule { integer: boolean, min: number, max: number }

const FIELD_RULES: Record<keyof SwimConfig, FieldRule> = {
  probeIntervalMs: { integer: false, min: 1, max: 3_600_000 },
  probeTimeoutMs: { integer: false, min: 1, max: 3_600_000 },
  indirectChecks: { integer: true, min: 0, max: 64 },
  suspicionMult: { integer: false, min: 1, max: 1000 },
  suspicionMaxTimeoutMult: { integer: false, min: 1, max: 1000 },
  retransmitMult: { integer: true, min: 1, max: 1000 },
  pushPullIntervalMs: { integer: false, min: 0, max: 86_400_000 },
  gossipIntervalMs: { integer: false, min: 0, max: 3_600_000 },
  gossipNodes: { integer: true, min: 0, max: 64 },
  gossipToTheDeadMs: { integer: false, min: 0, max: 86_400_000 },
  awarenessMaxMultiplier: { integer: true, min: 1, max: 64 },
  awarenessLoadStepMs: { integer: false, min: 0, max: 3_600_000 },
  nackTimeoutFraction: { integer: false, min: 0.05, max: 1 },
  deadMemberReclaimMs: { integer: false, min: 0, max: 30 * 86_400_000 },
  reconnectIntervalMs: { integer: false, min: 0, max: 86_400_000 },
  maxPacketBytes: { integer: true, min: 256, max: 64 * 1024 * 1024 },
  maxFrameBytes: { integer: true, min: 1024, max: 1024 * 1024 * 1024 },
  maxMetaBytes: { integer: true, min: 0, max: 64 * 1024 }
}

/**
 * Checks every field of a full config: present, a finite number, in range, and the
 * relations between fields (probe timeout shorter than the probe interval).
 *
 * @throws {SwimConfigError} naming the first offending field
 */
export function validateSwimConfig (config: SwimConfig): SwimConfig {
  if (config === null || typeof config !== 'object') {
    throw new SwimConfigError('(config)', config, 'expected an object')
  }
  for (const field of Object.keys(FIELD_RULES) as Array<keyof SwimConfig>) {
    const rule = FIELD_RULES[field]
    const value: unknown = config[field]
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new SwimConfigError(field, value, 'expected a finite number')
    }
    if (rule.integer && !Number.isInteger(value)) {
      throw new SwimConfigError(field, value, 'expected an integer')
    }
    if (value < rule.min || value > rule.max) {
      throw new SwimConfigError(field, value, `expected a value in [${rule.min}, ${rule.max}]`)
    }
  }
  for (const field of Object.keys(config)) {
    if (!(field in FIELD_RULES)) {
      throw new SwimConfigError(field, (config as unknown as Record<string, unknown>)[field], 'unknown field')
    }
  }
  if (config.probeTimeoutMs >= config.probeIntervalMs) {
    throw new SwimConfigError('probeTimeoutMs', config.probeTimeoutMs,
      `must be less than probeIntervalMs (${config.probeIntervalMs}) so indirect probes fit in the protocol period`)
  }
  if (config.maxFrameBytes < config.maxPacketBytes) {
    throw new SwimConfigError('maxFrameBytes', config.maxFrameBytes, `must be at least maxPacketBytes (${config.maxPacketBytes})`)
  }
  return config
}

/**
 * A full, validated config: a preset (default `lan`) with overrides on top.
 *
 * @example
 * ```ts
 * const config = swimConfig('lan', { probeIntervalMs: 500, probeTimeoutMs: 200 })
 * ```
 * @throws {SwimConfigError} for an unknown preset or a bad field
 */
export function swimConfig (preset: SwimPreset = 'lan', overrides: Partial<SwimConfig> = {}): SwimConfig {
  const base = (SWIM_PRESETS as Record<string, Readonly<SwimConfig> | undefined>)[preset]
  if (base === undefined) {
    throw new SwimConfigError('preset', preset, `expected one of ${Object.keys(SWIM_PRESETS).join(', ')}`)
  }
  if (overrides === null || typeof overrides !== 'object') {
    throw new SwimConfigError('(overrides)', overrides, 'expected an object')
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined))
  return validateSwimConfig({ ...base, ...defined })
}

/**
 * Push-pull period for a cluster of `n` members: doubling per doubling above 32 members,
 * so the cluster-wide rate of full-state exchanges grows only logarithmically
 * (memberlist's pushPullScale), ms.
 */
export function scaledPushPullIntervalMs (intervalMs: number, n: number): number {
  const threshold = 32
  if (n <= threshold) return intervalMs
  const multiplier = Math.ceil(Math.log2(n) - Math.log2(threshold)) + 1
  return multiplier * intervalMs
}
