/**
 * Agents' key-value stores on the node (ABI SPEC.md §7): rows of sublevel `agent-kv`, and
 * every store in memory, so that an instance (re)loaded after its worker was terminated
 * starts from what its last reported message left, whether or not that write is on disk
 * yet. Memory is bounded by the stores' quotas.
 *
 * ```
 * <agent id> \0 <key, bytes as latin1 chars>  →  the value's bytes
 * ```
 * Agent ids never contain `\0`.
 */
import type { Logger } from 'pino'
import type { AgentId } from '../../protocols/fipa/types.js'
import { silentLogger } from '../observability/logger.js'
import type { StorageOp, Sublevel } from '../storage/index.js'
import { entryBytes } from '../runtime/host/index.js'

export class AgentKvRows {
  private readonly stores = new Map<AgentId, { entries: Map<string, Uint8Array>, bytes: number }>()

  constructor (private readonly rows: Sublevel, private readonly log: Logger = silentLogger()) {}

  /** Reads every stored entry; rows of agents `keep` rejects are deleted. Call before agents are restored. */
  async load (keep: (agentId: AgentId) => boolean): Promise<void> {
    const stale: string[] = []
    let loaded = 0
    for await (const [row, value] of this.rows.iterator()) {
      const sep = row.indexOf('\0')
      const agentId = row.slice(0, sep)
      if (sep <= 0 || !keep(agentId)) {
        stale.push(row)
        continue
      }
      this.set(this.store(agentId), row.slice(sep + 1), value)
      loaded++
    }
    if (stale.length > 0) await this.rows.batch(stale.map(key => ({ type: 'del' as const, key })))
    if (loaded > 0 || stale.length > 0) this.log.info({ loaded, dropped: stale.length }, 'agent stores loaded')
  }

  /** `agentId`'s entries (latin1 keys), unordered. */
  entries (agentId: AgentId): Array<[string, Uint8Array]> {
    return [...this.stores.get(agentId)?.entries ?? []]
  }

  /** What `agentId`'s entries count for against its quota, bytes. */
  bytes (agentId: AgentId): number {
    return this.stores.get(agentId)?.bytes ?? 0
  }

  /** Bytes of every store. */
  totalBytes (): number {
    let n = 0
    for (const s of this.stores.values()) n += s.bytes
    return n
  }

  /** Applies the writes of one handled message; returns their rows, to be written with it. */
  apply (agentId: AgentId, changes: ReadonlyArray<readonly [string, Uint8Array | null]>): StorageOp[] {
    const store = this.store(agentId)
    const ops: StorageOp[] = []
    for (const [key, value] of changes) {
      const row = `${agentId}\0${key}`
      if (value === null) {
        const old = store.entries.get(key)
        if (old !== undefined) store.bytes -= entryBytes(key, old)
        store.entries.delete(key)
        ops.push({ type: 'del', sublevel: this.rows, key: row })
      } else {
        this.set(store, key, value)
        ops.push({ type: 'put', sublevel: this.rows, key: row, value })
      }
    }
    return ops
  }

  /**
   * Forgets `agentId`'s store (it was removed) and returns the rows to delete: every row
   * has its entry here until a delete of it is staged, so these are all of them.
   */
  dropOps (agentId: AgentId): StorageOp[] {
    const store = this.stores.get(agentId)
    this.stores.delete(agentId)
    return [...store?.entries.keys() ?? []].map(key => ({ type: 'del', sublevel: this.rows, key: `${agentId}\0${key}` }))
  }

  private store (agentId: AgentId): { entries: Map<string, Uint8Array>, bytes: number } {
    let s = this.stores.get(agentId)
    if (s === undefined) {
      s = { entries: new Map(), bytes: 0 }
      this.stores.set(agentId, s)
    }
    return s
  }

  private set (store: { entries: Map<string, Uint8Array>, bytes: number }, key: string, value: Uint8Array): void {
    const old = store.entries.get(key)
    if (old !== undefined) store.bytes -= entryBytes(key, old)
    store.entries.set(key, value)
    store.bytes += entryBytes(key, value)
  }
}
