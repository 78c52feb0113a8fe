/**
 * The node's agents: deploy, remove, restore, and their lifecycle (stop, start, suspend,
 * resume), keeping the runtime, the agent store, the cluster registry, the DHT provider
 * records and the durable inboxes in step.
 */
import type { Logger } from 'pino'
import type { AgentId } from '../../protocols/fipa/types.js'
import { isAgentId, SYSTEM_AGENT } from '../../protocols/fipa/index.js'
import type { AgentState, Capability } from '../../protocols/registry/index.js'
import type { DeployRequest, UpgradeRequest } from '../api/facade.js'
import type { DeliveryService } from '../delivery/index.js'
import type { ClusterRegistry } from '../registry/index.js'
import { parseCapabilities } from '../registry/index.js'
import type { ProviderRecords, RegistryLocator } from '../routing/index.js'
import { AgentNotFoundError, InvalidAgentIdError } from '../runtime/index.js'
import type { AgentInfo, AgentRuntime } from '../runtime/types.js'
import type { AgentStore, AgentVersion, StorageOp, StoredAgent } from '../storage/index.js'
import { AgentIdTakenError, AgentVersionNotFoundError } from './errors.js'

/** An agent as the node returns it: the runtime's view plus what it offers and its version (1, 2, 3...). */
export type HostedAgent = AgentInfo & { capabilities: Capability[], version: number }

/** `GET /agents/:id/versions`: the versions kept, oldest first, the current one last. */
export interface AgentVersions {
  id: AgentId
  /** The version running. */
  version: number
  versions: AgentVersion[]
}

export interface AgentManagerOptions {
  self: string
  runtime: AgentRuntime
  store: AgentStore
  registry: ClusterRegistry
  providers: ProviderRecords
  locator: RegistryLocator
  delivery: DeliveryService
  /** Versions of each agent kept for rollback, the current one included. @default 5 */
  keepVersions?: number
  /**
   * Agents' stores, timers and declared capabilities: deleted with the agent; the
   * capabilities an agent declared (undefined: none since its deploy) are what is published.
   */
  state?: { drop: (agentId: AgentId) => Promise<void>, declared: (agentId: AgentId) => Capability[] | undefined }
  logger: Logger
}

const ON_THIS_NODE = 'on this node'

export class AgentManager {
  /** This node's agents as stored (deployed with; `held` rewritten with their lifecycle state). */
  private readonly stored = new Map<AgentId, StoredAgent>()
  /** Capabilities of agents being deployed or upgraded, until their record is stored. */
  private readonly deploying = new Map<AgentId, Capability[]>()
  /** Upgrades and rollbacks in progress, one at a time per agent. */
  private readonly upgrading = new Map<AgentId, Promise<unknown>>()

  constructor (private readonly o: AgentManagerOptions) {}

  /**
   * Deploys an agent: the runtime validates and starts it, then its record, module and
   * registry entry are written in one LevelDB batch, then the registry delta is published
   * and the DHT provider record put.
   * @throws InvalidAgentIdError, InvalidCapabilityError, AgentIdTakenError, InvalidModuleError,
   *   RegistryPersistError
   */
  async deploy (req: DeployRequest): Promise<HostedAgent> {
    checkAgentId(req.id)
    const capabilities = parseCapabilities(req.capabilities ?? [], 'capabilities')
    const { self, runtime, registry } = this.o
    const elsewhere = registry.get(req.id)?.node ?? this.o.locator.lookup(req.id)
    if (elsewhere != null && elsewhere !== self && !runtime.has(req.id)) throw new AgentIdTakenError(req.id, elsewhere)
    // The instance loads with these (capabilitiesOf) before the record is stored.
    this.deploying.set(req.id, capabilities)
    const info = await runtime.deploy(req.id, req.wasm, req.limits).finally(() => { this.deploying.delete(req.id) })
    try {
      const { record, ops } = this.o.store.putOps({ id: req.id, limits: req.limits ?? {}, deployedAt: info.deployedAt, capabilities }, req.wasm)
      await registry.commit({ type: 'put', agentId: req.id, node: self, state: info.state, capabilities, agentVersion: 1 }, { with: ops })
      this.stored.set(req.id, record)
    } catch (err) {
      await runtime.remove(req.id).catch(() => {})
      throw err
    }
    this.o.providers.provide(req.id)
    this.o.logger.info({ agentId: req.id, moduleHash: info.moduleHash, capabilities: capabilities.length }, 'agent deployed')
    return { ...info, capabilities, version: 1 }
  }

