import { createHash } from 'node:crypto'
import { pack, unpack } from 'msgpackr'
import type { Capability } from '../../protocols/registry/types.js'
import type { AgentLimits } from '../runtime/types.js'
import { StorageCorruptError } from './errors.js'
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
}

/**
 * One row change in a sublevel of the node's database, to be written in one atomic batch
 * with rows of other components (e.g. the registry's, see `LevelRegistryStore.writeWith`).
 */
export type StorageOp =
  | { type: 'put', sublevel: Sublevel, key: string, value: Uint8Array }
  | { type: 'del', sublevel: Sublevel, key: string }

/** Deployed agents and their modules, persisted in the node's LevelDB. */
export class AgentStore {
  constructor (private readonly storage: NodeStorage) {}

  /** Stores the agent and its module in one atomic batch. */
  async put (agent: Omit<StoredAgent, 'moduleHash' | 'capabilities'> & { capabilities?: Capability[] }, wasm: Uint8Array): Promise<StoredAgent> {
    const { record, ops } = this.putOps(agent, wasm)
    await this.apply(ops)
    return record
  }

  /**
   * The rows that store the agent and its module, for the caller to write atomically
   * with its own (nothing is written here).
   */
  putOps (agent: Omit<StoredAgent, 'moduleHash' | 'capabilities'> & { capabilities?: Capability[] }, wasm: Uint8Array): { record: StoredAgent, ops: StorageOp[] } {
    const moduleHash = createHash('sha256').update(wasm).digest('hex')
    const record: StoredAgent = { ...agent, capabilities: agent.capabilities ?? [], moduleHash }
    return {
      record,
      ops: [
        { type: 'put', sublevel: this.storage.modules, key: moduleHash, value: wasm },
        { type: 'put', sublevel: this.storage.agents, key: agent.id, value: pack(record) }
      ]
    }
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
   * The rows that remove the agent (and its module when no other agent uses it), for the
   * caller to write atomically with its own; `[]` when the agent is not stored.
   */
  async deleteOps (id: string): Promise<StorageOp[]> {
    const all = await this.list()
    const target = all.find(a => a.id === id)
    if (target == null) return []
    const ops: StorageOp[] = [{ type: 'del', sublevel: this.storage.agents, key: id }]
    if (!all.some(a => a.id !== id && a.moduleHash === target.moduleHash)) {
      ops.push({ type: 'del', sublevel: this.storage.modules, key: target.moduleHash })
    }
    return ops
  }

  /** Every stored agent, in id order. @throws StorageCorruptError */
  async list (): Promise<StoredAgent[]> {
    const out: StoredAgent[] = []
    for await (const [key, value] of this.storage.agents.iterator()) {
      out.push(decodeAgent(key, value))
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
  const agent: StoredAgent = { id: r.id, moduleHash: r.moduleHash, limits: r.limits ?? {}, deployedAt: r.deployedAt, capabilities }
  if (r.held?.state === 'stopped' || r.held?.state === 'suspended') agent.held = r.held
  return agent
}
