/**
 * The node itself: liveness, readiness, identity, peers, metrics.
 */
import type { FastifyInstance } from 'fastify'
import type { Readiness } from '../facade.js'
import { healthSchema, metricsSchema, nodeSchema, peersSchema, readySchema } from '../schemas.js'
import type { HealthResponse, PeerListResponse } from '../types.js'
import type { RouteDeps } from './common.js'

export function systemRoutes (app: FastifyInstance, { facade }: RouteDeps): void {
  // Liveness answers without asking the node anything: it is about this process serving.
  app.get('/health', { schema: healthSchema }, async (): Promise<HealthResponse> => ({ status: 'ok' }))

  app.get('/ready', { schema: readySchema }, async (req, reply) => {
    let readiness: Readiness
    try {
      readiness = facade.readiness()
    } catch (err) {
      req.log.error({ err }, 'readiness check threw')
      readiness = { ready: false, checks: { node: { ok: false, detail: 'the readiness check failed (see the node log)' } } }
    }
    return reply.code(readiness.ready ? 200 : 503).send(readiness)
  })

  app.get('/node', { schema: nodeSchema }, async () => facade.info())

  app.get('/cluster/peers', { schema: peersSchema }, async (): Promise<PeerListResponse> => ({ peers: facade.peers() }))

  app.get('/metrics', { schema: metricsSchema }, async (_req, reply) => {
    const { contentType, body } = await facade.metrics()
    return reply.type(contentType).send(body)
  })
}
