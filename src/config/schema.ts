/**
 * The node's typed configuration: every key, its type, its default and its bounds.
 * Defaults come from a named preset (`local`, `lan`, `wan`), the way memberlist has
 * DefaultLANConfig / DefaultWANConfig / DefaultLocalConfig.
 */
import { z } from 'zod'
import { SwimConfigError, validateSwimConfig, type SwimConfig } from '../../protocols/swim/index.js'

const multiaddr = z.string().regex(/^\/(ip4|ip6|dns4|dns6|dns)\/[^/]+\/tcp\/\d{1,5}(\/.*)?$/, 'must be a TCP multiaddr like /ip4/127.0.0.1/tcp/7400')
// The /p2p/<peerId> part is optional: without it, the Noise handshake tells who answered.
const joinAddr = z.string().regex(/^\/(ip4|ip6|dns4|dns6|dns)\/[^/]+\/tcp\/\d{1,5}(\/p2p\/[1-9A-HJ-NP-Za-km-z]{46,})?$/, 'must be a TCP multiaddr, optionally ending in /p2p/<peerId>, e.g. /ip4/127.0.0.1/tcp/7400/p2p/12D3Koo...')
const port = z.number().int().min(0).max(65535)
const peerId = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{46,}$/, 'must be a peer id like 12D3Koo...')

export const PRESETS = ['local', 'lan', 'wan'] as const
export type Preset = typeof PRESETS[number]

const count = (max: number) => z.number().int().min(0).max(max)
const millis = z.number().min(0).max(30 * 86_400_000)

/**
 * `membership`: SWIM with Lifeguard (protocols/swim/SPEC.md). The defaults are the
 * protocol's preset of the same name as the node's `preset` (protocols/swim `SWIM_PRESETS`:
 * lan = memberlist's DefaultLANConfig); each key overrides one field. The protocol's own
 * rules (ranges, probe timeout below the interval) are checked here, naming the key.
 */
const membershipSchema = z.strictObject({
  /** Protocol period: time between two probes, ms. @default 1000 */
  probeIntervalMs: millis,
  /** Wait for a direct ack before asking others to probe indirectly, ms; < probeIntervalMs. @default 500 (local 200, wan 3000) */
  probeTimeoutMs: millis,
  /** k, members asked to probe a silent member indirectly. @default 3 (local 1) */
  indirectChecks: count(64),
  /** Suspicion timeout = suspicionMult × max(1, log10 N) × probeIntervalMs at least. @default 4 (local 3, wan 6) */
  suspicionMult: z.number().min(1).max(1000),
  /** An unconfirmed suspicion waits this many times the minimum. @default 6 */
  suspicionMaxTimeoutMult: z.number().min(1).max(1000),
  /** An update is gossiped retransmitMult × ceil(log10(N + 1)) times. @default 4 (local 2) */
  retransmitMult: count(1000),
  /** Full-state sync with one random member, ms (0: off). @default 30000 (local 15000, wan 60000) */
  pushPullIntervalMs: millis,
  /** Gossip round period, ms. @default 200 (local 100, wan 500) */
  gossipIntervalMs: millis,
  /** Members gossiped to per round. @default 3 (wan 4) */
  gossipNodes: count(64),
  /** How long a dead member still gets gossip, to learn of its death and refute, ms. @default 30000 */
  gossipToTheDeadMs: millis,
  /** Upper bound of the local health multiplier (Lifeguard §IV-A). @default 8 */
  awarenessMaxMultiplier: count(64),
  /** Event-loop delay that adds one point of local health score, ms (0: ignore). @default 100 (local 50, wan 500) */
  awarenessLoadStepMs: millis,
  /** A helper nacks when the target is silent for this fraction of probeTimeoutMs. @default 0.8 */
  nackTimeoutFraction: z.number().min(0).max(1),
  /** How long dead and left members are remembered (and dead ones retried), ms. @default 3600000 (local 300000) */
  deadMemberReclaimMs: millis,
  /** Period of the reconnect attempt to a dead member, ms (0: off). @default 10000 (local 5000, wan 30000) */
  reconnectIntervalMs: millis,
  /** Byte budget of a probe or gossip frame. @default 1400 */
  maxPacketBytes: count(64 * 1024 * 1024),
  /** Largest frame accepted (a push-pull of the whole table), bytes. @default 8 MiB */
  maxFrameBytes: count(1024 * 1024 * 1024),
  /** Largest metadata a member may carry, bytes. @default 512 */
  maxMetaBytes: count(64 * 1024),
  /** While this node knows no live member, how often seeds and remembered members are retried, ms. @default 5000 (local 1000, wan 15000) */
  joinRetryMs: z.number().int().min(100).max(3_600_000),
  /** On stop, the longest wait for the leave to be gossiped, ms. @default 3000 */
  leaveTimeoutMs: z.number().int().min(0).max(600_000)
}).superRefine((m, ctx) => {
  try {
    validateSwimConfig(swimSettings(m))
  } catch (err) {
    if (!(err instanceof SwimConfigError)) throw err
    ctx.addIssue({ code: 'custom', path: [err.field], message: err.message })
  }
})

