/**
 * `/registry`: the cluster registry as this node holds it (the FIPA Directory
 * Facilitator's yellow pages): every agent of the cluster, where it runs, its state and
 * capabilities; search by capability. Registered only when the facade has a registry.
 */
import type { FastifyInstance } from 'fastify'
import type { RegistryListQuery } from '../facade.js'
import { DEFAULT_REGISTRY_LIMIT, MAX_REGISTRY_LIMIT, registryAgentSchema, registryListSchema, registrySummarySchema } from '../schemas.js'
import type { RegistryListResponse } from '../types.js'
import { parseQueryInteger, type RouteDeps } from './common.js'

interface ListQuery {
  capability?: string
  node?: string
  reachable?: 'true' | 'false'
  limit?: string
}

export function registryRoutes (app: FastifyInstance, { facade }: RouteDeps): void {
  const registry = facade.registry
  if (registry === undefined) return

  app.get('/registry', { schema: registrySummarySchema }, async () => registry.summary())

  app.get<{ Querystring: ListQuery }>('/registry/agents', { schema: registryListSchema }, async (req): Promise<RegistryListResponse> => {
    const query: RegistryListQuery = {
      limit: parseQueryInteger(req.query.limit, 'querystring.limit', 1, MAX_REGISTRY_LIMIT) ?? DEFAULT_REGISTRY_LIMIT
    }
    if (req.query.capability !== undefined) query.capability = req.query.capability
    if (req.query.node !== undefined) query.node = req.query.node
    if (req.query.reachable !== undefined) query.reachable = req.query.reachable === 'true'
    return registry.list(query)
  })

  app.get<{ Params: { id: string } }>('/registry/agents/:id', { schema: registryAgentSchema }, async (req) => registry.get(req.params.id))
}
