/**
 * Conversations on this node (protocols/fipa/conversations.ts), persisted in the node's
 * LevelDB (sublevel `conversations`) in the same batch as the messages that change them,
 * with `reply-by` enforced: when a message sent from this node asked for a reply by a time
 * and none came, its sender gets FAILURE from `ams`. Idle conversations (no message for
 * `idleMs`) are forgotten.
 */
import type { Logger } from 'pino'
import { Packr } from 'msgpackr'
import { ConversationTable, SYSTEM_AGENT, validateMessage, type AclLimits, type Conversation } from '../../protocols/fipa/index.js'
import type { AclMessage, AgentId } from '../../protocols/fipa/types.js'
import { silentLogger } from '../observability/logger.js'
import type { StorageOp, Sublevel } from '../storage/index.js'

const packr = new Packr({ useRecords: false, mapsAsObjects: true })
const RECORD_VERSION = 1
const SWEEP_MS = 60_000
/** How long an overdue reply whose request is still in the outbox waits before it is checked again, ms. */
const DEFER_MS = 1000

export interface ConversationServiceOptions {
  rows: Sublevel
  /** A conversation with no message for this long is forgotten, ms. */
  idleMs: number
  /** Whether a FAILURE to `id` can reach it from here: an agent of this node, or an API client still connected. */
  isLocal: (id: AgentId) => boolean
  /** Whether a message is still on its way (in the outbox): its delivery, not its reply, is what is late. */
  pending: (messageId: string) => boolean
  /** Accepts the FAILURE for an overdue reply (durable delivery). */
  accept: (messages: AclMessage[]) => Promise<void>
  /** Writes rows in the node's group commit (ordered with the messages' own writes). */
  write: (ops: StorageOp[]) => Promise<void>
  newId: () => string
  limits: AclLimits
  /** ms since the epoch. @default Date.now */
  clock?: () => number
  logger?: Logger
}

export class ConversationService {
  private readonly table: ConversationTable
  private readonly clock: () => number
  private readonly log: Logger
  private timer?: NodeJS.Timeout
  private timerAt = Infinity
  private sweep?: NodeJS.Timeout
  private running = false

  constructor (private readonly o: ConversationServiceOptions) {
    this.table = new ConversationTable(o.idleMs)
    this.clock = o.clock ?? Date.now
    this.log = o.logger ?? silentLogger()
  }

  /** Reads the stored conversations (unreadable ones are deleted). */
  async load (): Promise<number> {
    for await (const [key, value] of this.o.rows.iterator()) {
      try {
        const v = packr.unpack(value) as [number, Conversation]
        if (v[0] !== RECORD_VERSION || typeof v[1]?.id !== 'string') throw new Error('not a conversation record of this version')
        this.table.restore(v[1])
      } catch (err) {
        this.log.warn({ key, err: (err as Error).message }, 'dropping an unreadable conversation')
        await this.o.rows.del(key)
      }
    }
    return this.table.size
  }

  start (): void {
    if (this.running) return
    this.running = true
    this.sweep = setInterval(() => { this.run() }, SWEEP_MS)
    this.sweep.unref()
    this.run()
  }

  stop (): void {
    this.running = false
    clearInterval(this.sweep)
    clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = Infinity
  }

  get (id: string): Conversation | undefined {
    return this.table.get(id)
  }

  get size (): number {
    return this.table.size
  }

  /**
   * A message this node accepted: its conversation is updated, and written with `ops`.
   * `outgoing`: sent from this node (only those await replies here, so that one FAILURE,
   * from the asker's node, reports a missing reply).
   */
  observe (m: AclMessage, outgoing: boolean, ops: StorageOp[]): void {
    const c = this.table.observe(outgoing ? m : { ...m, replyBy: undefined }, this.clock())
    if (c === undefined) return
    ops.push({ type: 'put', sublevel: this.o.rows, key: c.id, value: packr.pack([RECORD_VERSION, c]) })
    if (outgoing && m.replyBy !== undefined) this.arm()
  }

  /** Overdue replies get their FAILURE; idle conversations go. */
  private run (): void {
    if (!this.running) return
    const now = this.clock()
    const { overdue, idle } = this.table.due(now)
    const failures: AclMessage[] = []
    const ops: StorageOp[] = idle.map(id => ({ type: 'del', sublevel: this.o.rows, key: id }))
    for (const { conversationId, awaited } of overdue) {
      if (this.o.pending(awaited.messageId)) {
        // Not delivered yet: delivery gives it up at its deadline with a FAILURE of its
        // own, which settles this; check again a little later in case it was delivered late.
        this.table.defer(conversationId, awaited, now + DEFER_MS)
        continue
      }
      const c = this.table.get(conversationId)
      if (c !== undefined) ops.push({ type: 'put', sublevel: this.o.rows, key: c.id, value: packr.pack([RECORD_VERSION, c]) })
      if (awaited.from === SYSTEM_AGENT || !this.o.isLocal(awaited.from)) continue
      try {
        failures.push(validateMessage({
          messageId: this.o.newId(),
          createdAt: now,
          performative: 'FAILURE',
          sender: SYSTEM_AGENT,
          receivers: [awaited.from],
          conversationId,
          inReplyTo: awaited.key,
          content: `no reply from ${awaited.to.join(', ')} by its reply-by (${new Date(awaited.replyBy).toISOString()})`
        }, this.o.limits))
      } catch (err) {
        this.log.error({ conversationId, err: (err as Error).message }, 'could not build the FAILURE for an overdue reply')
      }
    }
    if (ops.length > 0) this.o.write(ops).catch(err => { this.log.warn({ err: (err as Error).message }, 'conversation write failed') })
    if (failures.length > 0) {
      this.log.debug({ overdue: failures.length }, 'replies overdue: FAILURE to their senders')
      this.o.accept(failures).catch(err => { this.log.warn({ err: (err as Error).message }, 'FAILURE for an overdue reply not accepted') })
    }
    this.arm()
  }

  /** One timer, for the next reply deadline. */
  private arm (): void {
    if (!this.running) return
    const next = this.table.nextDeadline()
    if (next === undefined || next >= this.timerAt) return
    clearTimeout(this.timer)
    this.timerAt = next
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.timerAt = Infinity
      this.run()
    }, Math.max(1, next - this.clock()))
    this.timer.unref()
  }
}
