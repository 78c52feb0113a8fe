/**
 * The message router (DESIGN.md "A message's path"; Caxton story 002): validates and
 * stamps every message, then hands it to a local agent's mailbox, to a waiting API
 * client, or to the node that hosts the receiver. Whatever cannot be delivered comes
 * back to its sender as FAILURE (or NOT-UNDERSTOOD when it was malformed), so no message
 * vanishes without a word.
 */
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import {
  childTraceparent, draftFromJson, failure, newTraceparent, notUnderstood, tryParseTraceparent, validateMessage, AclValidationError,
  DEFAULT_ACL_LIMITS, type AclLimits
} from '../../protocols/fipa/index.js'
import type { AclMessage, AgentId } from '../../protocols/fipa/types.js'
import type { MessageRecord, SendOutcome, SendRequest } from '../api/facade.js'
import { silentLogger } from '../observability/logger.js'
import { Counter, type Registry } from '../observability/metrics.js'
import type { AgentOutbound, AgentRuntime } from '../runtime/types.js'
import { DedupeWindow } from './dedupe.js'
import { AgentNotFoundError } from '../runtime/errors.js'
import { DeliveryError, ReplyTimeoutError } from './errors.js'
import type { Ack } from './fipa-link.js'
import type { AgentLocator } from './locator.js'
import { MessageLog } from './message-log.js'
import { createRandomPool } from './random-pool.js'

const randomBytes = createRandomPool()

/**
 * The sender of the messages the node itself writes (FAILURE, NOT-UNDERSTOOD): the FIPA
 * Agent Management System (FIPA SC00023K §4.2). No agent may be deployed under this id.
 */
export const SYSTEM_AGENT = 'ams'

const NOT_IN_CLUSTER = 'on any node of the cluster'

/** Delivers a message to a peer and resolves with its ack; throws DeliveryError. */
export interface RemoteLink {
  send: (peer: string, message: AclMessage) => Promise<Ack>
}

export interface RouterOptions {
  /** This node's PeerId (string). */
  localPeer: string
  runtime: Pick<AgentRuntime, 'deliver' | 'has'>
  locator: AgentLocator
  link: RemoteLink
  limits?: Partial<AclLimits>
  /** Messages kept for `recent()`. @default 1000 */
  recentLimit?: number
  /** Message ids remembered to drop duplicates from peers. @default 100_000 */
  dedupeWindow?: number
  /** How long an API client id stays routable after its last use, ms. @default 600_000 */
  clientTtlMs?: number
  /**
   * Membership's word on a peer: why it cannot be reached (`node X is dead`) while
   * membership holds it dead or gone, else undefined. A message for such a peer fails at
   * once (FAILURE `delivery to node X failed: node X is dead`) instead of waiting for an
   * ack that cannot come; call
   * {@link MessageRouter.peerWentDown} when a peer dies, for the messages already on their way.
   * @default every peer may be reachable
   */
  peerDown?: (peer: string) => string | undefined
  /** ms since the epoch. @default Date.now */
  clock?: () => number
  /** Unique ids for messages, conversations and clients. @default crypto.randomUUID */
  newId?: () => string
  logger?: Logger
  metrics?: Registry
}

interface Waiter {
  conversationId: string
  replyWith: string
  resolve: (reply: AclMessage) => void
}

/** An API client that sent a message: replies to its id are routed here. */
interface ClientEndpoint {
  lastUsed: number
  /** Requests waiting for a reply, by their reply-with; O(1) matching however many are in flight. */
  waiters: Map<string, Waiter>
  /** conversation-id → reply-with of the waiter, for replies that set only the conversation. */
  byConversation: Map<string, string>
}

type Outcome = 'local' | 'client' | 'remote' | 'failed' | 'rejected' | 'duplicate'

export class MessageRouter {
  private readonly log: Logger
  private readonly limits: AclLimits
  private readonly recentLog: MessageLog
  private readonly dedupe: DedupeWindow
  private readonly clients = new Map<AgentId, ClientEndpoint>()
  /** Receivers whose route is being looked up; later messages to them wait behind it, so order holds. */
  private readonly resolving = new Map<AgentId, Promise<unknown>>()
  private readonly clock: () => number
  private readonly newId: () => string
  private readonly clientTtlMs: number
  private readonly routed?: Counter<'outcome'>
  /** Per peer, a promise that rejects when the peer goes down: remote sends race it. */
  private readonly downSignals = new Map<string, { promise: Promise<never>, reject: (down: PeerDown) => void }>()

