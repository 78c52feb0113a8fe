import { createHash } from 'node:crypto'
import { pack, unpack } from 'msgpackr'
import type { Capability } from '../../protocols/registry/types.js'
import type { AgentLimits } from '../runtime/types.js'
import { StorageCorruptError } from './errors.js'
import { MeteredModuleRows } from './metered-modules.js'
import type { NodeStorage, Sublevel } from './storage.js'

/** A deployed agent as persisted: enough to bring it back on restart. */
export interface StoredAgent {
  id: string
  /** sha256 of the module, hex; the bytes live in the `modules` sublevel. */
  moduleHash: string
  limits: Partial<AgentLimits>
  /** ms since the epoch. */
  deployedAt: number
  /** What the agent offers (published in the cluster registry); `[]` when none was given. */
  capabilities: Capability[]
  /** Set while it is stopped or suspended (by an operator, or over its send budget): how a restart brings it back. */
  held?: { state: 'stopped' | 'suspended', reason?: string }
  /** The version running: 1 at deploy, one more at each upgrade or rollback. */
  version: number
  /** The versions kept for rollback, oldest first, the current one last (config `agents.keepVersions`). */
  versions: AgentVersion[]
}

/** One version of an agent: what it was deployed (or upgraded, or rolled back) with. */
export interface AgentVersion {
  version: number
  /** sha256 of the module, hex (the bytes are in the `modules` sublevel while a version keeps them). */
  moduleHash: string
  /** Size of the module, bytes. */
  moduleBytes: number
  /** As asked; the node's defaults fill the rest. */
  limits: Partial<AgentLimits>
  capabilities: Capability[]
  /** ms since the epoch. */
  deployedAt: number
  /** The version whose module, limits and capabilities this one took back (a rollback). */
  rollbackOf?: number
}

/** What a new version of a stored agent brings (its number is the current one's plus one). */
export interface NextVersion {
  limits: Partial<AgentLimits>
  capabilities: Capability[]
  deployedAt: number
  rollbackOf?: number
}

type NewAgent = Omit<StoredAgent, 'moduleHash' | 'capabilities' | 'version' | 'versions'> & { capabilities?: Capability[] }

/**
 * One row change in a sublevel of the node's database, to be written in one atomic batch
 * with rows of other components (e.g. the registry's, see `LevelRegistryStore.writeWith`).
 */
export type StorageOp =
  | { type: 'put', sublevel: Sublevel, key: string, value: Uint8Array }
  | { type: 'del', sublevel: Sublevel, key: string }

/**
 * Deployed agents and their modules, persisted in the node's LevelDB. A module's row in
 * `metered-modules` (the runtime's metered form of it) is deleted with the module.
 */
export class AgentStore {
  /**
   * @param metered the runtime's metered modules (the same rows the runtime keeps them in);
   *   by default opened on `storage`
   */
  constructor (private readonly storage: NodeStorage, private readonly metered = new MeteredModuleRows(storage)) {}

  /** Stores the agent and its module in one atomic batch. */
  async put (agent: NewAgent, wasm: Uint8Array): Promise<StoredAgent> {
    const { record, ops } = this.putOps(agent, wasm)
    await this.apply(ops)
    return record
  }

  /**
   * The rows that store the agent and its module, for the caller to write atomically
   * with its own (nothing is written here).
   */
  putOps (agent: NewAgent, wasm: Uint8Array): { record: StoredAgent, ops: StorageOp[] } {
    const moduleHash = sha256(wasm)
    const capabilities = agent.capabilities ?? []
    const first: AgentVersion = { version: 1, moduleHash, moduleBytes: wasm.byteLength, limits: agent.limits, capabilities, deployedAt: agent.deployedAt }
    const record: StoredAgent = { ...agent, capabilities, moduleHash, version: 1, versions: [first] }
    return {
      record,
      ops: [
        { type: 'put', sublevel: this.storage.modules, key: moduleHash, value: wasm },
        ...this.recordOps(record)
      ]
    }
  }

  /**
   * The rows that make `wasm` the next version of `current` (an upgrade or a rollback):
   * the module, the record with the new version appended to its versions and the oldest
   * beyond `keep` dropped, and the deletion of a dropped version's module that neither
   * this agent nor any of `others` (the node's other stored agents) still uses. Nothing is
   * written here.
   */
  nextVersionOps (current: StoredAgent, next: NextVersion, wasm: Uint8Array, keep: number, others: readonly StoredAgent[]): { record: StoredAgent, ops: StorageOp[] } {
    const moduleHash = sha256(wasm)
    const added: AgentVersion = { version: current.version + 1, moduleHash, moduleBytes: wasm.byteLength, limits: next.limits, capabilities: next.capabilities, deployedAt: next.deployedAt }
    if (next.rollbackOf !== undefined) added.rollbackOf = next.rollbackOf
    const all = [...current.versions, added]
    const versions = all.slice(Math.max(0, all.length - keep))
    const record: StoredAgent = { ...current, moduleHash, limits: next.limits, capabilities: next.capabilities, deployedAt: next.deployedAt, version: added.version, versions }
    const ops: StorageOp[] = [
      { type: 'put', sublevel: this.storage.modules, key: moduleHash, value: wasm },
      ...this.recordOps(record)
    ]
    const used = modulesOf([record, ...others.filter(a => a.id !== current.id)])
    for (const hash of new Set([current.moduleHash, ...current.versions.map(v => v.moduleHash)])) {
      if (!used.has(hash)) ops.push(...this.moduleDeleteOps(hash))
    }
    return { record, ops }
  }