  /**
   * Upgrades an agent in place to a new module (`PUT /agents/:id`): limits and capabilities
   * not given are the current version's. The runtime checks the module first and swaps the
   * instances (see `AgentRuntime.upgrade`: messages are neither lost nor reordered, the
   * agent's store and timers are kept); then the new version's module and record are
   * written in one LevelDB batch with its registry entry.
   * @throws AgentNotFoundError, InvalidCapabilityError, InvalidModuleError (nothing changed),
   *   AgentStateError, RegistryPersistError
   */
  async upgrade (req: UpgradeRequest): Promise<HostedAgent> {
    const capabilities = req.capabilities === undefined ? undefined : parseCapabilities(req.capabilities, 'capabilities')
    return await this.oneAtATime(req.id, async () => {
      const current = this.current(req.id)
      return await this.nextVersion(current, req.wasm, {
        limits: req.limits ?? current.limits,
        capabilities: capabilities ?? current.capabilities
      })
    })
  }

  /**
   * Rolls an agent back to a kept version (`POST /agents/:id/rollback`; default: the one
   * before the current one), as an upgrade to that version's module, limits and
   * capabilities: the result is a new version.
   * @throws AgentNotFoundError, AgentVersionNotFoundError, InvalidModuleError, AgentStateError, RegistryPersistError
   */
  async rollback (id: AgentId, version?: number): Promise<HostedAgent> {
    return await this.oneAtATime(id, async () => {
      const current = this.current(id)
      const target = this.rollbackTarget(id, version)
      const wasm = await this.o.store.module(target.moduleHash)
      return await this.nextVersion(current, wasm, { limits: target.limits, capabilities: target.capabilities, rollbackOf: target.version })
    })
  }

  /**
   * The kept version a rollback of `id` would take back: `version`, or the one before the
   * current one. @throws AgentNotFoundError, AgentVersionNotFoundError
   */
  rollbackTarget (id: AgentId, version?: number): AgentVersion {
    const { versions } = this.current(id)
    const target = version === undefined ? versions.at(-2) : versions.find(v => v.version === version)
    if (target === undefined) throw new AgentVersionNotFoundError(id, version ?? null, versions.map(v => v.version))
    return target
  }

  /** The versions of `id` kept on this node. @throws AgentNotFoundError */
  versions (id: AgentId): AgentVersions {
    const s = this.current(id)
    return { id, version: s.version, versions: s.versions.map(v => ({ ...v })) }
  }

  private current (id: AgentId): StoredAgent {
    const s = this.stored.get(id)
    if (s === undefined || !this.o.runtime.has(id)) throw new AgentNotFoundError(id, ON_THIS_NODE)
    return s
  }

  private async oneAtATime<T> (id: AgentId, fn: () => Promise<T>): Promise<T> {
    while (this.upgrading.has(id)) await this.upgrading.get(id)?.catch(() => {})
    const p = fn()
    this.upgrading.set(id, p)
    try {
      return await p
    } finally {
      if (this.upgrading.get(id) === p) this.upgrading.delete(id)
    }
  }

  private async nextVersion (current: StoredAgent, wasm: Uint8Array, next: { limits: StoredAgent['limits'], capabilities: Capability[], rollbackOf?: number }): Promise<HostedAgent> {
    const id = current.id
    const { runtime, registry, store, logger } = this.o
    // The new instance loads with these (capabilitiesOf) before the record is stored.
    this.deploying.set(id, next.capabilities)
    const info = await runtime.upgrade(id, wasm, next.limits).finally(() => { this.deploying.delete(id) })
    const others = [...this.stored.values()]
    const { record, ops } = store.nextVersionOps(this.stored.get(id) ?? current, { ...next, deployedAt: info.deployedAt }, wasm, this.o.keepVersions ?? 5, others)
    // What the agent declared since its deploy stays published (ABI SPEC.md §9).
    const published = this.o.state?.declared(id) ?? next.capabilities
    try {
      await registry.commit({ type: 'update', agentId: id, state: info.state, capabilities: published, agentVersion: record.version }, { with: ops })
    } catch (err) {
      // Not stored: the version that is on disk runs again.
      logger.error({ agentId: id, err: (err as Error).message }, 'upgraded agent not stored: going back to the stored version')
      await store.module(current.moduleHash)
        .then(async bytes => await runtime.upgrade(id, bytes, current.limits))
        .catch(again => { logger.error({ agentId: id, err: (again as Error).message }, 'the stored version did not start again') })
      throw err
    }
    this.stored.set(id, record)
    logger.info({ agentId: id, version: record.version, moduleHash: info.moduleHash, rollbackOf: next.rollbackOf }, next.rollbackOf === undefined ? 'agent upgraded' : 'agent rolled back')
    return { ...info, capabilities: [...published], version: record.version }
  }

