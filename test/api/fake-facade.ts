/**
 * An in-memory {@link NodeFacade} for the API and CLI tests: it keeps agents in a map,
 * raises the same error codes as the real node (the contract suite,
 * `facade-contract-suite.ts`, holds both to it), validates message drafts with the FIPA
 * codec as the router does, and records what it was asked.
 *
 * Agents with special ids:
 * - `echo`: replies INFORM with the request's content (when the sender waits);
 * - `silent`: never replies (a waiting sender gets REPLY_TIMEOUT at once: the fake
 *   does not sleep, it reports the timeout the real router would have reached);
 * - `hang`: `sendMessage` stays pending until {@link FakeFacade.releaseHang};
 * - `boom`: `sendMessage` throws a plain Error with a message that must not leak;
 * - `full`: `sendMessage` throws OUTBOX_FULL with `retryAfterMs` 2500.
 *
 * With `{ delivery: true }` it also has durable delivery's optional parts, as the node
 * answers them: `messageStatus` (a sent message is `delivered` to its receiver; tests move
 * it on with {@link FakeFacade.setDeliveryState}), `handledLog` (a line each time a
 * receiver becomes `handled`) and `deadLetters`. A message whose `replyBy` has passed is
 * dead-lettered at once (`expired`), its sender answered FAILURE when it waits, as the
 * node does; {@link FakeFacade.addDeadLetter} adds any other entry.
 */
import { CaxtonError } from '../../protocols/errors.js'
import type { Conversation } from '../../protocols/fipa/conversations.js'
import type { DeadLetterCause, DeadLetterRecord } from '../../protocols/delivery/index.js'
import {
  AclValidationError, SYSTEM_AGENT, draftFromJson, encodeMessage, failure, isAgentId, validateMessage, type AclMessage, type AgentId
} from '../../protocols/fipa/index.js'
import type {
  AgentVersionJson, AgentVersionsJson, DeadLetterFacade, DeadLetterListQuery, DeployRequest, MessageRecord, UpgradeRequest, NodeFacade, NodeInfo, PeerSummary, Readiness, SendOutcome, SendRequest
} from '../../src/api/facade.js'
import type { DeliveryState, HandledEntry, MessageStatus, ReceiverStatus } from '../../src/delivery/types.js'
import type { AgentInfo, AgentLimits } from '../../src/runtime/types.js'

export class FakeError extends CaxtonError {
  constructor (code: string, message: string, fields: Record<string, unknown> = {}) {
    super(code, message)
    this.name = 'FakeError'
    Object.assign(this, fields)
  }
}

export const DEFAULT_LIMITS: AgentLimits = {
  maxMemoryPages: 256,
  mailboxCapacity: 1024,
  fuelPerMessage: 50_000_000,
  handlerTimeoutMs: 5000,
  sendsPerSecond: 1000,
  sendBurst: 1000,
  sendBytesPerSecond: 4 * 1024 * 1024
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d]

/** A minimal valid-looking module: the WASM magic and version 1. */
export const TINY_WASM = new Uint8Array([...WASM_MAGIC, 0x01, 0x00, 0x00, 0x00])

export class FakeFacade implements NodeFacade {
  readonly agents = new Map<AgentId, AgentInfo & { version?: number }>()
  /** Each agent's versions, oldest first (all kept: the fake has no `keepVersions`). */
  readonly versions = new Map<AgentId, AgentVersionJson[]>()
  readonly deployed: DeployRequest[] = []
  readonly upgrades: UpgradeRequest[] = []
  readonly sent: SendRequest[] = []
  readonly records: MessageRecord[] = []
  readinessValue: Readiness = { ready: true, checks: { storage: { ok: true }, libp2p: { ok: true }, runtime: { ok: true } } }
  /** When set, every mutating call throws NOT_READY. */
  notReady = false
  peerList: PeerSummary[] = [
    {
      peerId: '12D3KooWPeerA',
      multiaddrs: ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWPeerA'],
      connected: true,
      delivery: { breaker: 'closed', consecutiveFailures: 0, trips: 0, inFlight: 2, queued: 5 }
    },
    {
      peerId: '12D3KooWPeerB',
      multiaddrs: ['/ip4/127.0.0.1/tcp/4002/p2p/12D3KooWPeerB'],
      connected: false,
      delivery: { breaker: 'open', consecutiveFailures: 5, trips: 1, inFlight: 0, queued: 12 }
    }
  ]

