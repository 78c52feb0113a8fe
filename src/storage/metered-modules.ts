/**
 * The agent runtime's metered modules (`MeteredModuleStore`), kept in the node's LevelDB
 * (sublevel `metered-modules`, by the sha256 of the module as deployed), so that a restart
 * brings its agents back without the policy worker. A row goes with its module: removed
 * in the same batch (`AgentStore`), and rows of modules no agent keeps any more are pruned
 * at start ({@link MeteredModuleRows.prune}).
 *
 * A row is msgpack `[1, fingerprint, bytes, imports, exports, memoryInitial,
 * memoryMaximum | null, instrumented]`.
 */
import { pack, unpack } from 'msgpackr'
import type { MeteredModule, MeteredModuleStore } from '../runtime/types.js'
import type { StorageOp } from './agent-store.js'
import type { NodeStorage, Sublevel } from './storage.js'

/** Name of the sublevel the rows live in. */
const METERED_MODULES_SUBLEVEL = 'metered-modules'

const ROW_FORMAT = 1

export class MeteredModuleRows implements MeteredModuleStore {
  private readonly rows: Sublevel

  constructor (storage: Pick<NodeStorage, 'sublevel'>) {
    this.rows = storage.sublevel(METERED_MODULES_SUBLEVEL)
  }

  /** The row kept for `hash`; undefined when there is none or it is not a row this code wrote (it is then replaced by the next `put`). */
  async get (hash: string): Promise<MeteredModule | undefined> {
    const value = await this.rows.get(hash) as Uint8Array | undefined
    return value === undefined ? undefined : decodeRow(value)
  }

  async put (hash: string, m: MeteredModule): Promise<void> {
    const r = m.report
    await this.rows.put(hash, pack([ROW_FORMAT, m.fingerprint, r.bytes, r.imports, r.exports, r.memory.initial, r.memory.maximum ?? null, m.instrumented]))
  }

  /** The row of `hash` deleted, for a batch that deletes its module too. */
  deleteOp (hash: string): StorageOp {
    return { type: 'del', sublevel: this.rows, key: hash }
  }

  /** Deletes the rows of modules not in `keep` (module hashes); returns how many. */
  async prune (keep: ReadonlySet<string>): Promise<number> {
    const stale: string[] = []
    for await (const key of this.rows.keys()) {
      if (!keep.has(key)) stale.push(key)
    }
    if (stale.length > 0) await this.rows.batch(stale.map(key => ({ type: 'del' as const, key })))
    return stale.length
  }
}

function decodeRow (value: Uint8Array): MeteredModule | undefined {
  let v: unknown
  try {
    v = unpack(value)
  } catch {
    return undefined
  }
  if (!Array.isArray(v) || v.length !== 8 || v[0] !== ROW_FORMAT) return undefined
  const [, fingerprint, bytes, imports, exports, initial, maximum, instrumented] = v as unknown[]
  if (typeof fingerprint !== 'string' || typeof bytes !== 'number' || !isStrings(imports) || !isStrings(exports) ||
      typeof initial !== 'number' || (maximum !== null && typeof maximum !== 'number') || !(instrumented instanceof Uint8Array)) {
    return undefined
  }
  const memory: MeteredModule['report']['memory'] = maximum === null ? { initial } : { initial, maximum }
  return { fingerprint, report: { bytes, imports, exports, memory }, instrumented }
}

function isStrings (x: unknown): x is string[] {
  return Array.isArray(x) && x.every(s => typeof s === 'string')
}
