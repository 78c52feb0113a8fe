/**
 * The message router (DESIGN.md "A message's path"): validates and stamps every message a
 * client or an agent sends, answers malformed ones with NOT-UNDERSTOOD, and hands the rest
 * to durable delivery ({@link MessageSink}), which owns where each copy goes, retries,
 * dead letters and FAILURE reports. It talks to its neighbours only through the narrow
 * interfaces below.
 */
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import {
  AclValidationError, NEW_TRACE_RANDOM_BYTES, SYSTEM_AGENT, childTraceparent, draftFieldsFromJson, draftFromJson,
  hasValidFields, newTraceparent, newTraceparentFrom, notUnderstood, resolveAclLimits, stampDraft, stampFields, tryParseTraceparent,
  validateMessage, type AclLimits, type DraftFields
} from '../../protocols/fipa/index.js'
import type { AclMessage, AgentId } from '../../protocols/fipa/types.js'
import { clientTag, clientTagIn, newClientId } from '../../protocols/delivery/index.js'
import { silentLogger } from '../observability/logger.js'
import type { MetricsRegistry } from '../observability/metrics.js'
import { RouterMetrics } from './metrics.js'
import type { AgentOutbound, AgentRuntime } from '../runtime/types.js'
import type { StorageOp } from '../storage/index.js'
import { AgentNotFoundError } from '../runtime/errors.js'
import type { AgentLocator } from './locator.js'
import { RandomPool, createRandomPool } from './random-pool.js'

const randomBytes = createRandomPool()
/** Client ids and new traces of client messages, read in place (no array per draw). */
const clientRandom = new RandomPool()

export { SYSTEM_AGENT }

const NOT_IN_CLUSTER = 'on any node of the cluster'

/** Where the router hands validated messages: durable delivery (src/delivery). */
export interface MessageSink {
  /** Resolves once every copy is durable. @throws OutboxFullError */
  accept: (messages: readonly AclMessage[]) => Promise<void>
  /** An API client's message: resolves once every copy is durable (copies may leave before). @throws OutboxFullError */
  acceptFromClient: (message: AclMessage) => Promise<void>
  /** An agent's handler returned for the inbox entry `token`, having sent `sent` and changed its state (`state` rows): one write for all. */
  handled: (agentId: AgentId, token: string | undefined, sent: readonly AclMessage[], state?: readonly StorageOp[]) => void
  /** Adds a line to the recent-message log. */
  record: (direction: 'in' | 'out' | 'local', status: 'delivered' | 'failed' | 'rejected' | 'dead-letter', message: AclMessage, peer?: string, reason?: string) => void
}

/** Who the router must not let a client impersonate, and which ids are clients here. */
export interface ClientRegistry {
  /** Whether `id` is an API client connected to this node. */
  has: (id: AgentId) => boolean
}

export interface RouterOptions {
  /** This node's PeerId (string). */
  localPeer: string
  runtime: Pick<AgentRuntime, 'has'>
  locator: Pick<AgentLocator, 'lookup' | 'resolve' | 'registeredOn'>
  sink: MessageSink
  clients: ClientRegistry
  /** Completed with the defaults; the constructor throws InvalidAclLimitsError for a limit that is not a positive safe integer. */
  limits?: Partial<AclLimits>
  /** ms since the epoch. @default Date.now */
  clock?: () => number
  /** Unique ids for messages and conversations (client ids are drawn from a random pool). @default crypto.randomUUID */
  newId?: () => string
  /** A new conversation id, for a client's message without one. @default newId */
  newConversationId?: () => string
  logger?: Logger
  metrics?: MetricsRegistry
}

export class MessageRouter {
  private readonly log: Logger
  private readonly limits: AclLimits
  private readonly clock: () => number
  private readonly newId: () => string
  private readonly newConversationId: () => string
  private readonly metrics?: RouterMetrics

  constructor (private readonly options: RouterOptions) {
    this.log = options.logger ?? silentLogger()
    // Resolved once: prepareFromClient's fast path reads them as they are.
    this.limits = resolveAclLimits(options.limits)
    this.clock = options.clock ?? Date.now
    this.newId = options.newId ?? randomUUID
    this.newConversationId = options.newConversationId ?? this.newId
    if (options.metrics != null) this.metrics = new RouterMetrics(options.metrics)
  }

