/**
 * Durable delivery: a message's status, the dead-letter queue (list, show, replay, delete,
 * purge), the handled log, and conversations.
 */
import type { FastifyInstance } from 'fastify'
import { decodeMessage } from '../../../protocols/fipa/index.js'
import type { DeadLetterCause, DeadLetterRecord } from '../../../protocols/delivery/index.js'
import { aclMessageToJson } from '../message-json.js'
import {
  DEFAULT_DEAD_LETTER_LIMIT, MAX_DEAD_LETTER_LIMIT, conversationSchema, deleteDeadLetterSchema, getDeadLetterSchema, handledLogSchema, listDeadLettersSchema,
  messageStatusSchema, purgeDeadLettersSchema, replayDeadLetterSchema
} from '../schemas.js'
import type { DeadLetterListQuery } from '../facade.js'
import { parseQueryInteger, type RouteDeps } from './common.js'

interface FilterQuery { agent?: string, cause?: DeadLetterCause, since?: string }

export function deliveryRoutes (app: FastifyInstance, { facade }: RouteDeps): void {
  // Bound: the facade's methods use `this`.
  const status = facade.messageStatus?.bind(facade)
  if (status !== undefined) {
    app.get<{ Params: { id: string } }>('/messages/:id', { schema: messageStatusSchema }, async (req) => await status(req.params.id))
  }
  const conversation = facade.conversation?.bind(facade)
  if (conversation !== undefined) {
    app.get<{ Params: { id: string } }>('/conversations/:id', { schema: conversationSchema }, async (req) => await conversation(req.params.id))
  }
  const handled = facade.handledLog?.bind(facade)
  if (handled !== undefined) {
    app.get<{ Querystring: { after?: string, limit?: string } }>('/messages/handled', { schema: handledLogSchema }, async (req) => {
      const limit = parseQueryInteger(req.query.limit, 'querystring.limit', 1, 10_000) ?? 1000
      return { entries: await handled({ ...(req.query.after !== undefined ? { after: req.query.after } : {}), limit }) }
    })
  }
  const dl = facade.deadLetters
  if (dl === undefined) return
  app.get<{ Querystring: FilterQuery & { limit?: string } }>('/dead-letters', { schema: listDeadLettersSchema }, async (req) => {
    const limit = parseQueryInteger(req.query.limit, 'querystring.limit', 1, MAX_DEAD_LETTER_LIMIT) ?? DEFAULT_DEAD_LETTER_LIMIT
    const { entries, total } = await dl.list({ ...filter(req.query), limit })
    return { deadLetters: entries.map(deadLetterJson), total }
  })
  app.get<{ Params: { id: string } }>('/dead-letters/:id', { schema: getDeadLetterSchema }, async (req) => deadLetterJson(await dl.get(req.params.id)))
  app.post<{ Params: { id: string } }>('/dead-letters/:id/replay', { schema: replayDeadLetterSchema }, async (req, reply) => {
    return await reply.code(202).send(await dl.replay(req.params.id))
  })
  app.delete<{ Params: { id: string } }>('/dead-letters/:id', { schema: deleteDeadLetterSchema }, async (req, reply) => {
    await dl.delete(req.params.id)
    return await reply.code(204).send()
  })
  app.delete<{ Querystring: FilterQuery }>('/dead-letters', { schema: purgeDeadLettersSchema }, async (req) => {
    return { deleted: await dl.purge(filter(req.query)) }
  })
}

function filter (q: FilterQuery): Omit<DeadLetterListQuery, 'limit'> {
  const out: Omit<DeadLetterListQuery, 'limit'> = {}
  if (q.agent !== undefined) out.agent = q.agent
  if (q.cause !== undefined) out.cause = q.cause
  const since = parseQueryInteger(q.since, 'querystring.since', 0, Number.MAX_SAFE_INTEGER)
  if (since !== undefined) out.since = since
  return out
}

/** A dead letter with its message in the JSON form (or, if unreadable, its id and sender only). */
function deadLetterJson (r: DeadLetterRecord): Record<string, unknown> {
  let message: Record<string, unknown>
  try {
    message = aclMessageToJson(decodeMessage(r.message)) as unknown as Record<string, unknown>
  } catch {
    message = { messageId: r.messageId, sender: r.sender, receivers: [r.receiver] }
  }
  const { message: _bytes, ...rest } = r
  return { ...rest, message }
}
