/**
 * Cluster membership on a node: SWIM with Lifeguard (`protocols/swim/`, SPEC.md there)
 * run over libp2p streams on `/caxton/swim/1.0.0`. It tells the rest of the node who is
 * alive, suspect, dead or gone, with typed events: the router stops sending to a dead
 * member, the registry marks its agents unreachable. See README.md in this folder.
 *
 * - {@link SwimMembership}: the service (start/stop): timer, join and rejoin, graceful
 *   leave, persistence, load signal, metrics, events. It is the registry's `MembershipView`.
 * - {@link Libp2pSwimTransport}: one long-lived stream per member, frames coalesced per tick.
 * - {@link LevelMemberStore}: the member table and incarnation in sublevel `membership`.
 * - {@link EventLoopDelayMonitor}: the load signal of the local health score.
 *
 * @example
 * ```ts
 * import { createMembership } from './membership/index.js'
 *
 * const membership = createMembership({
 *   libp2p,                       // started: its addresses are announced
 *   storage,                      // the node's LevelDB
 *   seeds: config.join,
 *   preset: 'lan',
 *   config: { probeIntervalMs: 1000 },
 *   logger, metrics
 * })
 * membership.addEventListener('member:dead', (evt) => { console.log(`${evt.detail} is dead`) })
 * await membership.start()
 * membership.alive()                // ['12D3KooW…', …]
 * membership.members()              // [{ id, state, incarnation, addrs, self, changedAt }, …]
 * await membership.stop()           // leaves gracefully; then stop libp2p
 * ```
 */
import type { Libp2p } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { SwimConfig, SwimPreset } from '../../protocols/swim/index.js'
import { componentLogger, silentLogger } from '../observability/logger.js'
import type { MetricsRegistry } from '../observability/metrics.js'
import type { NodeStorage } from '../storage/storage.js'
import type { RefusedFrameSink } from '../audit/index.js'
import { SwimMembership } from './membership.js'
import { LevelMemberStore } from './store.js'
import { Libp2pSwimTransport, type SwimLibp2p } from './transport.js'

export {
  SwimMembership,
  type SwimMembershipOptions, type MemberInfo, type MembershipSummary, type Timers
} from './membership.js'
export type { MembershipEventType, MembershipEvents } from './events.js'
export { Libp2pSwimTransport, SWIM_PROTOCOL, type SwimTransport, type SwimTransportHandlers, type SwimLibp2p, type Libp2pSwimTransportOptions } from './transport.js'
export { LevelMemberStore, MEMBERSHIP_SUBLEVEL, type MemberStore, type MembershipSnapshot } from './store.js'
export { EventLoopDelayMonitor, type LoadMonitor } from './load.js'
export { registerMembershipMetrics, type MembershipMetricsSource } from './metrics.js'
export { MembershipNotRunningError, SeedUnreachableError } from './errors.js'
export type { MemberState, MemberId } from '../../protocols/swim/index.js'

export interface CreateMembershipOptions {
  libp2p: SwimLibp2p & Pick<Libp2p, 'peerId' | 'getMultiaddrs'>
  /** The node's storage: the table is remembered in its sublevel `membership`. */
  storage?: Pick<NodeStorage, 'sublevel'>
  /** `--join` addresses. */
  seeds?: readonly string[]
  preset?: SwimPreset
  config?: Partial<SwimConfig>
  /** While alone, how often seeds and remembered members are retried, ms. @default 5000 */
  joinRetryMs?: number
  /** Longest wait for the leave to be gossiped on stop, ms. @default 3000 */
  leaveTimeoutMs?: number
  /** Root logger; the service logs as `caxton:membership`, its transport as `caxton:membership:transport`. */
  logger?: Logger
  metrics?: MetricsRegistry
  /** Told of every SWIM frame refused from a peer (the node counts them into its audit log). */
  onRefusedFrame?: RefusedFrameSink
}

/**
 * The membership of a libp2p node, with the libp2p transport and LevelDB persistence.
 * @throws SwimConfigError (at `start`) for a bad protocol setting
 */
export function createMembership (options: CreateMembershipOptions): SwimMembership {
  const root = options.logger ?? silentLogger()
  const maxFrameBytes = options.config?.maxFrameBytes
  return new SwimMembership({
    self: options.libp2p.peerId.toString(),
    addrs: () => options.libp2p.getMultiaddrs().map(String),
    transport: new Libp2pSwimTransport({ libp2p: options.libp2p, maxFrameBytes, logger: componentLogger(root, 'membership:transport') }),
    store: options.storage === undefined ? undefined : new LevelMemberStore(options.storage),
    seeds: options.seeds,
    preset: options.preset,
    config: options.config,
    joinRetryMs: options.joinRetryMs,
    leaveTimeoutMs: options.leaveTimeoutMs,
    logger: componentLogger(root, 'membership'),
    metrics: options.metrics,
    ...(options.onRefusedFrame !== undefined ? { onRefusedFrame: options.onRefusedFrame } : {})
  })
}