  /** Present with `{ delivery: true }`. @throws MESSAGE_NOT_FOUND */
  readonly messageStatus?: (messageId: string) => Promise<MessageStatus>
  /** Present with `{ delivery: true }`. */
  readonly handledLog?: (query: { after?: string, limit?: number }) => Promise<HandledEntry[]>
  /** Present with `{ delivery: true }`. */
  readonly deadLetters?: DeadLetterFacade
  /** Present with `{ delivery: true }`: the conversations in {@link conversationTable}. @throws CONVERSATION_NOT_FOUND */
  readonly conversation?: (id: string) => Promise<Conversation>
  readonly conversationTable = new Map<string, Conversation>()
  /** The dead-letter queue, oldest first. */
  readonly deadLetterQueue: DeadLetterRecord[] = []
  readonly handled: HandledEntry[] = []

  private clock = 1_700_000_000_000
  private seq = 0
  private readonly hung: Array<() => void> = []
  private readonly hangWaiters: Array<() => void> = []
  private readonly statuses = new Map<string, { sender: AgentId, message: AclMessage, receivers: Map<AgentId, ReceiverStatus> }>()

  constructor (options: { delivery?: boolean } = {}) {
    if (options.delivery !== true) return
    this.messageStatus = async (messageId) => {
      const s = this.statuses.get(messageId)
      if (s === undefined) {
        throw new FakeError('MESSAGE_NOT_FOUND', `message ${messageId} is not known to this node (sent, received or dead-lettered here, and still remembered)`, { messageId })
      }
      return { messageId, sender: s.sender, receivers: [...s.receivers.values()] }
    }
    this.conversation = async (id) => {
      const c = this.conversationTable.get(id)
      if (c === undefined) throw new FakeError('CONVERSATION_NOT_FOUND', `conversation ${id} is not known to this node (never seen here, or forgotten once idle)`, { conversationId: id })
      return c
    }
    this.handledLog = async ({ after, limit }) => this.handled.filter(e => after === undefined || e.key > after).slice(0, limit ?? 1000)
    this.deadLetters = {
      list: async (query) => {
        const all = this.deadLetterQueue.filter(matches(query)).reverse()
        return { entries: all.slice(0, query.limit ?? 100), total: all.length }
      },
      get: async (id) => this.deadLetterEntry(id),
      replay: async (id) => {
        const d = this.deadLetterEntry(id)
        this.deadLetterQueue.splice(this.deadLetterQueue.indexOf(d), 1)
        this.setDeliveryState(d.messageId, d.receiver, 'delivered')
        return { messageId: d.messageId, receiver: d.receiver }
      },
      delete: async (id) => {
        this.deadLetterQueue.splice(this.deadLetterQueue.indexOf(this.deadLetterEntry(id)), 1)
      },
      purge: async (query) => {
        const gone = this.deadLetterQueue.filter(matches(query))
        for (const d of gone) this.deadLetterQueue.splice(this.deadLetterQueue.indexOf(d), 1)
        return gone.length
      }
    }
  }

  info (): NodeInfo {
    return {
      peerId: '12D3KooWSelf',
      name: 'node-1',
      multiaddrs: ['/ip4/127.0.0.1/tcp/4000/p2p/12D3KooWSelf'],
      api: 'http://127.0.0.1:7420',
      version: '0.1.0',
      startedAt: 1_700_000_000_000
    }
  }

  readiness (): Readiness {
    return this.readinessValue
  }

