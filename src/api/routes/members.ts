/**
 * `GET /cluster/members`: the cluster's members as this node's membership (SWIM) sees
 * them. Registered only when the facade has membership.
 */
import type { FastifyInstance } from 'fastify'
import type { MemberListJson, MemberStateJson } from '../facade.js'
import { membersSchema } from '../schemas.js'
import type { RouteDeps } from './common.js'

export function memberRoutes (app: FastifyInstance, { facade }: RouteDeps): void {
  const membership = facade.membership
  if (membership === undefined) return

  app.get<{ Querystring: { state?: MemberStateJson } }>('/cluster/members', { schema: membersSchema }, async (req): Promise<MemberListJson> =>
    membership.list(req.query.state === undefined ? {} : { state: req.query.state }))
}
