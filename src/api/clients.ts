/**
 * API clients (REST, CLI) as message endpoints: a client that sends a message gets a
 * sender id (its own, or one of this node's, `client-<node tag>-<8 hex>`), and replies to
 * that id come back here, in memory, to the request waiting for them (`?wait=`). An id of
 * this node's form is always routable here, and holds a session only while a request
 * waits on it; any other client id stays routable for `ttlMs` after its last use.
 * Implements durable delivery's {@link LocalClients}: messages to clients are handed over
 * once the handler's write is done, never persisted (a client is a request in this process).
 */
import { CLIENT_ID_RANDOM_CHARS, clientIdPrefix } from '../../protocols/delivery/index.js'
import { CaxtonError } from '../../protocols/errors.js'
import type { AclMessage, AgentId } from '../../protocols/fipa/types.js'
import type { LocalClients } from '../delivery/index.js'

/** `waitMs` passed without a reply in the conversation. */
export class ReplyTimeoutError extends CaxtonError {
  constructor (readonly messageId: string, readonly conversationId: string, readonly waitMs: number) {
    super('REPLY_TIMEOUT', `no reply to message ${messageId} (conversation ${conversationId}) within ${waitMs} ms`)
    this.name = 'ReplyTimeoutError'
  }
}

interface Waiter {
  conversationId: string
  replyWith: string
  resolve: (reply: AclMessage) => void
}

/** A client id's replies-in-waiting, matched in O(1) however many are in flight. */
interface Session {
  lastUsed: number
  /** By the request's reply-with. Made by the first {@link ClientSessions.expect}: most client ids never wait. */
  waiters: Map<string, Waiter> | undefined
  /** conversation-id → reply-with of the waiter, for replies that set only the conversation. */
  byConversation: Map<string, string> | undefined
}

/** A reply being waited for: {@link ClientSessions.expect}. */
export interface PendingReply {
  /** Resolves with the first reply, or rejects with ReplyTimeoutError after `waitMs`. */
  wait: (waitMs: number) => Promise<AclMessage>
  /** Stops waiting (the message was not sent after all). */
  cancel: () => void
}

export interface ClientSessionsOptions {
  /** How long a client id stays routable after its last use, ms. @default 600_000 */
  ttlMs?: number
  /** ms since the epoch. @default Date.now */
  clock?: () => number
  /**
   * This node's tag (`clientTag` of its PeerId): ids `client-<tag>-<8 hex>` are its clients
   * without a session. A session per POST without a sender, kept `ttlMs`, was ~200 B of heap
   * a message: over 1 GB at 12k POSTs a second before the first expired.
   */
  ownTag?: string
}

export class ClientSessions implements LocalClients {
  private readonly sessions = new Map<AgentId, Session>()
  private readonly ttlMs: number
  private readonly clock: () => number
  private readonly ownPrefix?: string

  constructor (options: ClientSessionsOptions = {}) {
    this.ttlMs = options.ttlMs ?? 600_000
    this.clock = options.clock ?? Date.now
    if (options.ownTag !== undefined) this.ownPrefix = clientIdPrefix(options.ownTag)
  }

  has (id: AgentId): boolean {
    return this.sessions.has(id) || this.isOwn(id)
  }

  /** Makes `id` a client of this node (or keeps it one) from now; an id of this node's form needs nothing. */
  touch (id: AgentId): void {
    const s = this.sessions.get(id)
    if (s !== undefined) s.lastUsed = this.clock()
    else if (!this.isOwn(id)) this.open(id)
  }

  /** `client-<own tag>-<8 hex>`: the hex is not checked (the router mints and checks these ids). */
  private isOwn (id: AgentId): boolean {
    return this.ownPrefix !== undefined && id.length === this.ownPrefix.length + CLIENT_ID_RANDOM_CHARS && id.startsWith(this.ownPrefix)
  }

  private open (id: AgentId): Session {
    // Its maps are made by the first wait: most client ids never wait.
    const s: Session = { lastUsed: this.clock(), waiters: undefined, byConversation: undefined }
    this.sessions.set(id, s)
    return s
  }

  /**
   * Waits for the first reply to `message` (its sender is the client): a message to the
   * client whose in-reply-to is the request's reply-with, or else in its conversation.
   * Register before the message is sent.
   */
  expect (message: AclMessage): PendingReply {
    let session = this.sessions.get(message.sender)
    if (session === undefined) session = this.open(message.sender)
    else session.lastUsed = this.clock()
    const replyWith = message.replyWith ?? message.messageId
    const conversationId = message.conversationId ?? message.messageId
    const waiters = session.waiters ??= new Map()
    const byConversation = session.byConversation ??= new Map()
    const { promise, resolve } = Promise.withResolvers<AclMessage>()
    waiters.set(replyWith, { conversationId, replyWith, resolve })
    byConversation.set(conversationId, replyWith)
    const cancel = (): void => {
      if (waiters.get(replyWith)?.resolve !== resolve) return
      waiters.delete(replyWith)
      if (byConversation.get(conversationId) === replyWith) byConversation.delete(conversationId)
    }
    return {
      cancel,
      wait: async (waitMs) => {
        let timer: NodeJS.Timeout | undefined
        const timeout = new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => { reject(new ReplyTimeoutError(message.messageId, conversationId, waitMs)) }, waitMs)
        })
        try {
          return await Promise.race([promise, timeout])
        } finally {
          clearTimeout(timer)
          cancel()
        }
      }
    }
  }

  deliver (id: AgentId, message: AclMessage): void {
    const s = this.sessions.get(id)
    if (s === undefined) return
    s.lastUsed = this.clock()
    const { waiters, byConversation } = s
    if (waiters === undefined || byConversation === undefined) return
    const key = (message.inReplyTo !== undefined && waiters.has(message.inReplyTo))
      ? message.inReplyTo
      : (message.conversationId !== undefined ? byConversation.get(message.conversationId) : undefined)
    const waiter = key !== undefined ? waiters.get(key) : undefined
    if (waiter === undefined) return
    waiters.delete(waiter.replyWith)
    byConversation.delete(waiter.conversationId)
    waiter.resolve(message)
  }

  /** Forgets the sessions of client ids unused for longer than `ttlMs` that wait for nothing. */
  expire (): void {
    const cutoff = this.clock() - this.ttlMs
    for (const [id, s] of this.sessions) {
      if (s.lastUsed < cutoff && (s.waiters === undefined || s.waiters.size === 0)) this.sessions.delete(id)
    }
  }
}