  async deployAgent (req: DeployRequest): Promise<AgentInfo> {
    this.deployed.push(req)
    if (this.notReady) throw new FakeError('NOT_READY', 'the node is still starting')
    if (!isAgentId(req.id) || req.id === SYSTEM_AGENT || req.id.startsWith('client-')) {
      throw new FakeError('AGENT_ID_INVALID', `invalid agent id '${req.id}'`, { agentId: req.id })
    }
    if (this.agents.has(req.id)) throw new FakeError('AGENT_EXISTS', `agent '${req.id}' already exists`, { agentId: req.id })
    if (!WASM_MAGIC.every((b, i) => req.wasm[i] === b)) {
      throw new FakeError('MODULE_INVALID', 'not a WebAssembly module (bad magic number)', { reason: 'bad magic number' })
    }
    const info = {
      id: req.id,
      moduleHash: 'ab'.repeat(32),
      moduleBytes: req.wasm.byteLength,
      state: 'running' as const,
      limits: { ...DEFAULT_LIMITS, ...req.limits },
      deployedAt: this.tick(),
      stats: { received: 0, handled: 0, sent: 0, errors: 0, queued: 0, memoryPages: 1 },
      version: 1
    }
    this.agents.set(req.id, info)
    this.versions.set(req.id, [{ version: 1, moduleHash: info.moduleHash, moduleBytes: info.moduleBytes, limits: req.limits ?? {}, capabilities: [], deployedAt: info.deployedAt }])
    return info
  }

  /** A new version; a module without the WASM magic is MODULE_INVALID and changes nothing, as on the node. */
  async upgradeAgent (req: UpgradeRequest): Promise<AgentInfo & { version: number }> {
    this.upgrades.push(req)
    if (this.notReady) throw new FakeError('NOT_READY', 'the node is still starting')
    const current = this.getAgent(req.id)
    if (!WASM_MAGIC.every((b, i) => req.wasm[i] === b)) {
      throw new FakeError('MODULE_INVALID', 'not a WebAssembly module (bad magic number)', { reason: 'bad magic number' })
    }
    const kept = this.versions.get(req.id) ?? []
    const { rollbackOf: _, ...last } = kept[kept.length - 1]
    return this.nextVersion(current, { ...last, moduleHash: 'cd'.repeat(32), moduleBytes: req.wasm.byteLength, limits: req.limits ?? last.limits })
  }

  agentVersions (id: AgentId): AgentVersionsJson {
    const current = this.getAgent(id)
    return { id, version: current.version ?? 1, versions: [...(this.versions.get(id) ?? [])] }
  }

  async rollbackAgent (id: AgentId, version?: number): Promise<AgentInfo & { version: number }> {
    if (this.notReady) throw new FakeError('NOT_READY', 'the node is still starting')
    const current = this.getAgent(id)
    const kept = this.versions.get(id) ?? []
    const target = version === undefined ? kept[kept.length - 2] : kept.find(v => v.version === version)
    if (target === undefined) {
      throw new FakeError('AGENT_VERSION_NOT_FOUND', `agent ${id} has no kept version ${version ?? 'before its current one'}`, { agentId: id, version: version ?? null })
    }
    return this.nextVersion(current, { ...target, rollbackOf: target.version })
  }

  private nextVersion (current: AgentInfo & { version?: number }, from: AgentVersionJson): AgentInfo & { version: number } {
    const version = (current.version ?? 1) + 1
    const next: AgentVersionJson = { ...from, version, deployedAt: this.tick() }
    this.versions.get(current.id)?.push(next)
    const info = { ...current, version, moduleHash: next.moduleHash, moduleBytes: next.moduleBytes, limits: { ...DEFAULT_LIMITS, ...next.limits }, deployedAt: next.deployedAt }
    this.agents.set(current.id, info)
    return info
  }

  listAgents (): AgentInfo[] {
    return [...this.agents.values()]
  }

  getAgent (id: AgentId): AgentInfo & { version?: number } {
    const info = this.agents.get(id)
    if (info === undefined) throw new FakeError('AGENT_NOT_FOUND', `no agent '${id}'`, { agentId: id })
    return info
  }

  async removeAgent (id: AgentId): Promise<void> {
    this.versions.delete(id)
    if (!this.agents.delete(id)) throw new FakeError('AGENT_NOT_FOUND', `no agent '${id}'`, { agentId: id })
  }

  async stopAgent (id: AgentId): Promise<AgentInfo> {
    return this.lifecycle(id, 'stop', ['running', 'suspended'], 'stopped')
  }

