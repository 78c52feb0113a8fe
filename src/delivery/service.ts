/**
 * Durable delivery (protocols/delivery/SPEC.md): runs the pure outbox policy
 * (`OutboxScheduler`) and the receiver's order and duplicate rules on the node's LevelDB
 * and the `/caxton/fipa/2.0.0` link.
 *
 * - Accepted means durable: a message copy is in the outbox (or directly in a local
 *   agent's inbox) before the caller is told; all writes of a turn share one batch
 *   ({@link GroupCommit}).
 * - Acked means durable at the receiver: a peer's message is written to the agent's inbox,
 *   with its seen-set row and its pair's order, before the ack goes back.
 * - A message leaves the inbox when its handler has returned, in the same batch as what
 *   the handler sent.
 * - What cannot be delivered before its deadline, or is refused, goes to the dead-letter
 *   queue in the same batch as a FAILURE to its sender.
 */
import type { Logger } from 'pino'
import {
  admit, decodeInboxRecord, decodeOutboxRecord, DELIVER_FLAGS, encodeInboxRecord, encodeOutboxRecord, OrderCounter,
  orderKey, OutboxScheduler, parseOrderKey, senderProblem, MAX_RUN,
  type AckAnswer, type DeadLetterCause, type DeadLetterRecord, type GivenUp, type OutboxRecord, type PeerDelivery, type RouteAnswer, type Sendable
} from '../../protocols/delivery/index.js'
import {
  decodeMessage, encodeMessage, failure, SYSTEM_AGENT, validateMessage, type AclLimits, type DeliverFrame
} from '../../protocols/fipa/index.js'
import type { AclMessage, AgentId } from '../../protocols/fipa/types.js'
import { silentLogger } from '../observability/logger.js'
import type { MetricsRegistry } from '../observability/metrics.js'
import type { AgentRuntime } from '../runtime/types.js'
import type { NodeStorage, StorageOp, Sublevel } from '../storage/index.js'
import { Alarm } from './alarm.js'
import { GroupCommit } from './commit.js'
import { HeldEntries } from './held.js'
import { DeadLetterQueue, type DeadLetterQuery } from './dead-letters.js'
import { DeadLetterNotFoundError, OutboxFullError } from './errors.js'
import { FIPA_PROTOCOL, type Ack, type FipaLink, type OutgoingEntry } from './link.js'
import type { RefusedFrameSink } from '../audit/index.js'
import { MessageLog } from './message-log.js'
import { DeliveryMetrics } from './metrics.js'
import { ReceiverState } from './receiver-state.js'
import { StatusTable } from './status-table.js'
import type {
  AgentRoutes, DeliveryConfig, HandledEntry, LocalClients, MessageRecord, MessageStatus, PeerHealth, ReceiverStatus
} from './types.js'
import { MemoryLevel } from 'memory-level'
import { Packr } from 'msgpackr'

const packr = new Packr({ useRecords: false })

export interface DeliveryServiceOptions {
  /** This node's PeerId. */
  self: string
  /** The node's database: its `meta` holds the run counter; the delivery rows live there too unless `durable` is false. */
  storage: NodeStorage
  runtime: Pick<AgentRuntime, 'has' | 'deliver' | 'admit' | 'setSendBackpressure'>
  clients: LocalClients
  routes: AgentRoutes
  health: PeerHealth
  link: Pick<FipaLink, 'start' | 'stop' | 'send'>
  config: DeliveryConfig
  limits: AclLimits
  /** Messages kept for `GET /messages`. @default 1000 */
  recentLimit?: number
  /** Message statuses remembered in memory (`GET /messages/:id`). @default 100_000 */
  statusLimit?: number
  /** ms since the epoch. @default Date.now */
  clock?: () => number
  /** Uniform in [0, 1): backoff jitter. @default Math.random */
  random?: () => number
  /** Ids for the FAILURE messages this node writes. */
  newId: () => string
  /** Told of every message accepted on this node (`outgoing`: sent from it), with the rows of the write it is in. */
  observer?: { observe: (message: AclMessage, outgoing: boolean, ops: StorageOp[]) => void }
  /** Told of every frame refused from a peer (the node counts them into its audit log). */
  onRefusedFrame?: RefusedFrameSink
  logger?: Logger
  metrics?: MetricsRegistry
}

/** Rows to write together, and what to do once they are written (`ok` false: the write failed). */
class Txn {
  readonly ops: StorageOp[] = []
  readonly after: Array<(ok: boolean) => void> = []
}

/** An outbox entry in memory: its record and where it was counted for the bounds. */
interface Outgoing {
  record: OutboxRecord
  /** The peer it was counted against ('' when unknown at acceptance). */
  bound: string
  /** Its row's key ({@link orderKey} of its order), kept for the delete. */
  key: string
  /** {@link pairKey} of its sender and receiver, kept for {@link DeliveryService.untrack}. */
  pair: string
  /** When it was accepted, last sent or last failed, ms since the epoch (its status's `at`). */
  at: number
}

/** A message in a local agent's inbox, by its inbox key. */
interface InboxMeta {
  messageId: string
  sender: AgentId
  receiver: AgentId
  performative: string
  inReplyTo?: string
  conversationId?: string
  from: string
}

/**
 * The rows that accept a message from a peer, or an API client's message for an agent on
 * this node, held while its agent handles it (see `DeliveryService.receive` and
 * `acceptFromClient`): they go to disk with the handler's results, or on their own once
 * held {@link EARLY_HOLD_MS}.
 */
interface HeldReceipt {
  /** The seen row and conversation rows; `after` answers the peer (or the API client). */
  txn: Txn
  /** The pair and order accepted, for a message from a peer (none for an API client's). */
  pair?: string
  order?: number
  at: number
  message: AclMessage
  receiver: AgentId
  from: string
  deadline: number
  /** The message's bytes in the frame it came in, when the link found them (kept while held, not copied). */
  bytes?: Uint8Array
}

/** A message from a peer whose rows were released on their own: being written, or failed. */
interface Receipt {
  /** A handler that returned before the rows' outcome was known, waiting for it. */
  then?: (ok: boolean) => void
  /** The rows failed to be written before the handler returned: the peer was told, and will send the message again. */
  failed?: true
}

const RUN_KEY = 'deliveryRun'
/**
 * How long the rows that accept a message from a peer wait for its handler to return, so
 * that they and the handler's results are one batch (one LevelDB write instead of two, and
 * no inbox row), ms. The peer's ack waits for that batch: far below its ack timeout
 * (`messages.ackTimeoutMs`, at least 100). With 2 ms, 9% of a one-way run's messages
 * (sink agent, 30,000 at a window of 256) were handled within the hold; with 10 ms, 62-76%.
 */
const EARLY_HOLD_MS = 10
/** How long a failed lookup is remembered: messages to that agent are dead-lettered meanwhile, ms. */
const NOT_FOUND_MS = 5000
/** Most entries one pump sends. */
const TAKE_PER_PUMP = 8192
const MAINTENANCE_MS = 60_000