  /**
   * The capabilities `id` was deployed with (ABI SPEC.md §9: those it declared since are
   * the agent's state, see `AgentStateService`).
   */
  deployedCapabilities (id: AgentId): Capability[] {
    return this.deploying.get(id) ?? this.stored.get(id)?.capabilities ?? []
  }

  /** Agent `id`'s handler changed the capabilities it offers: publishes them in the registry. */
  publishCapabilities (id: AgentId, capabilities: Capability[]): void {
    if (this.o.registry.get(id)?.node !== this.o.self) return
    this.o.registry.commit({ type: 'update', agentId: id, capabilities })
      .catch(err => { this.o.logger.error({ agentId: id, err: (err as Error).message }, 'declared capabilities not published') })
  }

  list (): HostedAgent[] {
    return this.o.runtime.list().map(info => this.hosted(info))
  }

  /** @throws AgentNotFoundError */
  get (id: AgentId): HostedAgent {
    const info = this.o.runtime.get(id)
    if (info == null) throw new AgentNotFoundError(id, ON_THIS_NODE)
    return this.hosted(info)
  }

  /**
   * Drains and stops an agent, then deletes its record (and module, if unshared) and
   * writes its registry tombstone in one LevelDB batch, publishes it and withdraws the
   * DHT record. Messages it did not get to are dead-lettered, their senders told.
   * @throws AgentNotFoundError, RegistryPersistError
   */
  async remove (id: AgentId): Promise<void> {
    if (!this.o.runtime.has(id)) throw new AgentNotFoundError(id, ON_THIS_NODE)
    const left = await this.o.runtime.remove(id)
    const ops = await this.o.store.deleteOps(id)
    await this.o.registry.commit({ type: 'remove', agentId: id }, { with: ops })
    this.stored.delete(id)
    await this.o.state?.drop(id)
    await this.o.delivery.disposeInbox(left, 'agent-removed', `agent ${id} was removed from node ${this.o.self} before handling it`)
    await this.o.providers.withdraw(id)
    this.o.logger.info({ agentId: id, undelivered: left.length }, 'agent removed')
  }

  /**
   * Redeploys the agents persisted before a restart (their modules compiled from the metered
   * form the runtime kept, when this build metered them; one that no longer loads is logged
   * and published as `failed`; one stopped or suspended comes back so), deletes metered
   * modules no agent keeps, and brings the registry in line with them: entries of this
   * node's agents are (re)written where they differ, and an entry naming this node for an
   * agent it no longer stores is removed.
   */
  async restore (): Promise<void> {
    const { runtime, registry, self, logger } = this.o
    const stored = await this.o.store.list()
    for (const s of stored) {
      this.stored.set(s.id, s)
      let state: AgentState = 'failed'
      try {
        const wasm = await this.o.store.module(s.moduleHash)
        state = (await runtime.deploy(s.id, wasm, s.limits, s.held ?? {})).state
        this.o.providers.provide(s.id)
        logger.info({ agentId: s.id }, 'agent restored')
      } catch (err) {
        logger.error({ agentId: s.id, err: (err as Error).message }, 'could not restore agent')
      }
      await this.publishHosted({ ...s, capabilities: this.o.state?.declared(s.id) ?? s.capabilities }, state).catch(err => { logger.error({ agentId: s.id, err: (err as Error).message }, 'could not register a restored agent') })
    }
    await this.o.store.pruneMeteredModules(stored).then(n => {
      if (n > 0) logger.info({ pruned: n }, 'metered modules of modules no agent keeps deleted')
    }, (err: Error) => { logger.warn({ err: err.message }, 'could not prune metered modules') })
    const kept = new Set(stored.map(s => s.id))
    for (const a of registry.list({ node: self })) {
      if (kept.has(a.agentId)) continue
      await registry.commit({ type: 'remove', agentId: a.agentId })
        .catch(err => { logger.error({ agentId: a.agentId, err: (err as Error).message }, 'could not remove a stale registry entry') })
    }
  }

