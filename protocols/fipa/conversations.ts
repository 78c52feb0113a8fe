/**
 * Conversations as one node sees them (FIPA SC00061G §2.5: `conversation-id`,
 * `reply-with`, `in-reply-to`, `reply-by`): who takes part, under which interaction
 * protocol, when it was last active, and which replies are still awaited by a deadline.
 * Pure and clock-driven: the caller passes every message it accepts (sent from or
 * delivered to its node) and the time; {@link ConversationTable.due} says which awaited
 * replies are overdue (their senders get FAILURE) and which conversations went idle.
 * A conversation held may be only the part seen since its caller last read its stored
 * copy; {@link mergeConversations} joins the two.
 */
import { MinHeap } from '../min-heap.js'
import { ownCopy, StringPool } from './kept-strings.js'
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
  /**
   * Conversations dropped from memory to stay within `maxEntries` (idle ones with nothing
   * awaited, oldest first); empty (and shared: do not modify) when none was.
   */
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

/**
 * `awaiting` of a conversation that never awaited a reply, shared (replaced, never
 * modified, when a reply is awaited): an array less per conversation, most of which
 * await nothing.
 */
const NO_AWAITING: AwaitedReply[] = Object.freeze([]) as unknown as AwaitedReply[]
const NOTHING_EVICTED: Conversation[] = Object.freeze([]) as unknown as Conversation[]

/**
 * One conversation from two parts of its history: `stored`, what was written before (e.g.
 * by an earlier run of the node), and `seen`, what was seen since without reading it.
 * Participants in order of appearance (the part that started first leads), message counts
 * summed, the earlier start and the later activity, the initiator and the first protocol
 * named of the part that started first, and the replies either part awaits (one per `key`,
 * `seen`'s copy when both have it). A new object; neither argument is modified.
 */
export function mergeConversations (stored: Conversation, seen: Conversation): Conversation {
  const [first, then] = seen.startedAt < stored.startedAt ? [seen, stored] : [stored, seen]
  const participants = first.participants.slice()
  for (const p of then.participants) if (!participants.includes(p)) participants.push(p)
  let awaiting = NO_AWAITING
  if (stored.awaiting.length > 0 || seen.awaiting.length > 0) {
    awaiting = seen.awaiting.slice()
    for (const a of stored.awaiting) if (!awaiting.some(b => b.key === a.key)) awaiting.push(a)
  }
  const c: Conversation = {
    id: stored.id,
    initiator: first.initiator,
    participants,
    startedAt: first.startedAt,
    lastActivity: Math.max(stored.lastActivity, seen.lastActivity),
    messages: stored.messages + seen.messages,
    awaiting
  }
  const protocol = first.protocol ?? then.protocol
  if (protocol !== undefined) c.protocol = protocol
  return c
}

/**
 * A conversation's first message: its id copied ({@link ownCopy}), agent ids and the
 * protocol shared through `names`.
 */
function started (id: string, m: AclMessage, now: number, names: StringPool): Conversation {
  const r = m.receivers
  const sender = names.get(m.sender)
  let participants: AgentId[]
  if (r.length === 1 && r[0] !== m.sender) {
    participants = [sender, names.get(r[0])]
  } else {
    participants = [sender]
    for (const p of r) if (!participants.includes(p)) participants.push(names.get(p))
  }
  // Key order as before: `protocol` last (stored records and JSON keep their order).
  const c: Conversation = { id: ownCopy(id), initiator: sender, participants, startedAt: now, lastActivity: now, messages: 1, awaiting: NO_AWAITING }
  if (m.protocol !== undefined) c.protocol = names.get(m.protocol)
  return c
}

export class ConversationTable {
  /**
   * Conversations in order of last activity, oldest first (a touched one is deleted and
   * set again: a Map iterates in insertion order), for idle expiry and eviction.
   */
  private readonly conversations = new Map<string, Conversation>()
  private readonly deadlines = new MinHeap<Deadline>((a, b) => a.at < b.at)
  /** Past `maxEntries`, this many more than needed are evicted at once (see {@link evict}). */
  private readonly evictBatch: number
  /** Agent ids and protocols named by the conversations held, each kept once. */
  private readonly names = new StringPool()

  /**
   * @param idleMs a conversation with no message for this long is forgotten, ms
   * @param maxEntries most conversations held; past it the least recently active ones with
   *   nothing awaited are dropped (their caller keeps them on disk), 1/64 of `maxEntries`
   *   at a time
   */
  constructor (private readonly idleMs: number, private readonly maxEntries = Infinity) {
    this.evictBatch = Number.isFinite(maxEntries) ? Math.floor(maxEntries / 64) : 0
  }

  get size (): number {
    return this.conversations.size
  }

  get (id: string): Conversation | undefined {
    return this.conversations.get(id)
  }

  /** Every conversation, oldest activity first. */
  all (): Iterable<Conversation> {
    return this.conversations.values()
  }

