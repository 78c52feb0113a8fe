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
 */
import { CaxtonError } from '../../protocols/errors.js'
import { AclValidationError, draftFromJson, isAgentId, validateMessage, type AclMessage, type AgentId } from '../../protocols/fipa/index.js'
import type {
  DeployRequest, MessageRecord, NodeFacade, NodeInfo, PeerSummary, Readiness, SendOutcome, SendRequest
} from '../../src/api/facade.js'
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
  handlerTimeoutMs: 5000
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d]

/** The node's own agent id (the router's `SYSTEM_AGENT`); with `client-*`, not deployable. */
const SYSTEM_AGENT = 'ams'

/** A minimal valid-looking module: the WASM magic and version 1. */
export const TINY_WASM = new Uint8Array([...WASM_MAGIC, 0x01, 0x00, 0x00, 0x00])

export class FakeFacade implements NodeFacade {
  readonly agents = new Map<AgentId, AgentInfo>()
  readonly deployed: DeployRequest[] = []
  readonly sent: SendRequest[] = []
  readonly records: MessageRecord[] = []
  readinessValue: Readiness = { ready: true, checks: { storage: { ok: true }, libp2p: { ok: true }, runtime: { ok: true } } }
  /** When set, every mutating call throws NOT_READY. */
  notReady = false
  peerList: PeerSummary[] = [
    { peerId: '12D3KooWPeerA', multiaddrs: ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWPeerA'], connected: true },
    { peerId: '12D3KooWPeerB', multiaddrs: ['/ip4/127.0.0.1/tcp/4002/p2p/12D3KooWPeerB'], connected: false }
  ]

  private clock = 1_700_000_000_000
  private seq = 0
  private readonly hung: Array<() => void> = []
  private readonly hangWaiters: Array<() => void> = []

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
    const info: AgentInfo = {
      id: req.id,
      moduleHash: 'ab'.repeat(32),
      moduleBytes: req.wasm.byteLength,
      state: 'running',
      limits: { ...DEFAULT_LIMITS, ...req.limits },
      deployedAt: this.tick(),
      stats: { received: 0, handled: 0, sent: 0, errors: 0, queued: 0, memoryPages: 1 }
    }
    this.agents.set(req.id, info)
    return info
  }

  listAgents (): AgentInfo[] {
    return [...this.agents.values()]
  }

  getAgent (id: AgentId): AgentInfo {
    const info = this.agents.get(id)
    if (info === undefined) throw new FakeError('AGENT_NOT_FOUND', `no agent '${id}'`, { agentId: id })
    return info
  }

  async removeAgent (id: AgentId): Promise<void> {
    if (!this.agents.delete(id)) throw new FakeError('AGENT_NOT_FOUND', `no agent '${id}'`, { agentId: id })
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
}

