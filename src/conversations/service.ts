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
 * Reads: a conversation not in memory starts afresh with what this run sees of it (a
 * part); its stored row, if any (written before a restart, or before it left memory), is
 * read and merged in ({@link mergeConversations}: participants joined, counts summed, first
 * start, last activity, awaited replies joined) when the part is first written (not for an
 * id this node made up for a client's message, {@link ConversationService.minted}: no row
 * can hold one), when `get`
 * asks for it (a merged copy), and when the node stops (a part of one message that
 * continues a stored row is written then). So a message reads the disk only when it makes a
 * part be written at once (a reply awaited in a conversation not read this run; a changed
 * part evicted). Reading the row for every message of a conversation not in memory cost
 * ~1-2 µs a miss (`getSync`): with that read and the table as it was, `observe` of a new
 * one-off conversation took 3.5-6.6 µs of CPU, now 0.6-1.1 µs (mostly the table's Map;
 * a 2-core machine under load), and conversations went from 13.6% to 3.7% of the receiver's
 * busy CPU in a one-way durable run. A stored row awaiting replies is always in memory
 * whole: `load` reads those back, and a conversation awaiting a reply is neither evicted
 * nor forgotten.
 *
 * Memory: at most `maxInMemory` conversations are held; past it the least recently active
 * ones with nothing awaited are dropped from memory, written first when changed since
 * their last write (a part of one message is dropped unwritten: a stored row it continued
 * misses that message). Conversations idle for `idleMs` are forgotten, in memory and on
 * disk (the stored row of one that was a part in memory is deleted by the next sweep, once
 * a minute; `get` answers it as forgotten meanwhile).
 */
import type { Logger } from 'pino'
import { Packr } from 'msgpackr'
import { ConversationTable, SYSTEM_AGENT, mergeConversations, validateMessage, type AclLimits, type Conversation } from '../../protocols/fipa/index.js'
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
/**
 * Conversations a flush encodes in one turn of the event loop: ~40 µs of the main thread.
 * At 256 each turn held it ~0.3 ms, 30-40 times a second at 8,000 echo round trips a
 * second, and what came in meanwhile waited (docs/performance.md, isolation's seventh look).
 */
const FLUSH_SLICE = 32
/**
 * Rows a flush writes in one batch, and stored rows it reads in one `getMany`. Building a
 * batch holds the main thread ~2.5 µs a row (src/delivery/commit.ts), and a `getMany` ~1 µs
 * a key: one batch for a second's conversations held it ~75 ms at 30,000 round trips a
 * second. Smaller batches, more of them: at 512 the round trips with one in flight that
 * ran beside a flush had two to three times the p99, at 1,024 up to twice
 * (docs/performance.md, "Conversations written behind").
 */
export const FLUSH_BATCH = 4096
/** Stored rows read in one `getMany` when the node stops. */
const COMPLETE_BATCH = 1000
/**
 * Conversation ids this node made up ({@link ConversationService.minted}) remembered in one
 * generation; two generations are kept. An id older than that (a one-off conversation, or
 * a reply later than 4,096 to 8,192 newer conversations of this node) is read as any other.
 */