  /** Puts back a conversation read from storage (replacing any held under its id). */
  restore (c: Conversation): void {
    this.conversations.delete(c.id)
    this.conversations.set(c.id, c)
    for (const a of c.awaiting) this.deadlines.push({ at: a.checkAt, conversationId: c.id, key: a.key })
  }

  /**
   * Completes the conversation held under `stored.id` with its stored copy
   * ({@link mergeConversations}), keeping its place in activity order; replies only the
   * stored copy awaits get their deadlines. Holds the stored copy itself when nothing is
   * held under its id.
   * @returns the conversation held from now on
   */
  absorb (stored: Conversation): Conversation {
    const seen = this.conversations.get(stored.id)
    if (seen === undefined) {
      this.restore(stored)
      return stored
    }
    const c = mergeConversations(stored, seen)
    this.conversations.set(c.id, c)
    for (const a of c.awaiting) {
      if (!seen.awaiting.includes(a)) this.deadlines.push({ at: a.checkAt, conversationId: c.id, key: a.key })
    }
    return c
  }

  /**
   * Records a message of a conversation (nothing for one without `conversationId`).
   * A reply (its `in-reply-to` names an awaited request, or it comes from one of the asked
   * agents back to the asker) settles what it answers.
   * @param enforceReplyBy whether its `reply-by` is awaited here (false: the message is
   *   recorded as if it had none)
   * @returns the conversation changed, or undefined
   */
  observe (m: AclMessage, now: number, enforceReplyBy = true): Observed | undefined {
    const id = m.conversationId
    if (id === undefined) return undefined
    let c = this.conversations.get(id)
    let awaitingChanged = false
    if (c === undefined) {
      c = started(id, m, now, this.names)
      this.conversations.set(c.id, c)
    } else {
      c.messages++
      c.lastActivity = now
      this.conversations.delete(id)
      this.conversations.set(c.id, c)
      if (c.protocol === undefined && m.protocol !== undefined) c.protocol = this.names.get(m.protocol)
      const participants = c.participants
      if (!participants.includes(m.sender)) participants.push(this.names.get(m.sender))
      for (const p of m.receivers) if (!participants.includes(p)) participants.push(this.names.get(p))
      if (c.awaiting.length > 0) awaitingChanged = settle(c.awaiting, m)
    }
    if (enforceReplyBy && m.replyBy !== undefined && this.await(c, m, m.replyBy)) awaitingChanged = true
    const evicted = this.conversations.size > this.maxEntries ? this.evict(c) : NOTHING_EVICTED
    return { conversation: c, awaitingChanged, evicted }
  }

  /** Adds the reply `m` asks for by `replyBy`, unless awaited already; true when added. */
  private await (c: Conversation, m: AclMessage, replyBy: number): boolean {
    const key = m.replyWith ?? m.messageId
    if (c.awaiting.some(a => a.key === key)) return false
    const a: AwaitedReply = { key: ownCopy(key), from: this.names.get(m.sender), to: m.receivers.map(r => this.names.get(r)), replyBy, messageId: ownCopy(m.messageId), checkAt: replyBy }
    if (c.awaiting === NO_AWAITING) c.awaiting = [a]
    else c.awaiting.push(a)
    this.deadlines.push({ at: replyBy, conversationId: c.id, key })
    return true
  }

  /**
   * Drops the least recently active conversations with nothing awaited (never `keep`) down
   * to `maxEntries - evictBatch`. In batches because each walk starts at the Map's oldest
   * entry, past the slots of the entries deleted since the Map last compacted: evicting one
   * at a time walked ~15,000 of them per message at 100,000 entries (17 µs an observe, against
   * under 1 µs below the bound).
   */
  private evict (keep: Conversation): Conversation[] {
    const target = this.maxEntries - this.evictBatch
    const evicted: Conversation[] = []
    for (const old of this.conversations.values()) {
      if (this.conversations.size <= target) break
      if (old === keep || old.awaiting.length > 0) continue
      this.conversations.delete(old.id)
      evicted.push(old)
    }
    return evicted
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
    for (const c of this.conversations.values()) {
      if (c.lastActivity > cutoff) break
      if (c.awaiting.length > 0) continue
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
    if (c.awaiting === NO_AWAITING) c.awaiting = [a]
    else c.awaiting.push(a)
    this.deadlines.push({ at, conversationId, key: a.key })
  }

  /** When {@link due} has work next, ms since the epoch (the next reply deadline); undefined when none. */
  nextDeadline (): number | undefined {
    return this.deadlines.peek()?.at
  }
}

/**
 * Removes from `awaiting` (in place) what `m` answers: the request its `in-reply-to` names,
 * or any request of an agent `m` goes to from an agent it asked. True when any was removed.
 */
function settle (awaiting: AwaitedReply[], m: AclMessage): boolean {
  let kept = 0
  for (const a of awaiting) {
    if (m.inReplyTo === a.key || (m.receivers.includes(a.from) && a.to.includes(m.sender))) continue
    awaiting[kept++] = a
  }
  if (kept === awaiting.length) return false
  awaiting.length = kept
  return true
}