  async startAgent (id: AgentId): Promise<AgentInfo> {
    return this.lifecycle(id, 'start', ['stopped', 'failed'], 'running')
  }

  async suspendAgent (id: AgentId, reason = 'suspended by an operator'): Promise<AgentInfo> {
    return this.lifecycle(id, 'suspend', ['running'], 'suspended', reason)
  }

  async resumeAgent (id: AgentId): Promise<AgentInfo> {
    return this.lifecycle(id, 'resume', ['suspended'], 'running')
  }

  /** The node's rule: a no-op in the target state, AGENT_STATE_CONFLICT outside `from`. */
  private lifecycle (id: AgentId, action: string, from: Array<AgentInfo['state']>, to: AgentInfo['state'], reason?: string): AgentInfo {
    if (this.notReady) throw new FakeError('NOT_READY', 'the node is still starting')
    const info = this.getAgent(id)
    if (info.state === to) return info
    if (!from.includes(info.state)) throw new FakeError('AGENT_STATE_CONFLICT', `cannot ${action} agent "${id}": it is ${info.state}`, { agentId: id, state: info.state, action })
    const next = { ...info, state: to }
    delete next.reason
    delete next.lastError
    if (reason !== undefined) next.reason = reason
    this.agents.set(id, next)
    return next
  }

  async sendMessage (req: SendRequest): Promise<SendOutcome> {
    this.sent.push(req)
    if (req.to === 'boom') throw new Error('disk full at /var/lib/secret-path')
    if (req.to === 'full') throw new FakeError('OUTBOX_FULL', 'the outbox is full (3 messages, at most 3); retry in 3 s', { retryAfterMs: 2500 })
    // The router's order: the draft first (ACL_INVALID names the fields), then the receiver.
    const draft = draftFromJson(req.draft)
    const sender = typeof draft.sender === 'string' ? draft.sender : 'client-1'
    const seq = ++this.seq
    const message = validateMessage({
      ...draft,
      messageId: `m-${seq}`,
      createdAt: this.tick(),
      sender,
      receivers: [req.to],
      conversationId: draft.conversationId ?? `c-${seq}`
    })
    if (sender === SYSTEM_AGENT || this.agents.has(sender)) {
      throw new AclValidationError([{ field: 'sender', reason: `${sender} is an agent on this node; API clients must use another id` }])
    }
    if (!this.agents.has(req.to) && !['hang', 'silent', 'echo'].includes(req.to)) {
      throw new FakeError('AGENT_NOT_FOUND', `no agent '${req.to}' on any node of the cluster`, { agentId: req.to })
    }
    const content = message.content
    this.records.unshift({ at: message.createdAt, direction: 'local', status: 'delivered', message })
    const outcome: SendOutcome = { messageId: message.messageId, conversationId: message.conversationId!, sender: message.sender }
    if (this.messageStatus !== undefined) {
      if (message.replyBy !== undefined && message.replyBy <= message.createdAt) {
        const d = this.addDeadLetter(message, req.to, 'expired', `its reply-by (${new Date(message.replyBy).toISOString()}) had passed when it was sent`)
        return req.waitMs === undefined ? outcome : { ...outcome, reply: failure(message, d.reason, SYSTEM_AGENT, { messageId: `m-${++this.seq}`, createdAt: this.tick() }) }
      }
      this.setDeliveryState(message.messageId, req.to, 'delivered', {}, message)
    }

    if (req.to === 'hang') {
      await new Promise<void>(resolve => {
        this.hung.push(resolve)
        for (const w of this.hangWaiters.splice(0)) w()
      })
      return outcome
    }
    if (req.waitMs === undefined) return outcome
    if (req.to !== 'echo') {
      throw new FakeError('REPLY_TIMEOUT', `no reply within ${req.waitMs} ms`, { waitMs: req.waitMs, conversationId: outcome.conversationId })
    }
    const reply: AclMessage = {
      messageId: `m-${++this.seq}`,
      createdAt: this.tick(),
      performative: 'INFORM',
      sender: req.to,
      receivers: [message.sender],
      conversationId: message.conversationId,
      inReplyTo: message.messageId
    }
    if (content !== undefined) reply.content = content
    this.records.unshift({ at: reply.createdAt, direction: 'local', status: 'delivered', message: reply })
    return { ...outcome, reply }
  }

