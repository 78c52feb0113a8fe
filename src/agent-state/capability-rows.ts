/**
 * The capabilities agents declared at run time (ABI SPEC.md §9): rows of sublevel
 * `agent-capabilities`, one per agent that changed its capabilities since its deploy, all
 * held in memory (at most 64 per agent). An agent without a row offers what it was
 * deployed with.
 *
 * ```
 * <agent id>  →  msgpack [1, capabilities (array of { name, version?, description?, schema? })]
 * ```
 */
import { Packr } from 'msgpackr'
import type { Logger } from 'pino'
import type { AgentId } from '../../protocols/fipa/types.js'
import type { Capability } from '../../protocols/registry/index.js'
import { silentLogger } from '../observability/logger.js'
import { parseCapabilities } from '../registry/index.js'
import type { StorageOp, Sublevel } from '../storage/index.js'

const packr = new Packr({ useRecords: false })
const VERSION = 1

export class AgentCapabilityRows {
  private readonly declared = new Map<AgentId, Capability[]>()

  constructor (private readonly rows: Sublevel, private readonly log: Logger = silentLogger()) {}

  /** Reads every row; rows of agents `keep` rejects, and unreadable ones (logged), are deleted. */
  async load (keep: (agentId: AgentId) => boolean): Promise<void> {
    const stale: string[] = []
    for await (const [agentId, value] of this.rows.iterator()) {
      if (!keep(agentId)) {
        stale.push(agentId)
        continue
      }
      try {
        const v = packr.unpack(value) as unknown[]
        if (!Array.isArray(v) || v[0] !== VERSION) throw new Error('unknown record version')
        this.declared.set(agentId, parseCapabilities(v[1], 'capabilities'))
      } catch (err) {
        this.log.error({ agentId, err: (err as Error).message }, 'dropping an unreadable row of declared capabilities')
        stale.push(agentId)
      }
    }
    if (stale.length > 0) await this.rows.batch(stale.map(key => ({ type: 'del' as const, key })))
  }

  /** What `agentId` declared it offers; undefined when it changed nothing since its deploy. */
  get (agentId: AgentId): Capability[] | undefined {
    return this.declared.get(agentId)
  }

  /** `agentId` offers `capabilities` now: returns the row, to be written with the handled message. */
  apply (agentId: AgentId, capabilities: Capability[]): StorageOp[] {
    this.declared.set(agentId, capabilities)
    return [{ type: 'put', sublevel: this.rows, key: agentId, value: packr.pack([VERSION, capabilities]) }]
  }

  /** Forgets `agentId`'s row (it was removed) and returns its delete. */
  dropOps (agentId: AgentId): StorageOp[] {
    return this.declared.delete(agentId) ? [{ type: 'del', sublevel: this.rows, key: agentId }] : []
  }
}
