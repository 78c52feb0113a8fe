/**
 * The storage contract of a registry replica, and an in-memory implementation. The
 * LevelDB implementation (in `src/registry/`) must pass the same suite
 * (`test/protocols/registry/store-suite.ts`).
 *
 * A store holds three kinds of rows: entries (by agent id), origin knowledge (by node
 * id: the causal context) and the hybrid logical clock. The registry computes a
 * `RegistryBatch` for every change; the store applies it atomically.
 */
import { InvalidRegistryBatchError, RegistryStoreClosedError } from './errors.js'
import type { HlcTimestamp } from './hlc.js'
import type { AgentId, NodeId, OriginKnowledge, RegistryBatch, RegistryEntry, StoredRegistry } from './types.js'

export interface RegistryStore {
  /** Everything stored: entries sorted by agent id, knowledge sorted by node. @throws RegistryStoreClosedError */
  load: () => Promise<StoredRegistry>
  /**
   * Applies a batch atomically: all of it or, when it throws, none of it. Knowledge rows
   * replace the stored row of their node; `hlc` replaces the stored clock.
   * @throws InvalidRegistryBatchError (an agent id both put and deleted, or listed twice;
   *   a node listed twice), RegistryStoreClosedError
   */
  write: (batch: RegistryBatch) => Promise<void>
  /** Releases the store; later calls throw RegistryStoreClosedError. Idempotent. */
  close: () => Promise<void>
}

/** Checks the invariants every store enforces before writing anything. @throws InvalidRegistryBatchError */
export function checkBatch (batch: RegistryBatch): void {
  if (typeof batch !== 'object' || batch === null || !Array.isArray(batch.put) || !Array.isArray(batch.delete) || !Array.isArray(batch.knowledge)) {
    throw new InvalidRegistryBatchError('expected { put, delete, knowledge, hlc? }')
  }
  const ids = new Set<AgentId>()
  for (const e of batch.put) {
    if (ids.has(e.agentId)) throw new InvalidRegistryBatchError(`agent ${JSON.stringify(e.agentId)} listed twice`)
    if (e.versions.length === 0) throw new InvalidRegistryBatchError(`entry ${JSON.stringify(e.agentId)} has no version`)
    ids.add(e.agentId)
  }
  for (const id of batch.delete) {
    if (ids.has(id)) throw new InvalidRegistryBatchError(`agent ${JSON.stringify(id)} both put and deleted, or deleted twice`)
    ids.add(id)
  }
  const nodes = new Set<NodeId>()
  for (const k of batch.knowledge) {
    if (nodes.has(k.node)) throw new InvalidRegistryBatchError(`knowledge of ${JSON.stringify(k.node)} listed twice`)
    nodes.add(k.node)
  }
}

/** Whether a batch changes nothing (no need to write it). */
export function isEmptyBatch (batch: RegistryBatch): boolean {
  return batch.put.length === 0 && batch.delete.length === 0 && batch.knowledge.length === 0 && batch.hlc === undefined
}

/**
 * Combines batches computed one after another into one with the same effect (the later
 * action on an agent or node wins), e.g. to write them with one atomic batch.
 */
export function combineBatches (...batches: RegistryBatch[]): RegistryBatch {
  const rows = new Map<AgentId, RegistryEntry | null>()
  const knowledge = new Map<NodeId, OriginKnowledge>()
  let hlc: HlcTimestamp | undefined
  for (const b of batches) {
    for (const id of b.delete) {
      rows.delete(id)
      rows.set(id, null)
    }
    for (const e of b.put) {
      rows.delete(e.agentId)
      rows.set(e.agentId, e)
    }
    for (const k of b.knowledge) knowledge.set(k.node, k)
    if (b.hlc !== undefined) hlc = b.hlc
  }
  const put: RegistryEntry[] = []
  const del: AgentId[] = []
  for (const [id, e] of rows) {
    if (e === null) del.push(id)
    else put.push(e)
  }
  const out: { put: RegistryEntry[], delete: AgentId[], knowledge: OriginKnowledge[], hlc?: HlcTimestamp } = { put, delete: del, knowledge: [...knowledge.values()] }
  if (hlc !== undefined) out.hlc = hlc
  return out
}

/** What an in-memory store keeps; share one between stores to simulate a reopen. */
export interface MemoryRegistryData {
  entries: Map<AgentId, RegistryEntry>
  knowledge: Map<NodeId, OriginKnowledge>
  hlc: HlcTimestamp | undefined
}

export function createMemoryRegistryData (): MemoryRegistryData {
  return { entries: new Map(), knowledge: new Map(), hlc: undefined }
}

/**
 * A `RegistryStore` in memory (tests, the simulator). Entries are immutable values, so
 * they are stored as given.
 */
export class MemoryRegistryStore implements RegistryStore {
  private readonly data: MemoryRegistryData
  private closed = false

  constructor (data: MemoryRegistryData = createMemoryRegistryData()) {
    this.data = data
  }

  async load (): Promise<StoredRegistry> {
    if (this.closed) throw new RegistryStoreClosedError()
    const entries = [...this.data.entries.values()].sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0))
    const knowledge = [...this.data.knowledge.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
    const out: { entries: RegistryEntry[], knowledge: OriginKnowledge[], hlc?: HlcTimestamp } = { entries, knowledge }
    if (this.data.hlc !== undefined) out.hlc = this.data.hlc
    return out
  }

  async write (batch: RegistryBatch): Promise<void> {
    if (this.closed) throw new RegistryStoreClosedError()
    checkBatch(batch)
    for (const id of batch.delete) this.data.entries.delete(id)
    for (const e of batch.put) this.data.entries.set(e.agentId, e)
    for (const k of batch.knowledge) this.data.knowledge.set(k.node, { node: k.node, upTo: k.upTo, extra: [...k.extra] })
    if (batch.hlc !== undefined) this.data.hlc = batch.hlc
  }

  async close (): Promise<void> {
    this.closed = true
  }
}
