/**
 * `/faults`: fault injection for tests and chaos scripts (partition this node from some
 * peers or all, heal). Registered only when the facade has faults, i.e. on a node started
 * with `--enable-faults` (which requires a loopback API).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { faultHealSchema, faultPartitionSchema, faultStateSchema } from '../schemas.js'
import type { RouteDeps } from './common.js'

interface FaultBody {
  peers?: string[]
}

export function faultRoutes (app: FastifyInstance, { facade }: RouteDeps): void {
  const faults = facade.faults
  if (faults === undefined) return

  // No body means `{}` (every peer); anything else must match the schema.
  const emptyBody = async (req: FastifyRequest): Promise<void> => { if (req.body === undefined) req.body = {} }

  app.get('/faults', { schema: faultStateSchema }, async () => faults.state())

  app.post<{ Body: FaultBody }>('/faults/partition', { schema: faultPartitionSchema, preValidation: emptyBody }, async (req) =>
    await faults.partition(req.body.peers === undefined ? {} : { peers: req.body.peers }))

  app.post<{ Body: FaultBody }>('/faults/heal', { schema: faultHealSchema, preValidation: emptyBody }, async (req) =>
    await faults.heal(req.body.peers === undefined ? {} : { peers: req.body.peers }))
}