  recentMessages (query: { limit?: number, agent?: AgentId, conversationId?: string }): MessageRecord[] {
    return this.records
      .filter(r => query.agent === undefined || r.message.sender === query.agent || r.message.receivers.includes(query.agent))
      .filter(r => query.conversationId === undefined || r.message.conversationId === query.conversationId)
      .slice(0, query.limit ?? 50)
  }

  peers (): PeerSummary[] {
    return this.peerList
  }

  async metrics (): Promise<{ contentType: string, body: string }> {
    return {
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      body: '# HELP caxton_agents_running_count Agents running\n# TYPE caxton_agents_running_count gauge\n' +
        `caxton_agents_running_count ${this.agents.size}\n`
    }
  }

  /**
   * Moves one receiver's copy of a sent message to `state` (with `{ delivery: true }`); to
   * `handled`, it also adds a line to the handled log.
   */
  setDeliveryState (messageId: string, receiver: AgentId, state: DeliveryState, extra: Partial<ReceiverStatus> = {}, message?: AclMessage): void {
    let s = this.statuses.get(messageId)
    if (s === undefined) {
      if (message === undefined) throw new Error(`the fake sent no message ${messageId}`)
      s = { sender: message.sender, message, receivers: new Map() }
      this.statuses.set(messageId, s)
    }
    const at = this.tick()
    s.receivers.set(receiver, { receiver, state, at, ...extra })
    if (state !== 'handled') return
    const line: HandledEntry = {
      key: (this.handled.length + 1).toString(16).padStart(14, '0'), receiver, messageId, sender: s.sender, performative: s.message.performative, at, sent: []
    }
    if (s.message.inReplyTo !== undefined) line.inReplyTo = s.message.inReplyTo
    if (s.message.conversationId !== undefined) line.conversationId = s.message.conversationId
    this.handled.push(line)
  }

  /** Puts one receiver's copy of `message` in the dead-letter queue, as the node does when it gives it up. */
  addDeadLetter (message: AclMessage, receiver: AgentId, cause: DeadLetterCause, reason: string, options: { attempts?: number, peer?: string } = {}): DeadLetterRecord {
    const at = this.tick()
    const d: DeadLetterRecord = {
      id: at.toString(16).padStart(13, '0') + (this.deadLetterQueue.length + 1).toString(16).padStart(5, '0'),
      at,
      receiver,
      sender: message.sender,
      messageId: message.messageId,
      cause,
      reason,
      attempts: options.attempts ?? 0,
      message: encodeMessage(message)
    }
    if (options.peer !== undefined) d.peer = options.peer
    this.deadLetterQueue.push(d)
    this.setDeliveryState(message.messageId, receiver, 'dead-lettered', {
      reason, cause, attempts: d.attempts, deadLetterId: d.id, ...(d.peer !== undefined ? { peer: d.peer } : {})
    }, message)
    return d
  }

  /** Resolves once a `hang` send is pending. */
  async whenHung (): Promise<void> {
    if (this.hung.length > 0) return
    await new Promise<void>(resolve => this.hangWaiters.push(resolve))
  }

  /** Lets every pending `hang` send complete. */
  releaseHang (): void {
    for (const r of this.hung.splice(0)) r()
  }

  private tick (): number {
    return ++this.clock
  }

  private deadLetterEntry (id: string): DeadLetterRecord {
    const d = this.deadLetterQueue.find(e => e.id === id)
    if (d === undefined) throw new FakeError('DEAD_LETTER_NOT_FOUND', `no dead letter ${id} on this node`, { id })
    return d
  }
}

/** The node's dead-letter filters: receiver or sender, cause, dead-lettered at or after `since`. */
function matches (q: Omit<DeadLetterListQuery, 'limit'>): (d: DeadLetterRecord) => boolean {
  return d => (q.agent === undefined || d.receiver === q.agent || d.sender === q.agent) &&
    (q.cause === undefined || d.cause === q.cause) && (q.since === undefined || d.at >= q.since)
}