  /** The row that rewrites a stored agent's record (e.g. its `held` state), for the caller to write. */
  recordOps (record: StoredAgent): StorageOp[] {
    return [{ type: 'put', sublevel: this.storage.agents, key: record.id, value: pack(record) }]
  }

  /** Rewrites a stored agent's record. */
  async putRecord (record: StoredAgent): Promise<void> {
    await this.apply(this.recordOps(record))
  }

  /** Removes the agent, and its module when no other agent uses it. */
  async delete (id: string): Promise<void> {
    await this.apply(await this.deleteOps(id))
  }

  /**
   * The rows that remove the agent (and the modules of its versions that no other agent
   * uses), for the caller to write atomically with its own; `[]` when the agent is not stored.
   */
  async deleteOps (id: string): Promise<StorageOp[]> {
    const all = await this.list()
    const target = all.find(a => a.id === id)
    if (target == null) return []
    const ops: StorageOp[] = [{ type: 'del', sublevel: this.storage.agents, key: id }]
    const used = modulesOf(all.filter(a => a.id !== id))
    for (const hash of modulesOf([target])) {
      if (!used.has(hash)) ops.push(...this.moduleDeleteOps(hash))
    }
    return ops
  }

  /**
   * Deletes the metered modules (see `MeteredModuleRows`) of modules none of `agents` (the
   * stored agents, from {@link list}) keeps: those of a deploy that failed after its module
   * was metered. Returns how many.
   */
  async pruneMeteredModules (agents: readonly StoredAgent[]): Promise<number> {
    return await this.metered.prune(modulesOf(agents))
  }

  /** A module's row and its metered form's, deleted. */
  private moduleDeleteOps (hash: string): StorageOp[] {
    return [{ type: 'del', sublevel: this.storage.modules, key: hash }, this.metered.deleteOp(hash)]
  }

  /** Every stored agent, in id order. @throws StorageCorruptError */
  async list (): Promise<StoredAgent[]> {
    const out: StoredAgent[] = []
    for await (const [key, value] of this.storage.agents.iterator()) {
      out.push(decodeAgent(key, value))
    }
    for (const a of out) {
      // A record written before versions existed: its module is version 1.
      if (a.versions.length === 0) {
        const moduleBytes = (await this.storage.modules.get(a.moduleHash) as Uint8Array | undefined)?.byteLength ?? 0
        a.versions = [{ version: 1, moduleHash: a.moduleHash, moduleBytes, limits: a.limits, capabilities: a.capabilities, deployedAt: a.deployedAt }]
      }
    }
    return out
  }

  /** The module bytes of a stored agent. @throws StorageCorruptError when missing. */
  async module (hash: string): Promise<Uint8Array> {
    const bytes = await this.storage.modules.get(hash) as Uint8Array | undefined
    if (bytes == null) throw new StorageCorruptError(`modules/${hash}`, 'module bytes are missing')
    return bytes
  }

  private async apply (ops: StorageOp[]): Promise<void> {
    if (ops.length === 0) return
    const batch = this.storage.db.batch()
    for (const op of ops) {
      if (op.type === 'put') batch.put(op.key, op.value, { sublevel: op.sublevel })
      else batch.del(op.key, { sublevel: op.sublevel })
    }
    await batch.write()
  }
}

function decodeAgent (key: string, value: Uint8Array): StoredAgent {
  let rec: unknown
  try {
    rec = unpack(value)
  } catch (err) {
    throw new StorageCorruptError(`agents/${key}`, (err as Error).message)
  }
  const r = rec as Partial<StoredAgent>
  if (typeof r?.id !== 'string' || typeof r.moduleHash !== 'string' || typeof r.deployedAt !== 'number') {
    throw new StorageCorruptError(`agents/${key}`, 'missing id, moduleHash or deployedAt')
  }
  // Records written before capabilities existed have none.
  const capabilities = Array.isArray(r.capabilities) ? r.capabilities : []
  // Records written before versions existed are version 1 (`list` fills its versions in).
  const version = typeof r.version === 'number' ? r.version : 1
  const versions = Array.isArray(r.versions) ? r.versions : []
  const agent: StoredAgent = { id: r.id, moduleHash: r.moduleHash, limits: r.limits ?? {}, deployedAt: r.deployedAt, capabilities, version, versions }
  if (r.held?.state === 'stopped' || r.held?.state === 'suspended') agent.held = r.held
  return agent
}

/** Every module hash the agents' current versions and kept versions use. */
function modulesOf (agents: readonly StoredAgent[]): Set<string> {
  const used = new Set<string>()
  for (const a of agents) {
    used.add(a.moduleHash)
    for (const v of a.versions) used.add(v.moduleHash)
  }
  return used
}

function sha256 (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}