export const MINTED_GENERATION = 4096

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
  /** The flush under way. */
  private flushing?: Promise<void>
  private readonly dirty = new Set<string>()
  /**
   * Conversations in memory that are whole: their stored row (if they had one) was read
   * and merged in, or they cannot have one (an id this node made up), and they have a row
   * now or are about to (written this run, or read back). The others held are parts: what
   * this run saw since, with or without a row on disk.
   */
  private readonly whole = new Set<string>()
  /**
   * Ids this node made up for a conversation not written yet: no stored row can hold one,
   * so its first write reads nothing (the flush's `getMany` read every new conversation's
   * id: ~1 µs of the main thread a key, 17-41 ms once a second at 30,000 round trips a
   * second). The older generation is dropped when the newer one is full.
   */
  private mintedNow = new Set<string>()
  private mintedBefore = new Set<string>()
  private running = false

  constructor (private readonly o: ConversationServiceOptions) {
    this.table = new ConversationTable(o.idleMs, o.maxInMemory ?? 100_000)
    this.clock = o.clock ?? Date.now
    this.log = o.logger ?? silentLogger()
    this.alarm = new Alarm(() => { this.run() }, this.clock)
  }

  /**
   * Reads back the stored conversations that await replies (their reply-by must still be
   * enforced); the others stay on disk until merged with a part or asked for. Unreadable
   * records are deleted.
   */
  async load (): Promise<number> {
    for await (const [key, value] of this.o.rows.iterator()) {
      const c = this.decode(key, value)
      if (c === undefined) {
        await this.o.rows.del(key)
      } else if (c.awaiting.length > 0) {
        this.table.restore(c)
        this.whole.add(key)
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

  /**
   * Stops the timers and writes what is pending, and the parts of one message that
   * continue a stored conversation (one read of the disk for each part of one message
   * held, in batches: at most `maxInMemory`).
   */
  async stop (): Promise<void> {
    this.running = false
    clearInterval(this.sweep)
    clearInterval(this.flushTimer)
    this.alarm.cancel()
    await this.completeParts().catch(err => { this.log.warn({ err: (err as Error).message }, 'reading stored conversations failed') })
    await this.flush()
  }

  /**
   * A conversation, from memory or from disk (a part held in memory merged with its stored
   * row: a copy); undefined when unknown, or forgotten (a stored row idle for `idleMs` with
   * nothing awaited, not swept yet, included).
   */
  async get (id: string): Promise<Conversation | undefined> {
    let held = this.table.get(id)
    for (let reads = 1; ; reads++) {
      if (held !== undefined && this.whole.has(id)) return held
      const bytes = await this.o.rows.get(id)
      const now = this.table.get(id)
      // Written, merged or evicted while reading: read again (three times at most).
      if (now !== held && reads < 3) {
        held = now
        continue
      }
      if (now !== undefined && this.whole.has(id)) return now
      const stored = bytes === undefined ? undefined : this.decode(id, bytes)
      if (now !== undefined) return stored === undefined ? now : mergeConversations(stored, now)
      if (stored === undefined || (stored.awaiting.length === 0 && stored.lastActivity <= this.clock() - this.o.idleMs)) return undefined
      return stored
    }
  }

  get size (): number {
    return this.table.size
  }

  /**
   * Notes that this node made up conversation id `id` just now (for a message that had
   * none), so that no stored row is looked for when its conversation is first written.
   * @returns `id`
   */
  minted (id: string): string {
    if (this.mintedNow.size >= MINTED_GENERATION) {
      this.mintedBefore = this.mintedNow
      this.mintedNow = new Set()
    }
    this.mintedNow.add(id)
    return id
  }

  /** A conversation about to be written whose id this node made up is whole: nothing stored to merge. */
  private wholeIfMinted (id: string): void {
    if ((this.mintedNow.size > 0 && this.mintedNow.delete(id)) || (this.mintedBefore.size > 0 && this.mintedBefore.delete(id))) this.whole.add(id)
  }

  /** Whether this node made up `id` and its conversation was not written yet. */
  private isMinted (id: string): boolean {
    return this.mintedNow.has(id) || this.mintedBefore.has(id)
  }

  /**
   * A message this node accepted: its conversation is updated, and written with `ops`
   * when its awaited replies changed. `outgoing`: sent from this node (only those await
   * replies here, so that one FAILURE, from the asker's node, reports a missing reply).
   * Reads the disk only to write a part of a conversation for the first time (a reply
   * awaited in a conversation not read yet this run; one evicted before its write behind).
   */
  observe (m: AclMessage, outgoing: boolean, ops: StorageOp[]): void {
    if (m.conversationId === undefined) return
    const seen = this.table.observe(m, this.clock(), outgoing)
    if (seen === undefined) return
    const c = seen.conversation
    if (seen.awaitingChanged) {
      this.wholeIfMinted(c.id)
      ops.push(this.putOp(this.complete(c)))
      this.dirty.delete(c.id)
    } else if (c.messages > 1) {
      // A whole one has more than one message by now (its row had one): no Set probe here
      // for the common one-off conversation.
      this.dirty.add(c.id)
      this.wholeIfMinted(c.id)
    }
    for (const old of seen.evicted) {
      const changed = this.dirty.delete(old.id)
      if (changed) ops.push(this.putOp(this.whole.has(old.id) ? old : this.merged(old)))
      this.whole.delete(old.id)
    }
    if (outgoing && m.replyBy !== undefined) this.arm()
  }

  /**
   * `c` (held in memory) whole: merged with its stored row when not read or written yet
   * this run. Synchronous (`getSync`): it is about to be written with the message at hand.
   */
  private complete (c: Conversation): Conversation {
    if (this.whole.has(c.id)) return c
    const stored = this.stored(c.id)
    const merged = stored === undefined ? c : this.table.absorb(stored)
    this.whole.add(c.id)
    return merged
  }

  /** A part no longer held, merged with its stored row if any. */
  private merged (part: Conversation): Conversation {
    const stored = this.stored(part.id)
    return stored === undefined ? part : mergeConversations(stored, part)
  }

  private stored (id: string): Conversation | undefined {
    const bytes = this.o.rows.getSync(id)
    return bytes === undefined ? undefined : this.decode(id, bytes)
  }

  /**
   * Merges the parts of one message held (never written: the others are) with their stored
   * rows, and marks those that had one for the next flush.
   */
  private async completeParts (): Promise<void> {
    const parts: Conversation[] = []
    for (const c of this.table.all()) if (!this.whole.has(c.id) && !this.dirty.has(c.id) && !this.isMinted(c.id)) parts.push(c)
    for (let i = 0; i < parts.length; i += COMPLETE_BATCH) {
      const batch = parts.slice(i, i + COMPLETE_BATCH)
      const rows = await this.o.rows.getMany(batch.map(c => c.id))
      for (let j = 0; j < batch.length; j++) {
        const c = batch[j]
        const bytes = rows[j]
        // Changed while reading (written, evicted, forgotten): the part is no longer this one.
        if (bytes === undefined || this.table.get(c.id) !== c || this.whole.has(c.id)) continue
        const stored = this.decode(c.id, bytes)
        if (stored === undefined) continue
        this.table.absorb(stored)
        this.whole.add(c.id)
        this.dirty.add(c.id)
      }
    }
  }

  /**
   * Writes the conversations changed since the last flush. The stored rows of parts not
   * written yet (ids this node did not make up) are read by `getMany`s of
   * {@link FLUSH_BATCH} (off the event loop), the rows are made {@link FLUSH_SLICE} at a
   * time, one turn of the event loop each, and written {@link FLUSH_BATCH} a batch, one
   * batch after the other: done in one go, with a `getSync` a part, it held the loop
   * 8-100 ms once a second at ~10k messages/s.
   */
  private async flush (): Promise<void> {
    while (this.flushing !== undefined) await this.flushing
    if (this.dirty.size === 0) return
    this.flushing = this.flushOnce().finally(() => { this.flushing = undefined })
    await this.flushing
  }

  private async flushOnce (): Promise<void> {
    // Each id leaves `dirty` when its row is made: one evicted meanwhile is written by the eviction.
    const ids = [...this.dirty]
    const unread = ids.filter(id => !this.whole.has(id))
    for (let from = 0; from < unread.length; from += FLUSH_BATCH) {
      const part = unread.slice(from, from + FLUSH_BATCH)
      const rows = await this.o.rows.getMany(part)
      for (let i = 0; i < part.length; i++) {
        const id = part[i]
        // Made whole meanwhile (a reply awaited in it was written), or gone: nothing to merge.
        if (this.whole.has(id) || this.table.get(id) === undefined) continue
        const bytes = rows[i]
        const stored = bytes === undefined ? undefined : this.decode(id, bytes)
        if (stored !== undefined) this.table.absorb(stored)
        this.whole.add(id)
      }
    }
    let ops: StorageOp[] = []
    for (let i = 0; i < ids.length; i++) {
      if (i > 0 && i % FLUSH_SLICE === 0) {
        if (ops.length >= FLUSH_BATCH) {
          await this.writeRows(ops)
          ops = []
        } else {
          await new Promise(resolve => setImmediate(resolve))
        }
      }
      const id = ids[i]
      const c = this.table.get(id)
      if (c === undefined || !this.dirty.delete(id)) continue
      ops.push(this.putOp(this.complete(c)))
    }
    await this.writeRows(ops)
  }

  private async writeRows (ops: StorageOp[]): Promise<void> {
    if (ops.length === 0) return
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
      if (this.whole.delete(id)) ops.push({ type: 'del', sublevel: this.o.rows, key: id })
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
        ops.push(this.putOp(this.complete(c)))
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
