/**
 * The registry replica's storage in the node's LevelDB: sublevel `registry`, with rows
 * `e!<agentId>` (an entry, `encodeEntry`), `k!<nodeId>` (one origin's knowledge of the
 * causal context, `encodeKnowledge`) and `hlc` (the hybrid logical clock, `encodeHlc`),
 * as suggested by protocols/registry/SPEC.md §9. Meets the `RegistryStore` contract
 * (`test/protocols/registry/store-suite.ts`) and adds {@link LevelRegistryStore.writeWith}:
 * a registry batch and other rows of the node (an agent's record and module) in ONE
 * LevelDB batch, so a lifecycle change and the registry write it causes land together.
 *
 * A `format` row holds the wire version the rows were written with. Rows of another
 * version (version 1: unsigned writes, which no replica of version 2 accepts) are
 * dropped when the store is loaded: the replica starts empty and learns the cluster's
 * registry again by anti-entropy, and the node republishes its own agents.
 */
import {
  checkBatch, decodeEntry, decodeHlc, decodeKnowledge, encodeEntry, encodeHlc, encodeKnowledge, REGISTRY_WIRE_VERSION, RegistryStoreClosedError,
  type HlcTimestamp, type OriginKnowledge, type RegistryBatch, type RegistryEntry, type RegistryStore, type StoredRegistry
} from '../../protocols/registry/index.js'
import type { StorageOp } from '../storage/agent-store.js'
import { StorageCorruptError } from '../storage/errors.js'
import { openStorage, type NodeStorage, type Sublevel } from '../storage/storage.js'

/** Name of the node's sublevel holding the registry. */
export const REGISTRY_SUBLEVEL = 'registry'

const ENTRY = 'e!'
const KNOWLEDGE = 'k!'
const HLC = 'hlc'
const FORMAT = 'format'
const FORMAT_ROW = Uint8Array.of(REGISTRY_WIRE_VERSION)
// '"' is the character after '!': `prefix!` ≤ key < `prefix"` selects exactly the prefix.
const after = (prefix: string): string => prefix.slice(0, -1) + '"'

/** A store that can also write other rows of the node in the same atomic batch. */
export interface AtomicRegistryStore extends RegistryStore {
  /**
   * Applies `batch` and `extra` in one atomic LevelDB batch, after every write called
   * before it. @throws InvalidRegistryBatchError, RegistryStoreClosedError, or LevelDB's error
   */
  writeWith: (batch: RegistryBatch, extra: readonly StorageOp[]) => Promise<void>
}

export class LevelRegistryStore implements AtomicRegistryStore {
  private readonly rows: Sublevel
  private closed = false
  /** Whether this store has written (or checked) the `format` row. */
  private formatKnown = false
  /** Writes are chained so that they apply in call order (the store contract). */
  private tail: Promise<unknown> = Promise.resolve()

  private constructor (private readonly storage: NodeStorage, private readonly ownsStorage: boolean) {
    this.rows = storage.sublevel(REGISTRY_SUBLEVEL)
  }

  /** The registry rows of a node's open storage; `close()` leaves the storage open. */
  static fromStorage (storage: NodeStorage): LevelRegistryStore {
    return new LevelRegistryStore(storage, false)
  }

  /**
   * Opens (creating if needed) a LevelDB under `dataDir` just for this store; `close()`
   * closes it. For tests and tools: a node shares its storage ({@link fromStorage}).
   * @throws StorageOpenError
   */
  static async open (dataDir: string): Promise<LevelRegistryStore> {
    return new LevelRegistryStore(await openStorage(dataDir), true)
  }

  /**
   * Loads the replica's rows; rows of another wire version are dropped first (see the
   * module comment).
   * @throws RegistryStoreClosedError, StorageCorruptError (a row that does not decode)
   */
  async load (): Promise<StoredRegistry> {
    if (this.closed) throw new RegistryStoreClosedError()
    await this.tail.catch(() => {})
    const format = await this.rows.get(FORMAT)
    if (format?.length !== 1 || format[0] !== REGISTRY_WIRE_VERSION) {
      await this.rows.clear()
      await this.rows.put(FORMAT, FORMAT_ROW)
    }
    this.formatKnown = true
    const entries: RegistryEntry[] = []
    for await (const [key, value] of this.rows.iterator({ gte: ENTRY, lt: after(ENTRY) })) {
      entries.push(decodeRow(key, value, decodeEntry))
    }
    const knowledge: OriginKnowledge[] = []
    for await (const [key, value] of this.rows.iterator({ gte: KNOWLEDGE, lt: after(KNOWLEDGE) })) {
      knowledge.push(decodeRow(key, value, decodeKnowledge))
    }
    const hlcBytes = await this.rows.get(HLC)
    // LevelDB orders by UTF-8 bytes; the contract orders by JavaScript string order
    // (the same for ASCII agent ids, not always for node ids).
    entries.sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0))
    knowledge.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
    const out: { entries: RegistryEntry[], knowledge: OriginKnowledge[], hlc?: HlcTimestamp } = { entries, knowledge }
    if (hlcBytes !== undefined) out.hlc = decodeRow(HLC, hlcBytes, decodeHlc)
    return out
  }

  async write (batch: RegistryBatch): Promise<void> {
    await this.writeWith(batch, [])
  }

  async writeWith (batch: RegistryBatch, extra: readonly StorageOp[]): Promise<void> {
    if (this.closed) throw new RegistryStoreClosedError()
    checkBatch(batch)
    const run = this.tail.catch(() => {}).then(async () => {
      const chained = this.storage.db.batch()
      for (const id of batch.delete) chained.del(ENTRY + id, { sublevel: this.rows })
      for (const e of batch.put) chained.put(ENTRY + e.agentId, encodeEntry(e), { sublevel: this.rows })
      for (const k of batch.knowledge) chained.put(KNOWLEDGE + k.node, encodeKnowledge(k), { sublevel: this.rows })
      if (batch.hlc !== undefined) chained.put(HLC, encodeHlc(batch.hlc), { sublevel: this.rows })
      // rows written by this code carry their format, whether or not the store was loaded first
      if (!this.formatKnown) chained.put(FORMAT, FORMAT_ROW, { sublevel: this.rows })
      for (const op of extra) {
        if (op.type === 'put') chained.put(op.key, op.value, { sublevel: op.sublevel })
        else chained.del(op.key, { sublevel: op.sublevel })
      }
      await chained.write()
      this.formatKnown = true
    })
    this.tail = run
    await run
  }

  /** Waits for pending writes; later calls throw RegistryStoreClosedError. Idempotent. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.tail.catch(() => {})
    if (this.ownsStorage) await this.storage.close()
  }
}

function decodeRow<T> (key: string, value: Uint8Array, decode: (bytes: Uint8Array) => T): T {
  try {
    return decode(value)
  } catch (err) {
    throw new StorageCorruptError(`${REGISTRY_SUBLEVEL}/${key}`, (err as Error).message)
  }
}