export class DeliveryService {
  private readonly log: Logger
  private readonly clock: () => number
  private readonly commits: GroupCommit
  private readonly scheduler: OutboxScheduler
  private readonly metrics?: DeliveryMetrics
  private readonly recentLog: MessageLog
  private readonly outboxRows: Sublevel
  private readonly inboxRows: Sublevel
  private readonly handledRows: Sublevel
  private readonly receiver: ReceiverState
  private readonly rows: Pick<NodeStorage, 'db' | 'sublevel'>
  readonly deadLetters: DeadLetterQueue
  private counter!: OrderCounter
  private readonly outbox = new Map<number, Outgoing>()
  private outboxBytes = 0
  private readonly boundCounts = new Map<string, { messages: number, bytes: number }>()
  /** Outbox entries per pair (sender\nreceiver), staged included: a pair with any goes through the outbox (FIFO). */
  private readonly pendingPairs = new Map<string, number>()
  /** Outbox orders per message id: one number for a message with one copy here (most), a Set for more. */
  private readonly outboxByMessage = new Map<string, number | Set<number>>()
  /** Inbox entries being persisted, per receiver: counted against its capacity. */
  private readonly reserved = new Map<AgentId, number>()
  private readonly inbox = new Map<string, InboxMeta>()
  /** Rows accepting messages from peers, held while their agents handle them, by inbox key. */
  private readonly held: HeldEntries<HeldReceipt>
  /** Messages from peers whose rows were released on their own and whose handler has not returned, by inbox key. */
  private readonly receipts = new Map<string, Receipt>()
  /**
   * What became of messages that left the outbox or reached an inbox here (delivered,
   * handled, dead-lettered), oldest evicted first; copies still in the outbox are described
   * from the outbox and the scheduler instead ({@link status}).
   */
  private readonly statuses: StatusTable
  private readonly resolving = new Set<AgentId>()
  private readonly notFound = new Map<AgentId, number>()
  /** Routes learned from the stored outbox and inboxes at start-up, applied once the registry runs ({@link start}). */
  private routeHints: Array<[AgentId, string]> = []
  private pumpScheduled = false
  private readonly alarm: Alarm
  private maintenance?: NodeJS.Timeout
  private running = false

  constructor (private readonly options: DeliveryServiceOptions) {
    const c = options.config
    this.log = options.logger ?? silentLogger()
    this.clock = options.clock ?? Date.now
    // Durability off (benchmarks): the same rows in a database in memory, so that everything
    // but surviving a crash behaves the same.
    const db: Pick<NodeStorage, 'db' | 'sublevel'> = c.durable ? options.storage : inMemoryRows()
    this.rows = db
    this.outboxRows = db.sublevel('outbox')
    this.inboxRows = db.sublevel('inbox')
    this.handledRows = db.sublevel('handled-log')

    this.scheduler = new OutboxScheduler({
      backoff: { baseMs: c.retryBaseMs, factor: c.retryFactor, capMs: c.retryCapMs },
      breaker: { threshold: c.breakerThreshold, coolDownMs: c.breakerCoolDownMs },
      maxInFlightPerPeer: c.maxInFlightPerPeer
    }, options.random ?? Math.random)
    this.recentLog = new MessageLog(options.recentLimit ?? 1000)
    this.alarm = new Alarm(() => { this.pump() }, this.clock)
    this.statuses = new StatusTable(options.statusLimit ?? 100_000)
    this.held = new HeldEntries<HeldReceipt>(EARLY_HOLD_MS, (key, h) => { this.releaseReceipt(key, h) })
    if (options.metrics !== undefined) {
      this.metrics = new DeliveryMetrics(options.metrics, {
        outboxMessages: () => this.outbox.size,
        outboxBytes: () => this.outboxBytes,
        inboxMessages: () => this.inbox.size,
        deadLetters: () => this.deadLetters.size,
        peers: () => this.scheduler.peerStates(this.clock())
      })
    }
    this.deadLetters = new DeadLetterQueue(db.sublevel('dlq'), c.deadLetterMax, n => { this.metrics?.deadLettersEvicted.inc(n) })
    this.receiver = new ReceiverState(db.sublevel('inbox-pairs'), db.sublevel('inbox-seen'), {
      retentionMs: c.maxTtlMs + 60_000,
      generation: () => this.commits.generation
    })
    this.commits = new GroupCommit(db.db, {
      sync: c.sync,
      onBatch: (rows, ms) => {
        this.metrics?.commitRows.observe(rows)
        this.metrics?.commitSeconds.observe(ms / 1000)
      }
    })
  }

  // --- life cycle -------------------------------------------------------------------

  /**
   * Reads the stored state: bumps the run counter (orders stay increasing across
   * restarts), loads the dead-letter index and the outbox (sent once {@link start} runs).
   * Call before agents are restored.
   */
  async open (): Promise<void> {
    const meta = this.options.storage.meta
    const stored = await meta.get(RUN_KEY)
    const previous = stored === undefined ? 0 : new DataView(stored.buffer, stored.byteOffset, stored.byteLength).getUint32(0)
    const run = previous + 1
    if (run > MAX_RUN) throw new RangeError(`the node has been started ${previous} times: its message orders are exhausted`)
    const bytes = new Uint8Array(4)
    new DataView(bytes.buffer).setUint32(0, run)
    await meta.put(RUN_KEY, bytes)
    this.counter = new OrderCounter(run)
    const dl = await this.deadLetters.load()
    if (dl.corrupt > 0) this.log.error({ corrupt: dl.corrupt }, 'dropped unreadable dead letters')
    let loaded = 0
    for await (const [key, value] of this.outboxRows.iterator()) {
      const order = parseOrderKey(key)
      let record: OutboxRecord
      try {
        if (Number.isNaN(order)) throw new Error(`bad key ${key}`)
        record = decodeOutboxRecord(value)
      } catch (err) {
        this.log.error({ key, err: (err as Error).message }, 'dropping an unreadable outbox entry')
        await this.outboxRows.del(key)
        continue
      }
      this.track(order, key, record)
      this.scheduler.add({ order, messageId: record.messageId, sender: record.sender, receiver: record.receiver, deadline: record.deadline })
      if (record.via !== undefined) this.routeHints.push([record.receiver, record.via])
      loaded++
    }
    if (loaded > 0 || dl.loaded > 0) this.log.info({ outbox: loaded, deadLetters: dl.loaded, run }, 'delivery state loaded')
  }

  /**
   * Hands the messages left in local agents' durable inboxes back to them (oldest first).
   * Call once the agents are restored; messages of agents no longer here are dead-lettered.
   */
  async restoreInbox (): Promise<number> {
    const orphans: Array<{ key: string, cause: DeadLetterCause, reason: string }> = []
    let restored = 0
    for await (const [key, value] of this.inboxRows.iterator()) {
      let r
      try {
        r = decodeInboxRecord(value)
      } catch (err) {
        this.log.error({ key, err: (err as Error).message }, 'dropping an unreadable inbox entry')
        await this.inboxRows.del(key)
        continue
      }
      const message = decodeMessage(r.message, this.options.limits)
      // Its handler's reply goes back where it came from, even to an API client no registry lists.
      if (r.from !== '' && r.sender !== SYSTEM_AGENT) this.routeHints.push([r.sender, r.from])
      const result = this.options.runtime.deliver(r.receiver, message, key, true)
      if (result === 'queued') {
        this.inbox.set(key, metaOf(message, r.receiver, r.from))
        this.setStatus(r.messageId, r.sender, r.receiver, { state: 'delivered', ...(r.from !== '' ? { peer: r.from } : {}) })
        restored++
      } else {
        orphans.push({
          key,
          cause: result === 'no-such-agent' ? 'agent-removed' : 'agent-failed',
          reason: result === 'no-such-agent' ? `agent ${r.receiver} is no longer on this node` : `agent ${r.receiver} is not running`
        })
      }
    }
    for (const o of orphans) await this.disposeInbox([o.key], o.cause, o.reason)
    if (restored > 0) this.log.info({ restored }, 'inbox messages handed back to their agents')
    return restored
  }

