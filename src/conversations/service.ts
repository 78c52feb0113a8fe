/**
 * Conversations on this node (protocols/fipa/conversations.ts), persisted in the node's
 * LevelDB (sublevel `conversations`), with `reply-by` enforced: when a message sent from
 * this node asked for a reply by a time and none came, its sender gets FAILURE from `ams`.
 *
 * Writes: a change to a conversation's awaited replies is written in the same batch as the
 * message that made it (so a crash never forgets a reply-by, nor resurrects a settled
 * one); the rest (participants, activity, counts) is written behind, at most `flushMs`
 * later, in one batch for all conversations changed meanwhile. Writing every message's
 * conversation at once cost a third of the message path's throughput (measured on the
 * in-process bench, 3.8k against 5.7k round trips/s).
 *
 * A conversation of a single message with no reply awaited (a one-off INFORM, or a
 * request received here) is held in memory only: it is written once a second message
 * joins it. Writing each such conversation, and deleting it when idle, was two of the
 * four to six rows a one-way message cost each node.
 *
 * Memory: at most `maxInMemory` conversations are held; past it the least recently active
 * one with nothing awaited is written and dropped from memory (read back when a message of
 * it comes, or it is asked for). Conversations idle for `idleMs` are forgotten, in memory
 * and on disk.
 */
import type { Logger } from 'pino'
import { Packr } from 'msgpackr'
import { ConversationTable, SYSTEM_AGENT, validateMessage, type AclLimits, type Conversation } from '../../protocols/fipa/index.js'
import type { AclMessage, AgentId } from '../../protocols/fipa/types.js'
import { Alarm } from '../delivery/index.js'
import { silentLogger } from '../observability/logger.js'
import type { StorageOp, Sublevel } from '../storage/index.js'

const packr = new Packr({ useRecords: false, mapsAsObjects: true })
const RECORD_VERSION = 1
const SWEEP_MS = 60_000
/** Changes that do not touch awaited replies are written at most this much later, ms. */
const FLUSH_MS = 1000
/** How long an overdue reply whose request is still in the outbox waits before it is checked again, ms. */
const DEFER_MS = 1000

export interface ConversationServiceOptions {
  rows: Sublevel
  /** A conversation with no message for this long is forgotten, ms. */
  idleMs: number
  /** Conversations held in memory. @default 100_000 */
  maxInMemory?: number
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
  private readonly alarm: Alarm
  private sweep?: NodeJS.Timeout
  private flushTimer?: NodeJS.Timeout
  private readonly dirty = new Set<string>()
  /** Conversations in memory that have a row on disk (written this run, or read back). */
  private readonly onDisk = new Set<string>()
  private running = false

  constructor (private readonly o: ConversationServiceOptions) {
    this.table = new ConversationTable(o.idleMs, o.maxInMemory ?? 100_000)
    this.clock = o.clock ?? Date.now
    this.log = o.logger ?? silentLogger()
    this.alarm = new Alarm(() => { this.run() }, this.clock)
  }

  /**
   * Reads back the stored conversations that await replies (their reply-by must still be
   * enforced); the others stay on disk until asked for. Unreadable records are deleted.
   */
  async load (): Promise<number> {
    for await (const [key, value] of this.o.rows.iterator()) {
      const c = this.decode(key, value)
      if (c === undefined) {
        await this.o.rows.del(key)
      } else if (c.awaiting.length > 0) {
        this.table.restore(c)
        this.onDisk.add(key)
      }
    }
    return this.table.size
  }

  start (): void {
    if (this.running) return
    this.running = true
    this.sweep = setInterval(() => {
      this.run()
      void this.collect()
    }, SWEEP_MS)
    this.sweep.unref()
    this.flushTimer = setInterval(() => { void this.flush() }, FLUSH_MS)
    this.flushTimer.unref()
    this.run()
  }

  /** Stops the timers and writes what is pending. */
  async stop (): Promise<void> {
    this.running = false
    clearInterval(this.sweep)
    clearInterval(this.flushTimer)
    this.alarm.cancel()
    await this.flush()
  }