  /**
   * `POST /agents/:id/stop`: drains and stops the agent (see `AgentRuntime.stopAgent`);
   * what it did not handle waits for its start. Stays stopped across restarts.
   * @throws AgentNotFoundError, AgentStateError
   */
  async stop (id: AgentId): Promise<HostedAgent> {
    return this.hosted(await this.o.runtime.stopAgent(id))
  }

  /**
   * `POST /agents/:id/start`: instantiates a stopped or failed agent again; the messages
   * that waited for it (in its inbox, or in senders' outboxes) are delivered.
   * @throws AgentNotFoundError, AgentStateError, InvalidModuleError
   */
  async start (id: AgentId): Promise<HostedAgent> {
    const info = await this.o.runtime.startAgent(id)
    this.o.delivery.routesChanged()
    return this.hosted(info)
  }

  /**
   * `POST /agents/:id/suspend`: the agent keeps its instance and handles nothing until
   * resumed; messages wait for it. Stays suspended across restarts.
   * @throws AgentNotFoundError, AgentStateError
   */
  suspend (id: AgentId, reason?: string): HostedAgent {
    return this.hosted(this.o.runtime.suspend(id, reason))
  }

  /** `POST /agents/:id/resume`. @throws AgentNotFoundError, AgentStateError */
  resume (id: AgentId): HostedAgent {
    const info = this.o.runtime.resume(id)
    this.o.delivery.routesChanged()
    return this.hosted(info)
  }

  /**
   * The agent's state changed after its deploy (a lifecycle call, its send budget, a
   * fault): published in the registry, in one write with its stored record when it is
   * now held (stopped, suspended) or no longer.
   */
  stateChanged (agentId: AgentId, state: AgentState, reason?: string): void {
    const record = this.stored.get(agentId)
    const held = state === 'stopped' || state === 'suspended' ? state : undefined
    let ops: StorageOp[] = []
    // Draining, loading and failing are passing states: a restart brings back what was held.
    if (record !== undefined && (held !== undefined || state === 'running') && record.held?.state !== held) {
      const next: StoredAgent = { ...record }
      delete next.held
      if (held !== undefined) next.held = reason === undefined ? { state: held } : { state: held, reason }
      this.stored.set(agentId, next)
      ops = this.o.store.recordOps(next)
    }
    const entry = this.o.registry.get(agentId)
    if (entry?.node !== this.o.self || (entry.state === state && ops.length === 0)) {
      const next = this.stored.get(agentId)
      if (ops.length > 0 && next !== undefined) void this.o.store.putRecord(next).catch(err => { this.o.logger.error({ agentId, err: (err as Error).message }, 'agent state not stored') })
      return
    }
    this.o.registry.commit({ type: 'update', agentId, state }, { with: ops })
      .catch(err => { this.o.logger.warn({ agentId, state, err: (err as Error).message }, 'agent state not published') })
  }

  /** Writes this node's entry for a hosted agent unless the registry already says exactly that. */
  private async publishHosted (s: StoredAgent, state: AgentState): Promise<void> {
    const current = this.o.registry.get(s.id)
    if (current !== undefined && current.node !== this.o.self) {
      this.o.logger.warn({ agentId: s.id, node: current.node }, 'the registry names another node for a restored agent; leaving its entry alone')
      return
    }
    if (current?.state === state && current.agentVersion === s.version && JSON.stringify(current.capabilities) === JSON.stringify(s.capabilities)) return
    await this.o.registry.commit({ type: 'put', agentId: s.id, node: this.o.self, state, capabilities: s.capabilities, agentVersion: s.version })
  }

  private hosted (info: AgentInfo): HostedAgent {
    const entry = this.o.registry.get(info.id)
    const capabilities = entry !== undefined && entry.node === this.o.self ? [...entry.capabilities] : []
    return { ...info, capabilities, version: this.stored.get(info.id)?.version ?? 1 }
  }
}

function checkAgentId (id: string): void {
  if (!isAgentId(id)) throw new InvalidAgentIdError(String(id))
  if (id === SYSTEM_AGENT || id.startsWith('client-')) {
    throw new InvalidAgentIdError(id, `"${SYSTEM_AGENT}" and ids starting with "client-" are reserved`)
  }
}