  /** Starts the link and sending. */
  async start (): Promise<void> {
    if (this.running) return
    for (const [agent, peer] of this.routeHints) {
      if (peer !== this.options.self && this.options.routes.lookup(agent) === undefined) this.options.routes.learn(agent, peer)
    }
    this.routeHints = []
    await this.options.link.start({
      receive: (from, frame, answer, bytes) => { this.receive(from, frame, answer, bytes) },
      acked: (peer, order, ack) => { this.onAck(peer, order, ack) },
      failed: (peer, orders, reason) => { this.onFailed(peer, orders, reason) }
    })
    this.running = true
    this.maintenance = setInterval(() => { void this.maintain() }, MAINTENANCE_MS)
    this.maintenance.unref()
    this.kick()
  }

  /** Stops sending; what is not delivered stays in the outbox for the next start. */
  async stop (): Promise<void> {
    this.running = false
    clearInterval(this.maintenance)
    this.alarm.cancel()
    await this.options.link.stop()
    this.held.releaseAll()
    await this.commits.flushed()
  }

  /** Resolves once every write staged so far is on disk. */
  async flushed (): Promise<void> {
    this.held.releaseAll()
    await this.commits.flushed()
  }

  /**
   * A sublevel of the database delivery writes to (the node's, or one in memory when
   * `durable` is false), for a component whose rows go through {@link write}.
   */
  sublevel (name: string): Sublevel {
    return this.rows.sublevel(name)
  }

  /** Writes rows of another component in the group commit (ordered with delivery's own). */
  async write (ops: StorageOp[]): Promise<void> {
    const txn = new Txn()
    txn.ops.push(...ops)
    await this.commit(txn)
  }

  // --- accepting ----------------------------------------------------------------------

  /**
   * Accepts validated, stamped messages: resolves once each copy (one per receiver) is
   * durable, in an outbox entry or a local agent's inbox (API clients on this node get
   * theirs in memory once the write is done), in one write with `ops` (rows of another
   * component, e.g. the timer that fired them).
   * @throws OutboxFullError when the outbox is at its bounds (nothing is accepted)
   */
  async accept (messages: readonly AclMessage[], ops: readonly StorageOp[] = []): Promise<void> {
    this.checkBounds(messages)
    const txn = new Txn()
    for (const op of ops) txn.ops.push(op)
    for (const m of messages) this.stage(m, txn)
    await this.commit(txn)
  }

  /**
   * {@link accept} for one message of an API client, whose copies for peers are sent while
   * their outbox rows are written (SPEC.md §1.1): the write is then off a request's path.
   * It resolves, as `accept` does, only once the rows are on disk. Should the write fail, a
   * copy may have been delivered although the client is told it was not accepted; the
   * client cannot tell that from a crash of this node after the write and before its answer.
   * @throws OutboxFullError
   */
  async acceptFromClient (message: AclMessage): Promise<void> {
    this.checkBounds([message])
    const txn = new Txn()
    const early = this.handOverEarly(message, txn)
    if (early !== undefined) {
      await early
      return
    }
    this.stage(message, txn, 0, true)
    await this.commit(txn)
  }

  /**
   * An API client's message for one agent on this node is handed to the agent at once,
   * and its rows held while the agent handles it, as a peer's message is (SPEC.md §1.1):
   * a handler that returns within the hold takes them into its own batch, so the message
   * costs one write and no inbox row instead of an inbox row written, then deleted by a
   * second write. The client's accept waits for that batch (or for the rows written on
   * their own once the hold is over). Returns undefined (nothing staged) when the message
   * takes the usual path: several receivers, a client or the AMS, a pair with messages in
   * the outbox, a full or stopped agent, or a deadline already past.
   */
  private handOverEarly (message: AclMessage, txn: Txn): Promise<void> | undefined {
    if (message.receivers.length !== 1) return undefined
    const r = message.receivers[0]
    const now = this.clock()
    const deadline = this.deadlineOf(message, now)
    if (r === SYSTEM_AGENT || deadline <= now || this.options.clients.has(r) || !this.inboxTakes(message.sender, r)) return undefined
    const key = this.inboxKey(r)
    if (this.options.runtime.deliver(r, message, key, true) !== 'queued') return undefined
    this.metrics?.acceptedBy.inbox.inc()
    this.options.observer?.observe(message, true, txn.ops)
    this.inbox.set(key, metaOf(message, r, ''))
    return new Promise<void>((resolve, reject) => {
      txn.after.push(ok => {
        if (!ok) {
          reject(new Error(`message ${message.messageId} could not be written`))
          return
        }
        this.setStatus(message.messageId, message.sender, r, { state: 'delivered' })
        this.record('local', 'delivered', message)
        resolve()
      })
      this.held.hold(key, { txn, at: now, message, receiver: r, from: '', deadline })
    })
  }

  /**
   * An agent's handler returned: its message leaves the inbox and what it sent enters
   * the outbox (or inboxes), in one batch with `state` (the rows of what it changed in its
   * store and timers). `sent` are validated, stamped messages. For a message from a peer
   * whose rows are still being gathered, this batch is theirs, and the inbox row is not
   * written at all; for one whose rows are being written, it waits for them, and is
   * dropped if they failed (the peer sends the message again).
   */
  handled (agentId: AgentId, token: string | undefined, sent: readonly AclMessage[], state: readonly StorageOp[] = []): void {
    const txn = new Txn()
    if (token !== undefined) {
      const h = this.held.take(token)
      if (h !== undefined) {
        // Its rows join this batch, ahead of the results; its inbox row is never written.
        for (const op of h.txn.ops) txn.ops.push(op)
        this.stageHeldPair(h, txn.ops)
        for (const f of h.txn.after) txn.after.push(f)
      } else {
        const receipt = this.receipts.get(token)
        if (receipt?.failed === true) {
          // The peer was told the rows failed: it sends the message again, to be handled again.
          this.receipts.delete(token)
          this.inbox.delete(token)
          this.log.warn({ agentId, dropped: sent.length }, 'results of a message whose inbox write failed dropped')
          return
        }
        if (receipt !== undefined) {
          // Its rows are being written: the results go after them, and only if they were.
          receipt.then = ok => { if (ok) this.handled(agentId, token, sent, state); else this.inbox.delete(token) }
          return
        }
        txn.ops.push({ type: 'del', sublevel: this.inboxRows, key: token })
      }
    }
    for (const op of state) txn.ops.push(op)
    const now = this.clock()
    if (token !== undefined) {
      const meta = this.inbox.get(token)
      this.inbox.delete(token)
      if (meta !== undefined) {
        // Handled once the write that removes it from the inbox is done.
        txn.after.push(ok => { if (ok) this.setStatus(meta.messageId, meta.sender, agentId, { state: 'handled', ...(meta.from !== '' ? { peer: meta.from } : {}) }) })
        if (this.options.config.handledLog) {
          txn.ops.push({
            type: 'put',
            sublevel: this.handledRows,
            key: orderKey(this.counter.next()),
            value: packr.pack([1, agentId, meta.messageId, meta.sender, meta.performative, meta.inReplyTo ?? null, now, sent.map(m => m.messageId), meta.conversationId ?? null])
          })
        }
      }
      this.metrics?.handled.inc()
    }
    for (const m of sent) this.stage(m, txn)
    this.commitThen(txn)
  }