export type MembershipConfig = z.infer<typeof membershipSchema>

/** The protocol's settings from the `membership` section (the binding's own keys left out). */
export function swimSettings (m: MembershipConfig): SwimConfig {
  const { joinRetryMs: _joinRetryMs, leaveTimeoutMs: _leaveTimeoutMs, ...swim } = m
  return swim
}

export const configSchema = z.strictObject({
  /** The preset the defaults were taken from. @default 'lan' */
  preset: z.enum(PRESETS),
  /** A human name for the node, shown in logs and `GET /node`. @default 'node' */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-"'),
  /** Folder of the node's LevelDB. @default '.caxton/<name>' */
  dataDir: z.string().min(1),
  /** libp2p listen addresses (TCP). @default ['/ip4/127.0.0.1/tcp/7400'] */
  listen: z.array(multiaddr).min(1),
  /** Members to join through, each `/ip4/.../tcp/...[/p2p/<peerId>]`. @default [] */
  join: z.array(joinAddr),
  /** Cluster admission (src/transport/admission.ts): who may open a connection to this node. */
  cluster: z.strictObject({
    /**
     * File holding the cluster's pre-shared key (`caxton cluster keygen`; also `--cluster-key`
     * and `CAXTON_CLUSTER_KEY`): only peers holding the same key can connect. null: no key,
     * any peer that reaches the listen port can. @default null
     */
    keyFile: z.string().min(1).nullable(),
    /** Peer ids allowed to connect, besides this node; empty: any peer (holding the key). @default [] */
    allowPeers: z.array(peerId)
  }),
  api: z.strictObject({
    /** REST API bind address. @default '127.0.0.1' */
    host: z.string().min(1),
    /** REST API port; 0 picks a free one. @default 7420 */
    port,
    /** Largest request body, bytes (a deploy carries a module). @default 16 MiB */
    bodyLimitBytes: z.number().int().min(1024).max(1 << 30),
    /** PEM certificate (chain) file: serve the API over HTTPS (TLS 1.3 at least); '' for plain HTTP. Needs tlsKeyFile. @default '' */
    tlsCertFile: z.string(),
    /** PEM private key file of tlsCertFile. @default '' */
    tlsKeyFile: z.string(),
    /**
     * Names a client may put in the `Host` header besides `localhost` and IP addresses of
     * the listen address (any IP address when it listens on every interface); anything
     * else is refused (421), so a web page cannot reach the API by DNS rebinding. A name
     * starting with `.` accepts its subdomains. @default []
     */
    allowedHosts: z.array(z.string().regex(/^\.?[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/, 'must be a DNS name, or .suffix for its subdomains')),
    /** Time a client has to send a whole request, headers and body, ms. @default 60000 */
    requestTimeoutMs: z.number().int().min(100).max(3_600_000),
    /** Time a client has to send a request's headers, ms; at most requestTimeoutMs. @default 10000 */
    headersTimeoutMs: z.number().int().min(100).max(3_600_000),
    /** An idle keep-alive connection is closed after this long, ms. @default 5000 */
    keepAliveTimeoutMs: z.number().int().min(100).max(3_600_000),
    /** Requests one token (or, without a valid token, one address) may make per window. @default 1000 */
    rateLimitMax: z.number().int().min(1).max(100_000_000),
    /** Rate-limit window, ms. @default 10000 */
    rateLimitWindowMs: z.number().int().min(100).max(86_400_000)
  }),
  log: z.strictObject({
    /** @default 'info' */
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
  }),
  agents: z.strictObject({
    /** Linear memory cap per agent, 64 KiB pages. @default 256 (16 MiB) */
    maxMemoryPages: z.number().int().min(1).max(65536),
    /** Mailbox capacity per agent, messages. @default 1024 */
    mailboxCapacity: z.number().int().min(1).max(1_000_000),
    /** Fuel per handled message (an i32 in the metered module, so at most 2^31-1). @default 50_000_000 */
    fuelPerMessage: z.number().int().min(1000).max(2_147_483_647),
    /** Wall-clock backstop per handled message, ms. @default 5000 */
    handlerTimeoutMs: z.number().int().min(10).max(600_000),
    /** Worker threads agents run on. @default 1 */
    workers: z.number().int().min(1).max(64),
    /** How long `stop` waits for mailboxes to drain, ms. @default 5000 */
    drainTimeoutMs: z.number().int().min(0).max(600_000),
    /** Send budget per agent: messages per second, sustained (a reply to a message from someone else is free). @default 1000 */
    sendsPerSecond: z.number().int().min(1).max(100_000_000),
    /** Send budget per agent: messages sent at once after a quiet spell. @default 1000 */
    sendBurst: z.number().int().min(1).max(100_000_000),
    /** Send budget per agent: bytes per second, sustained; also the most sent at once. @default 4194304 (4 MiB) */
    sendBytesPerSecond: z.number().int().min(1).max(2 ** 40),
    /** An agent over its send budget for this long is suspended, ms. @default 5000 */
    overBudgetGraceMs: z.number().int().min(0).max(86_400_000),
    /** JavaScript heap of each agent worker (`resourceLimits.maxOldGenerationSizeMb`), MiB; agents' linear memories are not in it. @default 256 */
    workerHeapMb: z.number().int().min(16).max(65536),
    /** Quota of each agent's key-value store, bytes (each entry counts key + value + 32). @default 1048576 */
    kvQuotaBytes: z.number().int().min(0).max(1024 * 1024 * 1024),
    /** Most timers pending per agent. @default 1000 */
    maxTimers: z.number().int().min(0).max(1_000_000),
    /** Versions of each agent kept on disk for rollback, the current one included. @default 5 */
    keepVersions: z.number().int().min(1).max(100)
  }),
  messages: z.strictObject({
    /** Largest message content, bytes; must fit in an agent's memory with room to spare. @default 1 MiB */
    maxContentBytes: z.number().int().min(64).max(256 * 1024 * 1024),
    /** Messages kept for `GET /messages`. @default 1000 */
    recentLimit: z.number().int().min(0).max(1_000_000),
    /**
     * How long a sending node waits for a peer's ack before it gives the stream up and retries, ms;
     * at least 100: a peer may hold an ack up to 10 ms for its agent's handler (protocols/delivery/SPEC.md §3).
     * @default 10000 (lan)
     */
    ackTimeoutMs: z.number().int().min(100).max(600_000)
  }),
  /** Durable delivery (protocols/delivery/SPEC.md): outbox, retries, circuit breakers, dead letters. */
  delivery: z.strictObject({
    /** Deadline of a message without `replyBy`: accepted at + ttlMs, ms. @default 30000 */
    ttlMs: z.number().int().min(10).max(86_400_000),
    /** No deadline lies further than this from acceptance (`replyBy` included), ms; bounds how long duplicates are tracked. @default 3600000 */
    maxTtlMs: z.number().int().min(10).max(7 * 86_400_000),
    /** Ceiling of the first retry's delay (full jitter), ms. @default 100 (local 50) */
    retryBaseMs: z.number().int().min(1).max(600_000),
    /** Growth of the retry ceiling per attempt. @default 2 */
    retryFactor: z.number().min(1).max(10),
    /** Largest retry ceiling, ms. @default 5000 (local 2000, wan 15000) */
    retryCapMs: z.number().int().min(1).max(3_600_000),
    /** Consecutive delivery failures (no answer) that open a peer's circuit breaker. @default 5 */
    breakerThreshold: z.number().int().min(1).max(1000),
    /** How long an open breaker waits before a probe, ms (membership seeing the peer alive again ends it sooner). @default 2000 (wan 10000) */
    breakerCoolDownMs: z.number().int().min(1).max(3_600_000),
    /** Messages awaiting acks per peer. @default 1024 */
    maxInFlightPerPeer: z.number().int().min(1).max(1_000_000),
    /** Undelivered messages the outbox holds; past it REST answers 503 OUTBOX_FULL and `env.send` -4. @default 200000 */
    outboxMaxMessages: z.number().int().min(1).max(100_000_000),
    /** Bytes of undelivered messages the outbox holds. @default 256 MiB */
    outboxMaxBytes: z.number().int().min(1024).max(64 * 1024 * 1024 * 1024),
    /** Undelivered messages for one peer. @default 100000 */
    outboxMaxMessagesPerPeer: z.number().int().min(1).max(100_000_000),
    /** Bytes of undelivered messages for one peer. @default 128 MiB */
    outboxMaxBytesPerPeer: z.number().int().min(1024).max(64 * 1024 * 1024 * 1024),
    /** Dead letters kept; past it the oldest is evicted (counted). @default 100000 */
    deadLetterMax: z.number().int().min(1).max(100_000_000),
    /** fsync every group commit (survives a power loss, not only a crash of the process). @default false */
    sync: z.boolean(),
    /** Persist outbox, inboxes, dead letters and conversations; false keeps them in memory (lost in a crash; for benchmarks). @default true */
    durable: z.boolean(),
    /** Keep a log of every handled message (`GET /messages/handled`), for chaos accounting. @default false */
    handledLog: z.boolean()
  }).superRefine((d, ctx) => {
    if (d.ttlMs > d.maxTtlMs) ctx.addIssue({ code: 'custom', path: ['ttlMs'], message: `must be at most delivery.maxTtlMs (${d.maxTtlMs})` })
    if (d.retryBaseMs > d.retryCapMs) ctx.addIssue({ code: 'custom', path: ['retryBaseMs'], message: `must be at most delivery.retryCapMs (${d.retryCapMs})` })
    if (d.outboxMaxMessagesPerPeer > d.outboxMaxMessages) ctx.addIssue({ code: 'custom', path: ['outboxMaxMessagesPerPeer'], message: `must be at most delivery.outboxMaxMessages (${d.outboxMaxMessages})` })
    if (d.outboxMaxBytesPerPeer > d.outboxMaxBytes) ctx.addIssue({ code: 'custom', path: ['outboxMaxBytesPerPeer'], message: `must be at most delivery.outboxMaxBytes (${d.outboxMaxBytes})` })
  }),
  conversations: z.strictObject({
    /** A conversation with no message for this long is forgotten, ms. @default 1800000 (30 min) */
    idleTimeoutMs: z.number().int().min(1000).max(30 * 86_400_000),
    /** Conversations held in memory; the least recently active beyond it are read back from disk when needed. @default 100000 */
    maxInMemory: z.number().int().min(100).max(100_000_000)
  }),
  membership: membershipSchema,
  /** The cluster registry's timing (docs/registry.md); defaults from `REGISTRY_TIMING` of the preset. */
  registry: z.strictObject({
    /** Anti-entropy with one random live member every this many ms (±20%); 0: only on (re)connection. @default 10000 (local 2000, wan 30000) */
    antiEntropyIntervalMs: z.number().int().min(0).max(86_400_000),
    /** Tombstone acks and collection every this many ms; 0: never collect. @default 30000 (local 10000, wan 120000) */
    maintenanceIntervalMs: z.number().int().min(0).max(86_400_000),
    /** Bound on one anti-entropy exchange, ms. @default 30000 (local 10000, wan 60000) */
    syncTimeoutMs: z.number().int().min(100).max(3_600_000),
    /** On a reconnection the higher node id syncs after this delay unless the lower one did, ms. @default 1000 (local 500, wan 3000) */
    connectSyncFallbackMs: z.number().int().min(0).max(3_600_000),
    /** Most anti-entropy exchanges at once, started and answered. @default 8 */
    maxConcurrentSyncs: z.number().int().min(1).max(1024)
  }),
  /** Node-wide bounds on deploys: a deploy over them is refused (LIMIT_TOO_HIGH 400, AGENT_QUOTA_EXCEEDED 409). */
  quota: z.strictObject({
    /** Agents this node hosts at most. @default 1000 */
    maxAgents: z.number().int().min(1).max(1_000_000),
    /** Sum of the agents' memory caps (their maxMemoryPages), 64 KiB pages. @default 65536 (4 GiB) */
    maxTotalMemoryPages: z.number().int().min(1).max(2 ** 40),
    /** Largest limits.maxMemoryPages a deploy may ask, pages. @default 4096 (256 MiB) */
    maxMemoryPages: z.number().int().min(1).max(65536),
    /** Largest limits.mailboxCapacity, messages. @default 100000 */
    maxMailboxCapacity: z.number().int().min(1).max(1 << 20),
    /** Largest limits.fuelPerMessage. @default 1000000000 */
    maxFuelPerMessage: z.number().int().min(1000).max(2_147_483_647),
    /** Largest limits.handlerTimeoutMs, ms. @default 60000 */
    maxHandlerTimeoutMs: z.number().int().min(10).max(600_000),
    /** Largest limits.sendsPerSecond, messages. @default 100000 */
    maxSendsPerSecond: z.number().int().min(1).max(100_000_000),
    /** Largest limits.sendBurst, messages. @default 100000 */
    maxSendBurst: z.number().int().min(1).max(100_000_000),
    /** Largest limits.sendBytesPerSecond, bytes. @default 268435456 (256 MiB) */
    maxSendBytesPerSecond: z.number().int().min(1).max(2 ** 40)
  }),
  routing: z.strictObject({
    /** How often this node re-provides its agents as kad-dht provider records, ms (0: only on deploy). @default 30000 (lan) */
    announceIntervalMs: z.number().int().min(0),
    /** Bound on a kad-dht provider lookup for an unknown agent, ms. @default 5000 (lan) */
    dhtLookupTimeoutMs: z.number().int().min(10).max(600_000)
  })
}).superRefine((c, ctx) => {
  if ((c.api.tlsCertFile === '') !== (c.api.tlsKeyFile === '')) {
    const missing = c.api.tlsCertFile === '' ? 'tlsCertFile' : 'tlsKeyFile'
    ctx.addIssue({ code: 'custom', path: ['api', missing], message: 'a TLS certificate needs its key, and a key its certificate: give both or neither' })
  }
  if (c.api.headersTimeoutMs > c.api.requestTimeoutMs) {
    ctx.addIssue({ code: 'custom', path: ['api', 'headersTimeoutMs'], message: `must be at most api.requestTimeoutMs (${c.api.requestTimeoutMs})` })
  }
  // The node's default limits must be deployable.
  const defaults: Array<[keyof typeof c.agents, keyof typeof c.quota]> = [
    ['maxMemoryPages', 'maxMemoryPages'], ['mailboxCapacity', 'maxMailboxCapacity'], ['fuelPerMessage', 'maxFuelPerMessage'], ['handlerTimeoutMs', 'maxHandlerTimeoutMs'],
    ['sendsPerSecond', 'maxSendsPerSecond'], ['sendBurst', 'maxSendBurst'], ['sendBytesPerSecond', 'maxSendBytesPerSecond']
  ]
  for (const [field, max] of defaults) {
    if (c.agents[field] > c.quota[max]) ctx.addIssue({ code: 'custom', path: ['agents', field], message: `must be at most quota.${max} (${c.quota[max]})` })
  }
  if (c.agents.maxMemoryPages > c.quota.maxTotalMemoryPages) {
    ctx.addIssue({ code: 'custom', path: ['agents', 'maxMemoryPages'], message: `must be at most quota.maxTotalMemoryPages (${c.quota.maxTotalMemoryPages})` })
  }
})

export type CaxtonConfig = z.infer<typeof configSchema>

/** Deep-partial config, as a file, the environment or flags provide it. */
export type ConfigInput = { [K in keyof CaxtonConfig]?: CaxtonConfig[K] extends unknown[] ? CaxtonConfig[K] : CaxtonConfig[K] extends object ? Partial<CaxtonConfig[K]> : CaxtonConfig[K] }
