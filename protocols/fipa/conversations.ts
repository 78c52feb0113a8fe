/**
 * Conversations as one node sees them (FIPA SC00061G §2.5: `conversation-id`,
 * `reply-with`, `in-reply-to`, `reply-by`): who takes part, under which interaction
 * protocol, when it was last active, and which replies are still awaited by a deadline.
 * Pure and clock-driven: the caller passes every message it accepts (sent from or
 * delivered to its node) and the time; {@link ConversationTable.due} says which awaited
 * replies are overdue (their senders get FAILURE) and which conversations went idle.
 */
import { MinHeap } from '../min-heap.js'
import type { AclMessage, AgentId } from './types.js'

/** A reply a message asked for with `reply-by`, not yet seen. */
export interface AwaitedReply {
  /** The request's `reply-with`, or its message id: a reply's `in-reply-to` names it. */
  key: string
  /** Who asked (and gets FAILURE when no reply comes). */
  from: AgentId
  /** Whom it asked. */
  to: AgentId[]
  /** ms since the epoch. */
  replyBy: number
  /** The request's message id. */
  messageId: string
  /** When it is checked next, ms (`replyBy`, later when deferred). */
  checkAt: number
}

export interface Conversation {
  id: string
  /** The sender of its first message this node saw. */
  initiator: AgentId
  /** Every sender and receiver seen, in order of appearance. */
  participants: AgentId[]
  /** Interaction protocol of its first message that named one (`fipa-request`, ...). */
  protocol?: string
  /** ms since the epoch. */
  startedAt: number
  lastActivity: number
  /** Messages seen. */
  messages: number
  awaiting: AwaitedReply[]
}

/** What {@link ConversationTable.observe} did. */
export interface Observed {
  conversation: Conversation
  /** Its awaited replies changed (one added or settled): worth writing at once. */
  awaitingChanged: boolean
  /** Conversations dropped from memory to stay within `maxEntries` (idle ones with nothing awaited, oldest first). */
  evicted: Conversation[]
}

/** What {@link ConversationTable.due} found. */
export interface DueWork {
  /** Replies not seen by their deadline, removed from their conversations. */
  overdue: Array<{ conversationId: string, awaited: AwaitedReply }>
  /** Conversations idle for longer than the idle timeout, removed. */
  idle: string[]
}

interface Deadline { at: number, conversationId: string, key: string }

export class ConversationTable {
  private readonly conversations = new Map<string, Conversation>()
  private readonly deadlines = new MinHeap<Deadline>((a, b) => a.at < b.at)
  /** Conversations by last activity, for idle expiry: insertion order is refreshed on each touch. */
  private readonly byActivity = new Map<string, Conversation>()

  /**
   * @param idleMs a conversation with no message for this long is forgotten, ms
   * @param maxEntries most conversations held; past it the least recently active one with
   *   nothing awaited is dropped (its caller keeps it on disk)
   */
  constructor (private readonly idleMs: number, private readonly maxEntries = Infinity) {}

  get size (): number {
    return this.conversations.size
  }

  get (id: string): Conversation | undefined {
    return this.conversations.get(id)
  }

  /** Every conversation, oldest activity first. */
  all (): Iterable<Conversation> {
    return this.byActivity.values()
  }

  /** Puts back a conversation read from storage. */
  restore (c: Conversation): void {
    this.conversations.set(c.id, c)
    this.byActivity.delete(c.id)
    this.byActivity.set(c.id, c)
    for (const a of c.awaiting) this.deadlines.push({ at: a.checkAt, conversationId: c.id, key: a.key })
  }

  /**
   * Records a message of a conversation (nothing for one without `conversationId`).
   * A reply (its `in-reply-to` names an awaited request, or it comes from one of the asked
   * agents back to the asker) settles what it answers.
   * @returns the conversation changed, or undefined
   */
  observe (m: AclMessage, now: number, stored?: Conversation): Observed | undefined {
    const id = m.conversationId
    if (id === undefined) return undefined
    let c = this.conversations.get(id)
    if (c === undefined && stored !== undefined) {
      this.restore(stored)
      c = stored
    }
    if (c === undefined) {
      c = { id, initiator: m.sender, participants: [], startedAt: now, lastActivity: now, messages: 0, awaiting: [] }
      this.conversations.set(id, c)
    }
    const awaitingBefore = c.awaiting.length
    c.messages++
    c.lastActivity = now
    this.byActivity.delete(id)
    this.byActivity.set(id, c)
    if (c.protocol === undefined && m.protocol !== undefined) c.protocol = m.protocol
    for (const p of [m.sender, ...m.receivers]) if (!c.participants.includes(p)) c.participants.push(p)
    if (c.awaiting.length > 0) {
      c.awaiting = c.awaiting.filter(a => !(m.inReplyTo === a.key || (m.receivers.includes(a.from) && a.to.includes(m.sender))))
    }
    let added = false
    if (m.replyBy !== undefined) {
      const key = m.replyWith ?? m.messageId
      if (!c.awaiting.some(a => a.key === key)) {
        c.awaiting.push({ key, from: m.sender, to: [...m.receivers], replyBy: m.replyBy, messageId: m.messageId, checkAt: m.replyBy })
        this.deadlines.push({ at: m.replyBy, conversationId: id, key })
        added = true
      }
    }
    const evicted: Conversation[] = []
    if (this.conversations.size > this.maxEntries) {
      for (const old of this.byActivity.values()) {
        if (this.conversations.size <= this.maxEntries) break
        if (old === c || old.awaiting.length > 0) continue
        this.byActivity.delete(old.id)
        this.conversations.delete(old.id)
        evicted.push(old)
      }
    }
    return { conversation: c, awaitingChanged: added || c.awaiting.length !== awaitingBefore, evicted }
  }

  /** Overdue replies (at or before `now`) and idle conversations, removed from the table. */
  due (now: number): DueWork {
    const out: DueWork = { overdue: [], idle: [] }
    for (;;) {
      const d = this.deadlines.peek()
      if (d === undefined || d.at > now) break
      this.deadlines.pop()
      const c = this.conversations.get(d.conversationId)
      const i = c?.awaiting.findIndex(a => a.key === d.key && a.checkAt === d.at) ?? -1
      if (c === undefined || i < 0) continue
      out.overdue.push({ conversationId: c.id, awaited: c.awaiting[i] })
      c.awaiting.splice(i, 1)
    }
    const cutoff = now - this.idleMs
    for (const c of this.byActivity.values()) {
      if (c.lastActivity > cutoff) break
      if (c.awaiting.length > 0) continue
      this.byActivity.delete(c.id)
      this.conversations.delete(c.id)
      out.idle.push(c.id)
    }
    return out
  }

  /**
   * Puts an overdue reply back, to be checked again at `at` (e.g. its request is still
   * being delivered: the delivery's own FAILURE will settle it).
   */
  defer (conversationId: string, awaited: AwaitedReply, at: number): void {
    const c = this.conversations.get(conversationId)
    if (c === undefined) return
    const a = { ...awaited, checkAt: at }
    c.awaiting.push(a)
    this.deadlines.push({ at, conversationId, key: a.key })
  }

  /** When {@link due} has work next, ms since the epoch (the next reply deadline); undefined when none. */
  nextDeadline (): number | undefined {
    return this.deadlines.peek()?.at
  }
}
