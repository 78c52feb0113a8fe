/**
 * The dead-letter queue: messages that could not be delivered to a receiver before their
 * deadline, or that were refused, kept in the node's LevelDB (sublevel `dlq`) for an
 * operator to read, replay or purge. Bounded: past `max` entries the oldest is evicted
 * (counted by `onEvict`). Ids sort by time (`<13 hex ms><5 hex counter>`), so LevelDB
 * order is age order.
 */
import {
  decodeDeadLetter, encodeDeadLetter, type DeadLetterCause, type DeadLetterRecord
} from '../../protocols/delivery/index.js'
import type { StorageOp, Sublevel } from '../storage/index.js'

/** Filters of {@link DeadLetterQueue.list}. */
export interface DeadLetterQuery {
  /** The receiver or the sender is this agent. */
  agent?: string
  cause?: DeadLetterCause
  /** Dead-lettered at or after, ms since the epoch. */
  since?: number
  /** Most entries returned, newest first. @default 100 */
  limit?: number
}

export class DeadLetterQueue {
  /** Ids in age order; removed ones are skipped (and compacted now and then). */
  private ids: string[] = []
  private head = 0
  private readonly live = new Set<string>()
  private readonly byMessage = new Map<string, Set<string>>()
  private lastMs = 0
  private counter = 0

  constructor (
    private readonly rows: Sublevel,
    private readonly max: number,
    private readonly onEvict: (n: number) => void = () => {}
  ) {}

  /** Entries held (including those staged and not yet written). */
  get size (): number {
    return this.live.size
  }

  /**
   * Reads the index of the stored entries. Entries that cannot be decoded are deleted and
   * counted in the result.
   */
  async load (): Promise<{ loaded: number, corrupt: number }> {
    let corrupt = 0
    for await (const [key, value] of this.rows.iterator()) {
      try {
        const r = decodeDeadLetter(value)
        this.index(r.id, r.messageId)
      } catch {
        corrupt++
        await this.rows.del(key)
      }
    }
    return { loaded: this.live.size, corrupt }
  }

  /** A new entry's id, sortable by time `now`. */
  newId (now: number): string {
    if (now === this.lastMs) this.counter++
    else {
      this.lastMs = now
      this.counter = 0
    }
    return now.toString(16).padStart(13, '0') + this.counter.toString(16).padStart(5, '0')
  }

  /** The rows that store `record`, and evict the oldest entries past the bound. */
  addOps (record: DeadLetterRecord): StorageOp[] {
    const ops: StorageOp[] = [{ type: 'put', sublevel: this.rows, key: record.id, value: encodeDeadLetter(record) }]
    this.index(record.id, record.messageId)
    let evicted = 0
    while (this.live.size > this.max) {
      const oldest = this.ids[this.head++]
      if (!this.live.has(oldest)) continue
      this.unindex(oldest)
      ops.push({ type: 'del', sublevel: this.rows, key: oldest })
      evicted++
    }
    if (evicted > 0) this.onEvict(evicted)
    this.compact()
    return ops
  }

  /** The row change that deletes entry `id` (the caller writes it). */
  removeOps (id: string): StorageOp[] {
    if (!this.live.has(id)) return []
    this.unindex(id)
    return [{ type: 'del', sublevel: this.rows, key: id }]
  }

  has (id: string): boolean {
    return this.live.has(id)
  }

  async get (id: string): Promise<DeadLetterRecord | undefined> {
    if (!this.live.has(id)) return undefined
    const bytes = await this.rows.get(id)
    return bytes === undefined ? undefined : decodeDeadLetter(bytes)
  }

  /** Entries of one message (one per receiver it could not reach). */
  async ofMessage (messageId: string): Promise<DeadLetterRecord[]> {
    const ids = this.byMessage.get(messageId)
    if (ids === undefined) return []
    const out: DeadLetterRecord[] = []
    for (const id of ids) {
      const r = await this.get(id)
      if (r !== undefined) out.push(r)
    }
    return out
  }

  /** Entries matching `query`, newest first. */
  async list (query: DeadLetterQuery = {}): Promise<{ entries: DeadLetterRecord[], total: number }> {
    const limit = query.limit ?? 100
    const entries: DeadLetterRecord[] = []
    let total = 0
    const range = query.since !== undefined ? { gte: query.since.toString(16).padStart(13, '0'), reverse: true } : { reverse: true }
    for await (const value of this.rows.values(range)) {
      let r: DeadLetterRecord
      try {
        r = decodeDeadLetter(value)
      } catch {
        continue
      }
      if (query.agent !== undefined && r.receiver !== query.agent && r.sender !== query.agent) continue
      if (query.cause !== undefined && r.cause !== query.cause) continue
      total++
      if (entries.length < limit) entries.push(r)
    }
    return { entries, total }
  }

  private index (id: string, messageId: string): void {
    this.ids.push(id)
    this.live.add(id)
    let set = this.byMessage.get(messageId)
    if (set === undefined) {
      set = new Set()
      this.byMessage.set(messageId, set)
    }
    set.add(id)
    this.messageOf.set(id, messageId)
  }

  private readonly messageOf = new Map<string, string>()

  private unindex (id: string): void {
    this.live.delete(id)
    const m = this.messageOf.get(id)
    this.messageOf.delete(id)
    if (m === undefined) return
    const set = this.byMessage.get(m)
    set?.delete(id)
    if (set?.size === 0) this.byMessage.delete(m)
  }

  private compact (): void {
    if (this.head < 1024 || this.head * 2 < this.ids.length) return
    this.ids = this.ids.slice(this.head).filter(id => this.live.has(id))
    this.head = 0
  }
}