  /** A conversation, from memory or from disk; undefined when unknown (or forgotten). */
  async get (id: string): Promise<Conversation | undefined> {
    const c = this.table.get(id)
    if (c !== undefined) return c
    const bytes = await this.o.rows.get(id)
    return bytes === undefined ? undefined : this.decode(id, bytes)
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
    const id = m.conversationId
    if (id === undefined) return
    // Not in memory: continue what is on disk, if anything (a miss costs a bloom-filter probe).
    let stored: Conversation | undefined
    if (this.table.get(id) === undefined) {
      const bytes = this.o.rows.getSync(id)
      if (bytes !== undefined) stored = this.decode(id, bytes)
    }
    const seen = this.table.observe(outgoing ? m : { ...m, replyBy: undefined }, this.clock(), stored)
    if (seen === undefined) return
    const c = seen.conversation
    if (stored !== undefined) this.onDisk.add(id)
    if (seen.awaitingChanged) {
      ops.push(this.putOp(c))
      this.dirty.delete(c.id)
    } else if (c.messages > 1 || this.onDisk.has(id)) {
      this.dirty.add(c.id)
    }
    for (const old of seen.evicted) {
      this.onDisk.delete(old.id)
      if (!this.dirty.delete(old.id)) continue
      ops.push(this.putOp(old))
    }
    if (outgoing && m.replyBy !== undefined) this.arm()
  }

  /** Writes the conversations changed since the last flush. */
  private async flush (): Promise<void> {
    if (this.dirty.size === 0) return
    const ops: StorageOp[] = []
    for (const id of this.dirty) {
      const c = this.table.get(id)
      if (c !== undefined) ops.push(this.putOp(c))
    }
    this.dirty.clear()
    await this.o.write(ops).catch(err => { this.log.warn({ err: (err as Error).message }, 'conversation write failed') })
  }

  /** Deletes stored conversations idle for longer than `idleMs` that are not in memory. */
  private async collect (): Promise<void> {
    const cutoff = this.clock() - this.o.idleMs
    const ops: StorageOp[] = []
    try {
      for await (const [key, value] of this.o.rows.iterator()) {
        if (this.table.get(key) !== undefined || this.dirty.has(key)) continue
        const c = this.decode(key, value)
        if (c === undefined || (c.lastActivity < cutoff && c.awaiting.length === 0)) ops.push({ type: 'del', sublevel: this.o.rows, key })
      }
      if (ops.length > 0) await this.o.write(ops)
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'collecting idle conversations failed')
    }
  }

  private putOp (c: Conversation): StorageOp {
    this.onDisk.add(c.id)
    return { type: 'put', sublevel: this.o.rows, key: c.id, value: packr.pack([RECORD_VERSION, c]) }
  }

  private decode (key: string, bytes: Uint8Array): Conversation | undefined {
    try {
      const v = packr.unpack(bytes) as [number, Conversation]
      if (v[0] !== RECORD_VERSION || v[1]?.id !== key || !Array.isArray(v[1].awaiting)) throw new Error('not a conversation record of this version')
      return v[1]
    } catch (err) {
      this.log.warn({ key, err: (err as Error).message }, 'unreadable conversation record')
      return undefined
    }
  }

  /** Overdue replies get their FAILURE; idle conversations go. */
  private run (): void {
    if (!this.running) return
    const now = this.clock()
    const { overdue, idle } = this.table.due(now)
    const failures: AclMessage[] = []
    const ops: StorageOp[] = []
    for (const id of idle) {
      this.dirty.delete(id)
      if (this.onDisk.delete(id)) ops.push({ type: 'del', sublevel: this.o.rows, key: id })
    }
    for (const { conversationId, awaited } of overdue) {
      if (this.o.pending(awaited.messageId)) {
        // Not delivered yet: delivery gives it up at its deadline with a FAILURE of its
        // own, which settles this; check again a little later in case it was delivered late.
        this.table.defer(conversationId, awaited, now + DEFER_MS)
        continue
      }
      const c = this.table.get(conversationId)
      if (c !== undefined) {
        ops.push(this.putOp(c))
        this.dirty.delete(c.id)
      }
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
    if (next !== undefined) this.alarm.setFor(next)
  }
}