  /**
   * An agent will not handle these inbox entries (it failed, or was removed): they go to
   * the dead-letter queue and their senders get FAILURE.
   */
  async disposeInbox (tokens: readonly string[], cause: DeadLetterCause, reason: string): Promise<void> {
    if (tokens.length === 0) return
    // Entries handed over early: their rows first reach the disk (or fail to: then the peer
    // was told, and nothing is to be done here).
    if (tokens.some(t => this.held.has(t) || this.receipts.has(t))) {
      for (const t of tokens) this.held.releaseOne(t)
      await this.commits.flushed()
      for (const t of tokens) this.receipts.delete(t)
    }
    const values = await this.inboxRows.getMany([...tokens])
    const txn = new Txn()
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]
      this.inbox.delete(token)
      const bytes = values[i]
      if (bytes === undefined) continue
      txn.ops.push({ type: 'del', sublevel: this.inboxRows, key: token })
      try {
        const r = decodeInboxRecord(bytes)
        this.stageDeadLetter({ receiver: r.receiver, sender: r.sender, messageId: r.messageId, message: r.message }, cause, reason, 0, r.from !== '' ? r.from : undefined, txn)
      } catch (err) {
        this.log.error({ token, err: (err as Error).message }, 'dropping an unreadable inbox entry')
      }
    }
    await this.commit(txn)
  }

  /** Membership says `peer` is alive again: its breaker half-opens and its waiting entries go now. */
  peerBack (peer: string): void {
    this.scheduler.peerBack(peer, this.clock())
    this.kick()
  }

  /** Routes changed (e.g. the registry learned agents): waiting entries are tried again now. */
  routesChanged (): void {
    this.notFound.clear()
    this.scheduler.wakeAll(this.clock())
    this.kick()
  }

  // --- queries --------------------------------------------------------------------------

  /** Recent messages seen by this node, newest first. */
  recent (query: { limit?: number, agent?: AgentId, conversationId?: string }): MessageRecord[] {
    return this.recentLog.query(query)
  }

  /** Adds a line to the recent-message log (e.g. the router's rejections). */
  record (direction: MessageRecord['direction'], status: MessageRecord['status'], message: AclMessage, peer?: string, reason?: string): void {
    if (this.recentLog.capacity === 0) return
    const r: MessageRecord = { at: this.clock(), direction, status, message }
    if (peer !== undefined) r.peer = peer
    if (reason !== undefined) r.reason = reason
    this.recentLog.add(r)
  }

  /** What this node knows of a message, per receiver; undefined when nothing. */
  async status (messageId: string): Promise<MessageStatus | undefined> {
    const known = this.statuses.get(messageId)
    const receivers = new Map<AgentId, ReceiverStatus>((known?.receivers ?? []).map(r => [r.receiver, r]))
    let sender = known?.sender
    const orders = this.outboxByMessage.get(messageId)
    for (const order of typeof orders === 'number' ? [orders] : orders ?? []) {
      const o = this.outbox.get(order)
      const s = this.scheduler.status(order)
      if (o === undefined) continue
      sender ??= o.record.sender
      const r: ReceiverStatus = { receiver: o.record.receiver, state: s?.state ?? 'queued', at: o.at }
      if (s?.peer !== undefined) r.peer = s.peer
      if (s !== undefined) r.attempts = s.attempts
      if (s?.lastError !== undefined) r.reason = s.lastError
      receivers.set(o.record.receiver, r)
    }
    for (const d of await this.deadLetters.ofMessage(messageId)) {
      sender ??= d.sender
      const r: ReceiverStatus = { receiver: d.receiver, state: 'dead-lettered', at: d.at, reason: d.reason, cause: d.cause, attempts: d.attempts, deadLetterId: d.id }
      if (d.peer !== undefined) r.peer = d.peer
      receivers.set(d.receiver, r)
    }
    if (receivers.size === 0) return undefined
    return { messageId, ...(sender !== undefined ? { sender } : {}), receivers: [...receivers.values()] }
  }

  /** Delivery state per peer (circuit breakers, entries in flight), for `GET /cluster/peers`. */
  peers (): PeerDelivery[] {
    return this.scheduler.peerStates(this.clock())
  }

  /** Whether a copy of this message is still in the outbox (not delivered, not given up). */
  pending (messageId: string): boolean {
    return this.outboxByMessage.has(messageId)
  }

  /** Entries waiting in the outbox for `peer` (counted where they were accepted for it). */
  queuedFor (peer: string): number {
    return this.boundCounts.get(peer)?.messages ?? 0
  }

  summary (): { outbox: { messages: number, bytes: number }, inbox: number, deadLetters: number } {
    return { outbox: { messages: this.outbox.size, bytes: this.outboxBytes }, inbox: this.inbox.size, deadLetters: this.deadLetters.size }
  }

  /** Handled-log lines after `after` (a key), oldest first; empty unless `delivery.handledLog`. */
  async handledLog (options: { after?: string, limit?: number } = {}): Promise<HandledEntry[]> {
    const out: HandledEntry[] = []
    const range = options.after !== undefined ? { gt: options.after, limit: options.limit ?? 1000 } : { limit: options.limit ?? 1000 }
    for await (const [key, value] of this.handledRows.iterator(range)) {
      const v = packr.unpack(value) as [1, string, string, string, string, string | null, number, string[], string | null]
      const e: HandledEntry = { key, receiver: v[1], messageId: v[2], sender: v[3], performative: v[4], at: v[6], sent: v[7] }
      if (v[5] !== null) e.inReplyTo = v[5]
      if (v[8] !== null) e.conversationId = v[8]
      out.push(e)
    }
    return out
  }

  // --- dead letters -------------------------------------------------------------------

  async listDeadLetters (query: DeadLetterQuery): Promise<{ entries: DeadLetterRecord[], total: number }> {
    return await this.deadLetters.list(query)
  }

  /** @throws DeadLetterNotFoundError */
  async getDeadLetter (id: string): Promise<DeadLetterRecord> {
    const r = await this.deadLetters.get(id)
    if (r === undefined) throw new DeadLetterNotFoundError(id)
    return r
  }

  /**
   * Sends a dead letter again, to its receiver, with a new deadline (now + ttl): it leaves
   * the queue and enters the outbox in one batch. The receiving node checks its seen set,
   * so a message it did accept before is not handled twice.
   * @returns the outbox entry's order
   * @throws DeadLetterNotFoundError, OutboxFullError
   */
  async replayDeadLetter (id: string): Promise<{ messageId: string, receiver: AgentId }> {
    const r = await this.getDeadLetter(id)
    this.checkCount(1, r.message.byteLength, this.options.routes.lookup(r.receiver) ?? '')
    const txn = new Txn()
    txn.ops.push(...this.deadLetters.removeOps(id))
    const deadline = this.clock() + this.options.config.ttlMs
    this.stageOutbox({ receiver: r.receiver, sender: r.sender, messageId: r.messageId, deadline, flags: DELIVER_FLAGS.replay, message: r.message }, txn)
    await this.commit(txn)
    return { messageId: r.messageId, receiver: r.receiver }
  }

  /** @throws DeadLetterNotFoundError */
  async deleteDeadLetter (id: string): Promise<void> {
    if (!this.deadLetters.has(id)) throw new DeadLetterNotFoundError(id)
    const txn = new Txn()
    txn.ops.push(...this.deadLetters.removeOps(id))
    await this.commit(txn)
  }

  /** Deletes every dead letter matching `query` (all of them without one). @returns how many */
  async purgeDeadLetters (query: Omit<DeadLetterQuery, 'limit'> = {}): Promise<number> {
    const { entries } = await this.deadLetters.list({ ...query, limit: Infinity })
    const txn = new Txn()
    for (const e of entries) txn.ops.push(...this.deadLetters.removeOps(e.id))
    await this.commit(txn)
    return entries.length
  }

  // --- internals: staging -------------------------------------------------------------

  /** Stages `txn`; resolves once it is written (its `after` callbacks have run), rejects with the write's error. */
  private async commit (txn: Txn): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.commitThen(txn, (err) => {
        if (err === undefined) resolve()
        else reject(err)
      })
    })
  }

  /**
   * Stages `txn` without a promise (for the per-message paths nobody awaits: a promise and
   * its catch handler were two allocations a message): its `after` callbacks run once it is
   * written, then `done`. A failed write is logged here.
   */
  private commitThen (txn: Txn, done?: (err?: Error) => void): void {
    if (txn.ops.length === 0) {
      this.runAfter(txn, undefined)
      done?.()
      return
    }
    this.commits.stage(txn.ops, (err) => {
      if (err !== undefined) this.log.error({ err: err.message, rows: txn.ops.length }, 'delivery write failed')
      this.runAfter(txn, err)
      done?.(err)
    })
  }

  private runAfter (txn: Txn, err: Error | undefined): void {
    for (const f of txn.after) {
      try {
        f(err === undefined)
      } catch (e) {
        this.log.error({ err: e }, 'delivery commit callback threw')
      }
    }
  }

  /** One message, every receiver: an API client here, a local inbox, or the outbox. */
  private stage (message: AclMessage, txn: Txn, flags = 0, sendWhileWriting = false): void {
    const now = this.clock()
    let encoded: Uint8Array | undefined
    const deadline = this.deadlineOf(message, now)
    this.options.observer?.observe(message, true, txn.ops)
    for (const r of message.receivers) {
      if (r === SYSTEM_AGENT) {
        // The AMS is the node itself: what agents tell it (a NOT-UNDERSTOOD about a FAILURE
        // it wrote) ends here, logged, never answered.
        this.log.debug({ messageId: message.messageId, sender: message.sender, performative: message.performative }, 'message to the AMS taken')
        this.record('local', 'delivered', message)
        continue
      }
      if (this.options.clients.has(r)) {
        this.metrics?.acceptedBy.client.inc()
        txn.after.push(ok => {
          if (!ok) return
          this.options.clients.deliver(r, message)
          this.record('local', 'delivered', message)
        })
        continue
      }
      encoded ??= encodeMessage(message)
      const copy = { receiver: r, sender: message.sender, messageId: message.messageId, deadline, flags, message: encoded }
      if (deadline <= now) {
        this.stageDeadLetter(copy, 'expired', `its reply-by (${new Date(deadline).toISOString()}) had passed when it was sent`, 0, undefined, txn)
        continue
      }
      if (flags === 0 && this.inboxTakes(message.sender, r)) {
        this.metrics?.acceptedBy.inbox.inc()
        this.stageInbox(r, message, encoded, '', deadline, txn)
        continue
      }
      this.metrics?.acceptedBy.outbox.inc()
      this.stageOutbox(copy, txn, sendWhileWriting)
    }
  }

  /**
   * Whether a copy from `sender` goes straight into `receiver`'s inbox: an agent on this
   * node with room, and no earlier copy of the pair still in the outbox (FIFO, SPEC.md §1.5).
   */
  private inboxTakes (sender: AgentId, receiver: AgentId): boolean {
    return this.options.runtime.has(receiver) && (this.pendingPairs.get(pairKey(sender, receiver)) ?? 0) === 0 &&
      this.options.runtime.admit(receiver, this.reserved.get(receiver) ?? 0) === 'queued'
  }

  private stageOutbox (record: OutboxRecord, txn: Txn, sendWhileWriting = false): void {
    const order = this.counter.next()
    const via = this.options.routes.lookup(record.receiver)
    // The records given here are built for this call (never shared): set in place.
    if (via !== undefined && via !== this.options.self && record.via === undefined) record.via = via
    const key = orderKey(order)
    txn.ops.push({ type: 'put', sublevel: this.outboxRows, key, value: encodeOutboxRecord(record) })
    this.track(order, key, record, via)
    const item = { order, messageId: record.messageId, sender: record.sender, receiver: record.receiver, deadline: record.deadline }
    if (sendWhileWriting) {
      this.scheduler.add(item)
      this.kick()
    }
    txn.after.push(ok => {
      if (!ok) {
        if (sendWhileWriting) this.scheduler.remove(order, this.clock(), { inFlight: true })
        this.untrack(order)
        return
      }
      if (sendWhileWriting) return
      this.scheduler.add(item)
      this.kick()
    })
  }

  /** Puts a message in a local agent's durable inbox; the agent gets it once written. */
  private stageInbox (receiver: AgentId, message: AclMessage, encoded: Uint8Array, from: string, deadline: number, txn: Txn): void {
    const key = this.inboxKey(receiver)
    txn.ops.push({
      type: 'put',
      sublevel: this.inboxRows,
      key,
      value: encodeInboxRecord({ receiver, sender: message.sender, messageId: message.messageId, from, deadline, message: encoded })
    })
    this.reserve(receiver, 1)
    txn.after.push(ok => {
      this.reserve(receiver, -1)
      if (!ok) return
      this.inbox.set(key, metaOf(message, receiver, from))
      this.setStatus(message.messageId, message.sender, receiver, { state: 'delivered', ...(from !== '' ? { peer: from } : {}) })
      this.record(from !== '' ? 'in' : 'local', 'delivered', message, from !== '' ? from : undefined)
      const result = this.options.runtime.deliver(receiver, message, key, true)
      if (result !== 'queued') {
        // The agent failed or went away while the entry was being written.
        void this.disposeInbox([key], result === 'no-such-agent' ? 'agent-removed' : 'agent-failed',
          result === 'no-such-agent' ? `agent ${receiver} was removed` : `agent ${receiver} is not running`).catch(() => {})
      }
    })
  }

  /** A new inbox key for `receiver`: its entries sort oldest first. */
  private inboxKey (receiver: AgentId): string {
    return `${receiver}\0${orderKey(this.counter.next())}`
  }

  /** Dead-letters one copy and tells its sender with FAILURE, in `txn`. */
  private stageDeadLetter (
    copy: Pick<OutboxRecord, 'receiver' | 'sender' | 'messageId' | 'message'>, cause: DeadLetterCause, reason: string, attempts: number,
    peer: string | undefined, txn: Txn
  ): void {
    const now = this.clock()
    const record: DeadLetterRecord = {
      id: this.deadLetters.newId(now), at: now, receiver: copy.receiver, sender: copy.sender, messageId: copy.messageId, cause, reason, attempts, message: copy.message
    }
    if (peer !== undefined) record.peer = peer
    txn.ops.push(...this.deadLetters.addOps(record))
    this.metrics?.deadLettered.inc({ cause })
    this.setStatus(copy.messageId, copy.sender, copy.receiver, { state: 'dead-lettered', reason, cause, attempts, deadLetterId: record.id, ...(peer !== undefined ? { peer } : {}) })
    let original: AclMessage
    try {
      original = decodeMessage(copy.message, this.options.limits)
    } catch (err) {
      this.log.error({ messageId: copy.messageId, err: (err as Error).message }, 'dead letter not readable: no FAILURE sent')
      return
    }
    this.record(peer !== undefined ? 'out' : 'local', 'dead-letter', original, peer, reason)
    this.log.debug({ messageId: copy.messageId, receiver: copy.receiver, cause, reason }, 'message dead-lettered')
    // Never answer a report from the node itself (no loops of FAILUREs).
    if (copy.sender === SYSTEM_AGENT) return
    let report: AclMessage
    try {
      report = validateMessage(failure(original, `message to ${copy.receiver} not delivered: ${reason}`, SYSTEM_AGENT, { messageId: this.options.newId(), createdAt: now }), this.options.limits)
    } catch (err) {
      this.log.error({ messageId: copy.messageId, err: (err as Error).message }, 'could not build the FAILURE for a dead letter')
      return
    }
    this.stage(report, txn)
  }

  private deadlineOf (message: AclMessage, now: number): number {
    const cap = now + this.options.config.maxTtlMs
    return Math.min(cap, message.replyBy ?? now + this.options.config.ttlMs)
  }

  // --- internals: bounds and bookkeeping --------------------------------------------

  /** @throws OutboxFullError when accepting these messages would pass a bound. */
  private checkBounds (messages: readonly AclMessage[]): void {
    // Most calls are one message to one receiver: checked without building the per-peer map.
    if (messages.length === 1 && messages[0].receivers.length === 1) {
      const m = messages[0]
      const r = m.receivers[0]
      if (this.options.clients.has(r) || this.options.runtime.has(r)) return
      const size = approximateSize(m)
      this.checkTotals(1, size)
      this.checkCount(1, size, this.options.routes.lookup(r) ?? '')
      return
    }
    const perPeer = new Map<string, { messages: number, bytes: number }>()
    let count = 0
    let bytes = 0
    for (const m of messages) {
      const size = approximateSize(m)
      for (const r of m.receivers) {
        if (this.options.clients.has(r) || this.options.runtime.has(r)) continue
        const peer = this.options.routes.lookup(r) ?? ''
        const p = perPeer.get(peer) ?? { messages: 0, bytes: 0 }
        p.messages++
        p.bytes += size
        perPeer.set(peer, p)
        count++
        bytes += size
      }
    }
    if (count === 0) return
    this.checkTotals(count, bytes)
    for (const [peer, p] of perPeer) this.checkCount(p.messages, p.bytes, peer)
  }

  /** @throws OutboxFullError when `count` more copies of `bytes` in all would pass the outbox's total bounds. */
  private checkTotals (count: number, bytes: number): void {
    const c = this.options.config
    if (this.outbox.size + count > c.outboxMaxMessages) throw new OutboxFullError(`${this.outbox.size} messages, at most ${c.outboxMaxMessages}`, this.retryAfterMs())
    if (this.outboxBytes + bytes > c.outboxMaxBytes) throw new OutboxFullError(`${this.outboxBytes} bytes, at most ${c.outboxMaxBytes}`, this.retryAfterMs())
  }

  private checkCount (messages: number, bytes: number, peer: string): void {
    const c = this.options.config
    const held = this.boundCounts.get(peer) ?? { messages: 0, bytes: 0 }
    const who = peer === '' ? 'messages to receivers not yet located' : `node ${peer}`
    if (held.messages + messages > c.outboxMaxMessagesPerPeer) throw new OutboxFullError(`${held.messages} messages for ${who}, at most ${c.outboxMaxMessagesPerPeer}`, this.retryAfterMs())
    if (held.bytes + bytes > c.outboxMaxBytesPerPeer) throw new OutboxFullError(`${held.bytes} bytes for ${who}, at most ${c.outboxMaxBytesPerPeer}`, this.retryAfterMs())
  }

  private retryAfterMs (): number {
    return Math.max(1000, this.options.config.retryCapMs)
  }

  /** Counts an outbox entry in the bounds; `via` is where the receiver's route points now, when the caller looked it up already. */
  private track (order: number, key: string, record: OutboxRecord, via = this.options.routes.lookup(record.receiver)): void {
    const bound = this.options.runtime.has(record.receiver) ? this.options.self : (via ?? '')
    const pair = pairKey(record.sender, record.receiver)
    this.outbox.set(order, { record, bound, key, pair, at: this.clock() })
    this.outboxBytes += record.message.byteLength
    let b = this.boundCounts.get(bound)
    if (b === undefined) {
      b = { messages: 0, bytes: 0 }
      this.boundCounts.set(bound, b)
    }
    b.messages++
    b.bytes += record.message.byteLength
    this.pendingPairs.set(pair, (this.pendingPairs.get(pair) ?? 0) + 1)
    const orders = this.outboxByMessage.get(record.messageId)
    if (orders === undefined) this.outboxByMessage.set(record.messageId, order)
    else if (typeof orders === 'number') this.outboxByMessage.set(record.messageId, new Set([orders, order]))
    else orders.add(order)
    this.updateBackpressure()
  }

  private untrack (order: number): Outgoing | undefined {
    const o = this.outbox.get(order)
    if (o === undefined) return undefined
    this.outbox.delete(order)
    const record = o.record
    this.outboxBytes -= record.message.byteLength
    const b = this.boundCounts.get(o.bound)
    if (b !== undefined) {
      b.messages--
      b.bytes -= record.message.byteLength
      if (b.messages <= 0) this.boundCounts.delete(o.bound)
    }
    const n = (this.pendingPairs.get(o.pair) ?? 1) - 1
    if (n <= 0) this.pendingPairs.delete(o.pair)
    else this.pendingPairs.set(o.pair, n)
    const orders = this.outboxByMessage.get(record.messageId)
    if (orders === order) {
      this.outboxByMessage.delete(record.messageId)
    } else if (typeof orders === 'object') {
      orders.delete(order)
      if (orders.size === 1) this.outboxByMessage.set(record.messageId, orders.values().next().value as number)
    }
    this.updateBackpressure()
    return o
  }

  private updateBackpressure (): void {
    const c = this.options.config
    this.options.runtime.setSendBackpressure(this.outbox.size >= c.outboxMaxMessages || this.outboxBytes >= c.outboxMaxBytes)
  }

  private reserve (receiver: AgentId, n: number): void {
    const v = (this.reserved.get(receiver) ?? 0) + n
    if (v <= 0) this.reserved.delete(receiver)
    else this.reserved.set(receiver, v)
  }

  private setStatus (messageId: string, sender: AgentId, receiver: AgentId, s: Omit<ReceiverStatus, 'receiver' | 'at'>): void {
    this.statuses.record(messageId, sender, { receiver, at: this.clock(), ...s })
  }

  /** An outbox entry changed state (sent, failed, refused): its status's `at`. */
  private touch (order: number, now: number): void {
    const o = this.outbox.get(order)
    if (o !== undefined) o.at = now
  }

  // --- internals: sending ---------------------------------------------------------------

  private kick (): void {
    if (this.pumpScheduled || !this.running) return
    this.pumpScheduled = true
    setImmediate(() => { this.pump() })
  }

  private pump (): void {
    this.pumpScheduled = false
    if (!this.running) return
    const now = this.clock()
    for (const g of this.scheduler.expire(now)) this.giveUp(g)
    const { batches, givenUp } = this.scheduler.take(now, this.route, TAKE_PER_PUMP)
    for (const g of givenUp) this.giveUp(g)
    for (const [peer, items] of batches) {
      if (peer === this.options.self) {
        this.deliverLocally(items)
        continue
      }
      const entries: OutgoingEntry[] = []
      for (const s of items) {
        const o = this.outbox.get(s.item.order)
        if (o === undefined) continue
        const r = o.record
        entries.push({ header: { receiver: r.receiver, deadline: r.deadline, order: s.item.order, after: s.after, flags: r.flags }, message: r.message })
        o.at = now
      }
      this.options.link.send(peer, entries)
    }
    this.arm()
  }

  /** Sets the one timer for the scheduler's next deadline or retry. */
  private arm (): void {
    const next = this.scheduler.nextWakeAt()
    if (next === undefined) return
    if (next === -Infinity) this.kick()
    else this.alarm.setFor(next)
  }

  /** Where a receiver is now, for the scheduler. */
  private readonly route = (receiver: AgentId): RouteAnswer => {
    const self = this.options.self
    if (this.options.runtime.has(receiver) || this.options.clients.has(receiver)) return { peer: self }
    const peer = this.options.routes.lookup(receiver)
    if (peer === undefined || peer === self) {
      const until = this.notFound.get(receiver)
      if (until !== undefined && until > this.clock()) return { refuse: `no agent ${receiver} on any node of the cluster` }
      this.lookUp(receiver)
      return { wait: `looking up where agent ${receiver} runs` }
    }
    const down = this.options.health.downReason(peer)
    if (down !== undefined) return { wait: down, peer }
    return { peer }
  }

  private lookUp (receiver: AgentId): void {
    if (this.resolving.has(receiver)) return
    this.resolving.add(receiver)
    this.options.routes.resolve(receiver, { exclude: this.options.self }).then(found => {
      if (found === undefined) this.notFound.set(receiver, this.clock() + NOT_FOUND_MS)
    }, (err: Error) => {
      this.log.debug({ receiver, err: err.message }, 'lookup failed')
      this.notFound.set(receiver, this.clock() + NOT_FOUND_MS)
    }).finally(() => {
      this.resolving.delete(receiver)
      this.scheduler.wakeAll(this.clock())
      this.kick()
    })
  }

  /** Outbox entries for this node: into the receivers' inboxes (outbox row out, inbox row in, one batch). */
  private deliverLocally (items: Sendable[]): void {
    const txn = new Txn()
    const now = this.clock()
    for (const s of items) {
      const order = s.item.order
      const o = this.outbox.get(order)
      if (o === undefined) continue
      const r = o.record
      if (this.options.clients.has(r.receiver)) {
        const message = decodeMessage(r.message, this.options.limits)
        txn.ops.push({ type: 'del', sublevel: this.outboxRows, key: o.key })
        txn.after.push(ok => {
          if (!ok) return
          this.options.clients.deliver(r.receiver, message)
          this.setStatus(r.messageId, r.sender, r.receiver, { state: 'delivered' })
          this.delivered(order, 'local', 'ok')
        })
        continue
      }
      const admission = this.options.runtime.admit(r.receiver, this.reserved.get(r.receiver) ?? 0)
      if (admission !== 'queued') {
        this.settle(order, admission, `agent ${r.receiver} ${admission === 'mailbox-full' ? 'has a full inbox' : admission === 'not-running' ? 'is not running' : 'is not on this node'}`, now)
        continue
      }
      const message = decodeMessage(r.message, this.options.limits)
      txn.ops.push({ type: 'del', sublevel: this.outboxRows, key: o.key })
      this.stageInbox(r.receiver, message, r.message, '', r.deadline, txn)
      txn.after.push(ok => { this.delivered(order, 'local', ok ? 'ok' : 'not-running') })
    }
    this.commitThen(txn)
  }

  /** A local delivery's outcome, as if a peer had acked it. */
  private delivered (order: number, path: 'local', answer: AckAnswer): void {
    this.settle(order, answer, answer === 'ok' ? undefined : 'the node could not persist it', this.clock(), path)
  }

  private onAck (peer: string, order: number, ack: Ack): void {
    this.settle(order, ack.status as AckAnswer, ack.reason, this.clock(), 'remote', peer)
  }

  /** Applies an answer for an entry in flight. */
  private settle (order: number, answer: AckAnswer, reason: string | undefined, now: number, path: 'local' | 'remote' = 'local', peer?: string): void {
    const verdict = this.scheduler.acked(order, answer, reason, now)
    if (verdict === undefined) return
    switch (verdict.kind) {
      case 'delivered': {
        const o = path === 'local' ? this.untrack(order) : this.removeEntry(order)
        this.metrics?.deliveredBy[path].inc()
        if (o !== undefined && path === 'remote') {
          const r = o.record
          this.setStatus(r.messageId, r.sender, r.receiver, peer !== undefined ? { state: 'delivered', peer, attempts: verdict.attempts } : { state: 'delivered', attempts: verdict.attempts })
          if (this.recentLog.capacity > 0) {
            this.recentLog.addEncoded(now, 'out', 'delivered', peer, r.message, this.decodeForLog)
          }
        }
        break
      }
      case 'retry':
        this.metrics?.retries.inc({ reason: 'refused' })
        this.touch(order, now)
        break
      case 'reroute':
        this.metrics?.retries.inc({ reason: 'reroute' })
        this.options.routes.forget(verdict.item.receiver, verdict.peer)
        this.touch(order, now)
        break
      case 'given-up':
        this.giveUp(verdict.given, peer)
        break
    }
    this.kick()
  }

  private onFailed (peer: string, orders: number[], reason: string): void {
    this.metrics?.retries.inc({ reason: 'transport' }, orders.length)
    for (const g of this.scheduler.failed(peer, orders, reason, this.clock())) this.giveUp(g, peer)
    const now = this.clock()
    for (const order of orders) this.touch(order, now)
    this.kick()
  }

  /** Deletes a delivered entry's row (batched with whatever else is being written). */
  private removeEntry (order: number): Outgoing | undefined {
    const o = this.untrack(order)
    // Nothing waits for this write: staged without a promise or callbacks of its own, and
    // into whatever batch comes next. Lost in a crash, the entry is sent again after the
    // restart and the receiver acks it as a duplicate (SPEC.md §3).
    if (o !== undefined) this.commits.stageLater([{ type: 'del', sublevel: this.outboxRows, key: o.key }], this.logWriteError)
    return o
  }

  private readonly decodeForLog = (bytes: Uint8Array): AclMessage => decodeMessage(bytes, this.options.limits)

  private readonly logWriteError = (err?: Error): void => {
    if (err !== undefined) this.log.error({ err: err.message }, 'delivery write failed')
  }

  private giveUp (g: GivenUp, peer?: string): void {
    const o = this.untrack(g.item.order)
    if (o === undefined) return
    const txn = new Txn()
    txn.ops.push({ type: 'del', sublevel: this.outboxRows, key: o.key })
    this.stageDeadLetter(o.record, g.cause, g.reason, g.attempts, peer ?? this.scheduler.status(g.item.order)?.peer, txn)
    this.commitThen(txn)
  }

  // --- internals: receiving --------------------------------------------------------------

  /**
   * A peer delivered an entry: accept it once and in order (SPEC.md §3), persist it, then
   * answer. Runs synchronously up to the write, so the frames of a stream are judged in order.
   */
  private receive (from: string, frame: DeliverFrame, answer: (ack: Ack) => void, messageBytes?: Uint8Array): void {
    const m = frame.message
    const r = frame.receiver
    if (!m.receivers.includes(r)) {
      const reason = `${r} is not among the message's receivers`
      this.options.onRefusedFrame?.(from, FIPA_PROTOCOL, 'wrong-receiver', reason)
      answer({ status: 'rejected', reason })
      return
    }
    // A peer speaks only for its own agents, its own API clients and its AMS (SPEC.md §5).
    const routes = this.options.routes
    const forged = senderProblem(m.sender, from, { registeredOn: routes.registeredOn(m.sender), boundTo: routes.learnedFrom(m.sender) }, SYSTEM_AGENT)
    if (forged !== undefined) {
      this.metrics?.forgedSenders.inc()
      this.log.warn({ peer: from, sender: m.sender, messageId: m.messageId }, 'refused a message whose sender the peer does not host')
      this.options.onRefusedFrame?.(from, FIPA_PROTOCOL, 'forged-sender', forged)
      answer({ status: 'rejected', reason: forged })
      return
    }
    if (m.sender !== SYSTEM_AGENT) routes.learn(m.sender, from)
    if (this.options.clients.has(r)) {
      this.options.clients.deliver(r, m)
      this.record('in', 'delivered', m, from)
      answer({ status: 'ok' })
      const ops: StorageOp[] = []
      this.options.observer?.observe(m, false, ops)
      // Conversation figures nobody waits for: into whatever batch comes next.
      if (ops.length > 0) this.commits.stageLater(ops, this.logWriteError)
      return
    }
    if (!this.options.runtime.has(r)) {
      answer({ status: 'no-such-agent', reason: `no agent ${r} on node ${this.options.self}` })
      return
    }
    const now = this.clock()
    if (frame.deadline <= now) {
      answer({ status: 'expired', reason: `its deadline (${new Date(frame.deadline).toISOString()}) passed before node ${this.options.self} could accept it` })
      return
    }
    const pair = pairKey(m.sender, r)
    const last = this.receiver.last(pair)
    const verdict = admit(last, frame.order, frame.after)
    if (verdict === 'out-of-order') {
      answer({ status: 'out-of-order', reason: `an earlier message from ${m.sender} to ${r} has not arrived yet` })
      return
    }
    const seenKey = this.receiver.seenKey(r, m.messageId, m.createdAt)
    if (verdict === 'seen-before' || (frame.flags & DELIVER_FLAGS.replay) !== 0) {
      const seen = this.receiver.wasSeen(seenKey)
      if (seen !== 'unseen') {
        this.metrics?.duplicates.inc()
        // A copy still being written: ack once it is on disk, like the copy itself.
        if (seen === 'pending') {
          this.receiver.whenSettled(seenKey, ok => {
            answer(ok ? { status: 'ok' } : { status: 'not-running', reason: `node ${this.options.self} could not persist it` })
          })
        } else {
          answer({ status: 'ok' })
        }
        return
      }
      if (verdict === 'seen-before') {
        answer({ status: 'rejected', reason: `overtaken: a later message from ${m.sender} to ${r} was accepted before it` })
        return
      }
    }
    const admission = this.options.runtime.admit(r, this.reserved.get(r) ?? 0)
    if (admission !== 'queued') {
      answer({ status: admission, reason: admission === 'mailbox-full' ? `agent ${r}'s inbox is full` : `agent ${r} is not running` })
      return
    }
    // The agent gets the message now, and its rows are held meanwhile (SPEC.md §3, "Handed
    // over early"): a handler that returns within the hold takes them into its own batch,
    // and the inbox row is never written (one LevelDB write a message instead of two);
    // otherwise they are written on their own. Either way the peer's ack waits for them,
    // and nothing the handler did leaves the node before they are on disk.
    const key = this.inboxKey(r)
    this.options.runtime.deliver(r, m, key, true)
    this.receiver.accept(pair, frame.order, now)
    const txn = new Txn()
    this.receiver.markSeen(seenKey, txn.ops)
    this.options.observer?.observe(m, false, txn.ops)
    this.inbox.set(key, metaOf(m, r, from))
    this.record('in', 'delivered', m, from)
    txn.after.push(ok => {
      this.receiver.settled(seenKey, ok)
      if (ok) {
        this.setStatus(m.messageId, m.sender, r, { state: 'delivered', peer: from })
        answer({ status: 'ok' })
        return
      }
      this.receiver.revert(pair, frame.order, last)
      answer({ status: 'not-running', reason: `node ${this.options.self} could not persist it` })
    })
    this.held.hold(key, { txn, pair, order: frame.order, at: now, message: m, receiver: r, from, deadline: frame.deadline, bytes: messageBytes })
  }

  /** The pair row of a held peer's message, into `ops` (an API client's message has none). */
  private stageHeldPair (h: HeldReceipt, ops: StorageOp[]): void {
    if (h.pair !== undefined && h.order !== undefined) this.receiver.stageAccepted(h.pair, h.order, h.at, ops)
  }

  /** A held receipt's time is up (or something needs it on disk now): its rows are written on their own. */
  private releaseReceipt (key: string, h: HeldReceipt): void {
    const receipt: Receipt = {}
    this.receipts.set(key, receipt)
    // The frame's own bytes of the message when the link found them (one encoding saved);
    // copied, so that the frame's buffer is not kept alive with it. Into Node's buffer pool
    // (copies share its 8 KiB slabs): `slice()` gave each copy an ArrayBuffer of its own,
    // 0.3-0.4 against 0.06-0.1 µs of CPU.
    const m = h.message
    const value = encodeInboxRecord({ receiver: h.receiver, sender: m.sender, messageId: m.messageId, from: h.from, deadline: h.deadline, message: h.bytes !== undefined ? Buffer.from(h.bytes) : encodeMessage(m) })
    h.txn.ops.unshift({ type: 'put', sublevel: this.inboxRows, key, value })
    this.stageHeldPair(h, h.txn.ops)
    h.txn.after.push(ok => {
      if (ok || receipt.then !== undefined) this.receipts.delete(key)
      else receipt.failed = true
      receipt.then?.(ok)
    })
    this.commitThen(h.txn)
  }

  private async maintain (): Promise<void> {
    try {
      const dropped = await this.receiver.collect(this.clock(), async ops => {
        await this.write(ops)
      })
      if (dropped > 0) this.log.debug({ dropped }, 'idle pair states collected')
      const now = this.clock()
      for (const [id, until] of this.notFound) if (until <= now) this.notFound.delete(id)
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'delivery maintenance failed')
    }
  }
}

