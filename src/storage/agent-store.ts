import { createHash } from 'node:crypto'
import { pack, unpack } from 'msgpackr'
import type { AgentLimits } from '../runtime/types.js'
import { StorageCorruptError } from './errors.js'
import type { NodeStorage } from './storage.js'

/** A deployed agent as persisted: enough to bring it back on restart. */
export interface StoredAgent {
  id: string
  /** sha256 of the module, hex; the bytes live in the `modules` sublevel. */
  moduleHash: string
  limits: Partial<AgentLimits>
  /** ms since the epoch. */
  deployedAt: number
}

/** Deployed agents and their modules, persisted in the node's LevelDB. */
export class AgentStore {
  constructor (private readonly storage: NodeStorage) {}

  /** Stores the agent and its module in one atomic batch. */
  async put (agent: Omit<StoredAgent, 'moduleHash'>, wasm: Uint8Array): Promise<StoredAgent> {
    const moduleHash = createHash('sha256').update(wasm).digest('hex')
    const record: StoredAgent = { ...agent, moduleHash }
    await this.storage.db.batch()
      .put(moduleHash, wasm, { sublevel: this.storage.modules })
      .put(agent.id, pack(record), { sublevel: this.storage.agents })
      .write()
    return record
  }

  /** Removes the agent, and its module when no other agent uses it. */
  async delete (id: string): Promise<void> {
    const all = await this.list()
    const target = all.find(a => a.id === id)
    if (target == null) return
    const batch = this.storage.db.batch().del(id, { sublevel: this.storage.agents })
    if (!all.some(a => a.id !== id && a.moduleHash === target.moduleHash)) {
      batch.del(target.moduleHash, { sublevel: this.storage.modules })
    }
    await batch.write()
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
  return { id: r.id, moduleHash: r.moduleHash, limits: r.limits ?? {}, deployedAt: r.deployedAt }
}