  /**
   * Validates and stamps a message an API client (REST or CLI) writes to agent `to`: fills
   * in `sender` (a new client id of this node, `client-<node tag>-<8 hex>`), `messageId`,
   * `createdAt`, `conversationId`, `replyWith` and a new trace, and checks that every
   * receiver exists somewhere in the cluster. Nothing is sent: pass the result to {@link submit}.
   * @throws AclValidationError when the draft is malformed, or its sender is an agent (here
   *   or registered anywhere) or another node's API client,
   *   AgentNotFoundError when no node hosts a receiver
   */
  async prepareFromClient (to: AgentId, rawDraft: Record<string, unknown>): Promise<AclMessage> {
    const limits = this.limits
    // The common draft is read into named fields; an unusual one (an unknown field, a failed
    // conversion) takes draftFromJson and stampDraft, which report it as before.
    const fields = draftFieldsFromJson(rawDraft, limits)
    let message: AclMessage
    let givenSender: unknown
    if (fields !== undefined) {
      givenSender = fields.sender
      const stamped = stampFields(fields, this.clientStamps(to, fields))
      // Built from named fields, so it holds no unknown key; its trace is new unless the
      // client gave one. Everything else is checked; validateMessage explains a failure.
      message = hasValidFields(stamped, limits, fields.traceparent === undefined) ? stamped : validateMessage(stamped, limits)
    } else {
      const draft = draftFromJson(rawDraft, limits)
      givenSender = draft.sender
      message = validateMessage(stampDraft(draft, this.clientStamps(to, draft)), limits)
    }
    const sender = message.sender
    if (sender === SYSTEM_AGENT || this.options.runtime.has(sender)) {
      throw new AclValidationError([{ field: 'sender', reason: `${sender} is an agent on this node; API clients must use another id` }])
    }
    // An API client never speaks as an agent, nor as another node's client (SPEC: protocols/delivery §5).
    const registeredOn = this.options.locator.registeredOn(sender)
    if (registeredOn !== undefined) {
      throw new AclValidationError([{ field: 'sender', reason: `${sender} is a registered agent (of node ${registeredOn}); API clients must use another id` }])
    }
    // A sender this node made up is its own client id: only the client's needs the tag read
    // (and clientTagIn's regex, ~80 ns with its match array, only matches ids that start so).
    const tag = sender === givenSender && sender.startsWith('client-') ? clientTagIn(sender) : undefined
    if (tag !== undefined && tag !== clientTag(this.options.localPeer)) {
      throw new AclValidationError([{ field: 'sender', reason: `${sender} is an API client id of another node; leave sender out to get one of this node` }])
    }
    for (const r of message.receivers) {
      if (this.options.runtime.has(r) || this.options.clients.has(r) || this.options.locator.lookup(r) !== undefined) continue
      if (await this.options.locator.resolve(r, { exclude: this.options.localPeer }) == null) throw new AgentNotFoundError(r, NOT_IN_CLUSTER)
    }
    return message
  }

  /** What {@link prepareFromClient} stamps on a client's draft; every value defined. */
  private clientStamps (to: AgentId, draft: Readonly<Partial<DraftFields>>): Partial<DraftFields> {
    const messageId = this.newId()
    const given = draft.receivers
    return {
      messageId,
      createdAt: this.clock(),
      sender: typeof draft.sender === 'string' && draft.sender !== '' ? draft.sender : newClientId(this.options.localPeer, clientRandom.hex(4)),
      // `to` first unless the client named it; a receivers value that is not a list is replaced.
      receivers: !Array.isArray(given) || given.length === 0 ? [to] : given.includes(to) ? given : [to, ...given],
      conversationId: draft.conversationId ?? this.newConversationId(),
      replyWith: draft.replyWith ?? messageId,
      traceparent: draft.traceparent ?? newTraceparentFrom(clientRandom.bytes, clientRandom.take(NEW_TRACE_RANDOM_BYTES))
    }
  }

  /**
   * Hands a prepared message to durable delivery; resolves once it is accepted (durable).
   * @throws OutboxFullError
   */
  async submit (message: AclMessage): Promise<void> {
    await this.options.sink.acceptFromClient(message)
    this.metrics?.accepted.inc()
  }

  /**
   * An agent's `handle_message` returned for inbox entry `token`: what it sent is
   * validated and stamped (the sender is always the agent itself: agents cannot spoof), a
   * malformed one answered with NOT-UNDERSTOOD to the agent, and all of it committed with
   * the entry's removal and `state`, the rows of what the handler changed in its store and timers.
   */
  handled (agentId: AgentId, token: string | undefined, sends: readonly AgentOutbound[], state?: readonly StorageOp[]): void {
    const messages: AclMessage[] = []
    for (const outbound of sends) {
      const m = this.fromAgent(agentId, outbound)
      if (m !== undefined) messages.push(m)
    }
    this.options.sink.handled(agentId, token, messages, state)
  }

  /** An agent called `env.send` from its start function: accepted on its own. */
  sendFromAgent (agentId: AgentId, outbound: AgentOutbound): void {
    const m = this.fromAgent(agentId, outbound)
    if (m === undefined) return
    this.options.sink.accept([m]).catch((err: Error) => {
      this.log.warn({ agentId, err: err.message }, 'message from a start function not accepted')
    })
  }

  /** The message an agent sent, validated and stamped, or its NOT-UNDERSTOOD when malformed. */
  private fromAgent (agentId: AgentId, outbound: AgentOutbound): AclMessage | undefined {
    if (!outbound.ok) return this.reject({ sender: agentId }, `could not decode the message the agent sent: ${outbound.error}`)
    try {
      const m = validateMessage(stampDraft(outbound.draft, {
        sender: agentId,
        messageId: this.newId(),
        createdAt: this.clock(),
        traceparent: this.traceFor(outbound.draft.traceparent)
      }), this.limits)
      this.metrics?.accepted.inc()
      return m
    } catch (err) {
      return this.reject({ ...outbound.draft, sender: agentId }, (err as Error).message)
    }
  }

  /** NOT-UNDERSTOOD from the AMS for a malformed message (never to the AMS itself). */
  private reject (original: Partial<AclMessage> & { sender: AgentId }, reason: string): AclMessage | undefined {
    this.metrics?.rejected.inc()
    this.log.debug({ sender: original.sender, reason }, 'malformed message rejected')
    if (original.sender === SYSTEM_AGENT) return undefined
    const report = notUnderstood(original, reason, SYSTEM_AGENT, { messageId: this.newId(), createdAt: this.clock() })
    if (report == null) return undefined
    this.options.sink.record('local', 'rejected', report, undefined, reason)
    return report
  }

  /**
   * W3C Trace Context for a message an agent sends: a child span of the trace it names
   * (the SDK copies the request's traceparent into replies), else a new trace.
   */
  private traceFor (traceparent: unknown): string {
    const parent = tryParseTraceparent(traceparent)
    return parent != null ? childTraceparent(parent, randomBytes) : newTraceparent(randomBytes)
  }
}
