/**
 * `/agents/:id/{stop,start,suspend,resume}`: an agent's lifecycle (docs/api.md "Agent
 * lifecycle"). Each answers the agent as it is afterwards.
 */
import type { FastifyInstance } from 'fastify'
import { RequestInvalidError } from '../errors.js'
import { resumeAgentSchema, startAgentSchema, stopAgentSchema, suspendAgentSchema } from '../schemas.js'
import type { RouteDeps } from './common.js'

interface ById { Params: { id: string } }

/** C0 and C1 control characters: a reason is shown in logs and terminals. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

export function lifecycleRoutes (app: FastifyInstance, { facade }: RouteDeps): void {
  app.post<ById>('/agents/:id/stop', { schema: stopAgentSchema }, async (req) => await facade.stopAgent(req.params.id))
  app.post<ById>('/agents/:id/start', { schema: startAgentSchema }, async (req) => await facade.startAgent(req.params.id))
  app.post<ById & { Body: { reason?: string } | null | undefined }>('/agents/:id/suspend', { schema: suspendAgentSchema }, async (req) => {
    const reason = req.body?.reason
    if (reason !== undefined && CONTROL.test(reason)) throw new RequestInvalidError('body.reason must not contain control characters', 'body.reason')
    return await facade.suspendAgent(req.params.id, reason === undefined ? undefined : `suspended by an operator: ${reason}`)
  })
  app.post<ById>('/agents/:id/resume', { schema: resumeAgentSchema }, async (req) => await facade.resumeAgent(req.params.id))
}
