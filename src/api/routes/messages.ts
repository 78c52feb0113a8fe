/**
 * Messages: send one to an agent (optionally waiting for the first reply), and the
 * node's recent messages for debugging.
 */
import type { FastifyInstance } from 'fastify'
import { UnsupportedMediaTypeError } from '../errors.js'
import { aclMessageToJson } from '../message-json.js'
import { DEFAULT_MESSAGE_LIMIT, MAX_MESSAGE_LIMIT, listMessagesSchema, sendMessageSchema } from '../schemas.js'
import type { MessageDraftJson, MessageListResponse, SendResponse } from '../types.js'
import { parseQueryInteger, unlessStopping, type RouteDeps } from './common.js'

export function messageRoutes (app: FastifyInstance, { facade, maxWaitMs, stopping }: RouteDeps): void {
  app.post<{ Params: { id: string }, Querystring: { wait?: string }, Body: MessageDraftJson }>(
    '/agents/:id/messages', {
      schema: sendMessageSchema,
      // The server parses raw modules for POST /agents; here only JSON makes sense.
      // A callback hook: no promise per message.
      preValidation: (req, _reply, done) => {
        done(Buffer.isBuffer(req.body) ? new UnsupportedMediaTypeError(req.headers['content-type'] ?? '(none)', ['application/json']) : undefined)
      }
    }, async (req, reply) => {
      const waitMs = parseQueryInteger(req.query.wait, 'querystring.wait', 0, maxWaitMs) ?? 0
      // The body goes on unconverted: the router owns validation (draftFromJson) and stamping.
      const draft: Record<string, unknown> = { ...req.body }
      const work = facade.sendMessage(waitMs > 0 ? { to: req.params.id, draft, waitMs } : { to: req.params.id, draft })
      // Only a waiting request can outlive a stop long enough to matter.
      const outcome = waitMs > 0 ? await unlessStopping(work, stopping) : await work
      const body: SendResponse = {
        messageId: outcome.messageId,
        conversationId: outcome.conversationId,
        sender: outcome.sender
      }
      if (outcome.reply !== undefined) {
        body.reply = aclMessageToJson(outcome.reply)
        return reply.code(200).send(body)
      }
      return reply.code(202).send(body)
    })

  app.get<{ Querystring: { limit?: string, agent?: string, conversationId?: string } }>(
    '/messages', { schema: listMessagesSchema }, async (req): Promise<MessageListResponse> => {
      const limit = parseQueryInteger(req.query.limit, 'querystring.limit', 1, MAX_MESSAGE_LIMIT) ?? DEFAULT_MESSAGE_LIMIT
      const query: { limit: number, agent?: string, conversationId?: string } = { limit }
      if (req.query.agent !== undefined) query.agent = req.query.agent
      if (req.query.conversationId !== undefined) query.conversationId = req.query.conversationId
      const records = facade.recentMessages(query)
      return {
        // A facade that ignores `limit` must not flood the client.
        messages: records.slice(0, limit).map(record => ({ ...record, message: aclMessageToJson(record.message) }))
      }
    })
}