  constructor (private readonly options: RouterOptions) {
    this.log = options.logger ?? silentLogger()
    this.limits = { ...DEFAULT_ACL_LIMITS, ...options.limits }
    this.recentLog = new MessageLog(options.recentLimit ?? 1000)
    this.dedupe = new DedupeWindow(options.dedupeWindow ?? 100_000)
    this.clock = options.clock ?? Date.now
    this.newId = options.newId ?? randomUUID
    this.clientTtlMs = options.clientTtlMs ?? 600_000
    if (options.metrics != null) {
      this.routed = new Counter({
        name: 'caxton_router_messages_total',
        help: 'Messages routed, by outcome (local, client, remote, failed, rejected, duplicate)',
        labelNames: ['outcome'],
        registers: [options.metrics]
      })
    }
  }

  /**
   * A message from an API client (REST or CLI) to agent `req.to`.
   * @throws AclValidationError when the draft is malformed (nothing is routed),
   *   AgentNotFoundError when no node hosts `req.to`,
   *   ReplyTimeoutError when `waitMs` passes without a reply.
   */
  async sendFromClient (req: SendRequest): Promise<SendOutcome> {
    const draft = draftFromJson(req.draft)
    const messageId = this.newId()
    const sender = typeof draft.sender === 'string' && draft.sender !== '' ? draft.sender : `client-${messageId.slice(0, 8)}`
    const receivers = Array.isArray(draft.receivers) ? draft.receivers as unknown[] : []
    const message = validateMessage({
      ...draft,
      messageId,
      createdAt: this.clock(),
      sender,
      receivers: receivers.includes(req.to) ? receivers : [req.to, ...receivers],
      conversationId: draft.conversationId ?? this.newId(),
      replyWith: draft.replyWith ?? messageId,
      traceparent: draft.traceparent ?? newTraceparent(randomBytes)
    }, this.limits)
    if (sender === SYSTEM_AGENT || this.options.runtime.has(sender)) {
      throw new AclValidationError([{ field: 'sender', reason: `${sender} is an agent on this node; API clients must use another id` }])
    }
    for (const r of message.receivers) {
      if (this.options.runtime.has(r) || this.clients.has(r)) continue
      if (await this.options.locator.resolve(r) == null) throw new AgentNotFoundError(r, NOT_IN_CLUSTER)
    }
    const endpoint = this.touchClient(sender)
    let reply: Promise<AclMessage> | undefined
    if (req.waitMs != null) {
      reply = new Promise<AclMessage>(resolve => {
        const w = { conversationId: message.conversationId as string, replyWith: message.replyWith as string, resolve }
        endpoint.waiters.set(w.replyWith, w)
        endpoint.byConversation.set(w.conversationId, w.replyWith)
      })
    }
    this.dispatch(message)
    const outcome: SendOutcome = { messageId, conversationId: message.conversationId as string, sender }
    if (reply == null) return outcome
    const waitMs = req.waitMs as number
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new ReplyTimeoutError(messageId, outcome.conversationId, waitMs)) }, waitMs)
    })
    try {
      return { ...outcome, reply: await Promise.race([reply, timeout]) }
    } finally {
      clearTimeout(timer)
      endpoint.waiters.delete(message.replyWith as string)
      endpoint.byConversation.delete(message.conversationId as string)
    }
  }

  /**
   * An agent called `env.send`. The sender is always the agent (agents cannot spoof);
   * a malformed message comes back to the agent as NOT-UNDERSTOOD with the reason.
   */
  sendFromAgent (agentId: AgentId, outbound: AgentOutbound): void {
    if (!outbound.ok) {
      this.reject({ sender: agentId }, `could not decode the message the agent sent: ${outbound.error}`)
      return
    }
    let message: AclMessage
    try {
      message = validateMessage({
        ...outbound.draft,
        sender: agentId,
        messageId: this.newId(),
        createdAt: this.clock(),
        traceparent: this.traceFor(outbound.draft.traceparent)
      }, this.limits)
    } catch (err) {
      this.reject({ ...outbound.draft, sender: agentId }, (err as Error).message)
      return
    }
    this.dispatch(message)
  }

  /**
   * A message a peer delivered over `/caxton/fipa/1.0.0`; the return value is the ack.
   * Duplicates (same message id, e.g. re-sent after a lost ack) are acknowledged and dropped.
   */
  receiveFromPeer (from: string, message: AclMessage): Ack {
    if (!this.dedupe.firstSeen(message.messageId)) {
      this.routed?.inc({ outcome: 'duplicate' })
      return { status: 'ok' }
    }
    if (message.sender !== SYSTEM_AGENT) this.options.locator.learn(message.sender, from)
    let delivered = 0
    let last: Ack = { status: 'no-such-agent', reason: `no agent among ${message.receivers.join(', ')} runs on this node` }
    for (const r of message.receivers) {
      const ack = this.deliverLocal(r, message, 'in', from)
      if (ack == null) continue
      if (ack.status === 'ok') delivered++
      else last = ack
    }
    return delivered > 0 ? { status: 'ok' } : last
  }

  /** Recent messages seen by this node, newest first. */
  recent (query: { limit?: number, agent?: AgentId, conversationId?: string }): MessageRecord[] {
    return this.recentLog.query(query)
  }

  /**
   * Membership declared `peer` dead (or it left): the messages waiting for its ack fail
   * now with {@link RouterOptions.peerDown}'s reason (or a generic one), rather than at the ack timeout.
   */
  peerWentDown (peer: string): void {
    const signal = this.downSignals.get(peer)
    if (signal === undefined) return
    this.downSignals.delete(peer)
    signal.reject(new PeerDown(downReason(peer, this.options.peerDown?.(peer) ?? `node ${peer} is down`)))
  }

  /** Forgets API client ids unused for longer than `clientTtlMs`. Called periodically by the node. */
  expireClients (): void {
    const cutoff = this.clock() - this.clientTtlMs
    for (const [id, c] of this.clients) {
      if (c.lastUsed < cutoff && c.waiters.size === 0) this.clients.delete(id)
    }
  }

  /** Routes a validated, stamped message to each receiver. Never throws. */
  private dispatch (message: AclMessage): void {
    for (const r of message.receivers) {
      if (this.deliverLocal(r, message, 'local') != null) continue
      const peer = this.resolving.has(r) ? undefined : this.options.locator.lookup(r)
      if (peer != null && peer !== this.options.localPeer) {
        void this.sendRemote(r, peer, message)
        continue
      }
      // Unknown here: ask the cluster. Messages to the same receiver queue behind the lookup.
      const before = this.resolving.get(r) ?? Promise.resolve()
      const next = before.then(async () => {
        const found = await this.options.locator.resolve(r, { exclude: this.options.localPeer })
        if (found == null) this.fail(message, r, new AgentNotFoundError(r, NOT_IN_CLUSTER).message)
        else await this.sendRemote(r, found, message)
      }).catch(err => { this.log.error({ err, receiver: r }, 'routing failed') })
      this.resolving.set(r, next)
      void next.finally(() => { if (this.resolving.get(r) === next) this.resolving.delete(r) })
    }
  }

  /** Delivers to a local agent or API client; undefined when `r` is neither. */
  private deliverLocal (r: AgentId, message: AclMessage, direction: 'in' | 'local', peer?: string): Ack | undefined {
    if (this.options.runtime.has(r)) {
      const result = this.options.runtime.deliver(r, message)
      if (result === 'queued') {
        this.record(direction, 'delivered', message, peer)
        this.routed?.inc({ outcome: 'local' })
        return { status: 'ok' }
      }
      const reason = result === 'mailbox-full' ? `agent ${r}'s mailbox is full` : `agent ${r} is not running`
      if (direction === 'local') this.fail(message, r, reason)
      return { status: result === 'mailbox-full' ? 'mailbox-full' : 'not-running', reason }
    }
    const client = this.clients.get(r)
    if (client != null) {
      client.lastUsed = this.clock()
      this.record(direction, 'delivered', message, peer)
      this.routed?.inc({ outcome: 'client' })
      const key = (message.inReplyTo != null && client.waiters.has(message.inReplyTo))
        ? message.inReplyTo
        : (message.conversationId != null ? client.byConversation.get(message.conversationId) : undefined)
      const waiter = key != null ? client.waiters.get(key) : undefined
      if (waiter != null) {
        client.waiters.delete(waiter.replyWith)
        client.byConversation.delete(waiter.conversationId)
        waiter.resolve(message)
      }
      return { status: 'ok' }
    }
    return undefined
  }

  private async sendRemote (r: AgentId, peer: string, message: AclMessage, retried = false): Promise<void> {
    const down = this.options.peerDown?.(peer)
    if (down !== undefined) {
      this.fail(message, r, downReason(peer, down), peer)
      return
    }
    let ack: Ack
    const sending = this.options.link.send(peer, message)
    try {
      ack = await this.untilDown(peer, sending)
    } catch (err) {
      // Gone before its ack: the link still settles the send later (an ack, or its timeout), unheard.
      if (err instanceof PeerDown) sending.catch(() => {})
      const reason = err instanceof PeerDown
        ? err.reason
        : err instanceof DeliveryError ? err.message : `delivery to node ${peer} failed: ${(err as Error).message}`
      this.fail(message, r, reason, peer)
      return
    }
    if (ack.status === 'ok') {
      this.record('out', 'delivered', message, peer)
      this.routed?.inc({ outcome: 'remote' })
      return
    }
    if (ack.status === 'no-such-agent' && !retried) {
      // The route was stale (the agent moved or was removed): look again, once, elsewhere.
      this.options.locator.forget(r, peer)
      const other = await this.options.locator.resolve(r, { exclude: peer })
      if (other != null && other !== this.options.localPeer) {
        await this.sendRemote(r, other, message, true)
        return
      }
    }
    const reason = ack.reason ?? `node ${peer} answered ${ack.status}`
    if (ack.status === 'rejected') this.reject(message, reason, peer)
    else this.fail(message, r, reason, peer)
  }

  /** `sending`, unless `peer` goes down first (then rejects with {@link PeerDown}). */
  private async untilDown (peer: string, sending: Promise<Ack>): Promise<Ack> {
    if (this.options.peerDown === undefined) return await sending
    let signal = this.downSignals.get(peer)
    if (signal === undefined) {
      let reject = (_down: PeerDown): void => {}
      const promise = new Promise<never>((_resolve, fail) => { reject = fail })
      promise.catch(() => {}) // nobody may be waiting when it fires
      signal = { promise, reject }
      this.downSignals.set(peer, signal)
    }
    return await Promise.race([sending, signal.promise])
  }

  /** Tells the sender its message could not be delivered to `receiver` (FIPA FAILURE). */
  private fail (message: AclMessage, receiver: AgentId, reason: string, peer?: string): void {
    this.routed?.inc({ outcome: 'failed' })
    this.record(peer != null ? 'out' : 'local', 'failed', message, peer, reason)
    this.log.debug({ messageId: message.messageId, receiver, reason }, 'delivery failed')
    if (message.sender === SYSTEM_AGENT) return // never answer a failure report with another
    const report = failure(message, reason, SYSTEM_AGENT, this.stamp())
    this.dispatch(report)
  }

  /** Tells the sender its message was malformed (FIPA NOT-UNDERSTOOD); nothing else is routed. */
  private reject (original: Partial<AclMessage> & { sender: AgentId }, reason: string, peer?: string): void {
    this.routed?.inc({ outcome: 'rejected' })
    this.log.debug({ sender: original.sender, reason }, 'malformed message rejected')
    if (original.sender === SYSTEM_AGENT) return
    const report = notUnderstood(original, reason, SYSTEM_AGENT, this.stamp())
    if (report == null) return
    this.record(peer != null ? 'out' : 'local', 'rejected', report, peer, reason)
    this.dispatch(report)
  }

  /**
   * W3C Trace Context for a message an agent sends: a child span of the trace it names
   * (the SDK copies the request's traceparent into replies), else a new trace.
   */
  private traceFor (traceparent: unknown): string {
    const parent = tryParseTraceparent(traceparent)
    return parent != null ? childTraceparent(parent, randomBytes) : newTraceparent(randomBytes)
  }

  private stamp (): { messageId: string, createdAt: number } {
    return { messageId: this.newId(), createdAt: this.clock() }
  }

  private touchClient (id: AgentId): ClientEndpoint {
    let c = this.clients.get(id)
    if (c == null) {
      c = { lastUsed: this.clock(), waiters: new Map(), byConversation: new Map() }
      this.clients.set(id, c)
    } else {
      c.lastUsed = this.clock()
    }
    return c
  }

  private record (direction: MessageRecord['direction'], status: MessageRecord['status'], message: AclMessage, peer?: string, reason?: string): void {
    if (this.recentLog.capacity === 0) return
    const r: MessageRecord = { at: this.clock(), direction, status, message }
    if (peer != null) r.peer = peer
    if (reason != null) r.reason = reason
    this.recentLog.add(r)
  }
}

/** The FAILURE reason for a peer membership holds down, in the words of the link's own failures. */
function downReason (peer: string, why: string): string {
  return `delivery to node ${peer} failed: ${why}`
}

/** A peer that membership holds dead or gone: the reason a message for it fails. */
class PeerDown extends Error {
  constructor (readonly reason: string) {
    super(reason)
    this.name = 'PeerDown'
  }
}