/** A database in memory with the node storage's shape (string keys, byte values). */
function inMemoryRows (): Pick<NodeStorage, 'db' | 'sublevel'> {
  const db = new MemoryLevel<string, Uint8Array>({ valueEncoding: 'view' })
  return {
    db: db as unknown as NodeStorage['db'],
    sublevel: (name) => db.sublevel<string, Uint8Array>(name, { valueEncoding: 'view' }) as unknown as Sublevel
  }
}

/** FIPA agent ids contain no newline, so it separates the two ids of a pair key. */
function pairKey (sender: string, receiver: string): string {
  return sender + '\n' + receiver
}

function metaOf (message: AclMessage, receiver: AgentId, from: string): InboxMeta {
  const meta: InboxMeta = { messageId: message.messageId, sender: message.sender, receiver, performative: message.performative, from }
  if (message.inReplyTo !== undefined) meta.inReplyTo = message.inReplyTo
  if (message.conversationId !== undefined) meta.conversationId = message.conversationId
  return meta
}

/** A message's size for the outbox bounds, without encoding it: its content plus a margin for the fields. */
function approximateSize (m: AclMessage): number {
  const content = m.content
  return 256 + (content === undefined ? 0 : typeof content === 'string' ? content.length * 3 : content.byteLength)
}
