/**
 * Who may call each route, and which calls go into the audit log: the one table of the
 * REST API's access policy (docs/api.md "Roles" prints the same). A route missing here
 * needs an admin token (and the OpenAPI test fails, so nobody forgets).
 *
 * Choices worth a word:
 * - Reading is `reader`, also for what shows message content (`GET /messages`, dead
 *   letters): every role includes reader.
 * - Replaying a dead letter sends it again under its original sender's id, which a
 *   `sender` token may not otherwise use; deleting and purging discard messages owed to
 *   others. All three are `admin`.
 * - `/openapi.json` and `/docs` describe the API, not the node's data, but every route
 *   except liveness and readiness needs a token: `reader`.
 * - Sending messages is not audited: it is the API's traffic, not a change of the node
 *   (each message has its own record in the delivery log, `GET /messages/:id`).
 */
import type { FastifyRequest } from 'fastify'
import type { Requirement } from '../auth/index.js'

export interface RoutePolicy {
  /** The least role that may call it. */
  role: Requirement
  /** Audit action recorded for every call that gets past authentication, e.g. `agent.deploy`. */
  audit?: string
}

const reader: RoutePolicy = { role: 'reader' }
const admin: RoutePolicy = { role: 'admin' }

/** `METHOD /route-pattern` → policy. `HEAD` follows `GET`. */
export const ROUTE_POLICY: Readonly<Record<string, RoutePolicy>> = Object.freeze({
  'GET /health': { role: 'public' },
  'GET /ready': { role: 'public' },
  'GET /node': reader,
  'GET /metrics': reader,
  'GET /cluster/peers': reader,
  'GET /cluster/members': reader,
  'GET /registry': reader,
  'GET /registry/agents': reader,
  'GET /registry/agents/:id': reader,
  'GET /agents': reader,
  'GET /agents/:id': reader,
  'POST /agents': { role: 'deployer', audit: 'agent.deploy' },
  'DELETE /agents/:id': { role: 'deployer', audit: 'agent.remove' },
  'POST /agents/:id/stop': { role: 'deployer', audit: 'agent.stop' },
  'POST /agents/:id/start': { role: 'deployer', audit: 'agent.start' },
  'POST /agents/:id/suspend': { role: 'deployer', audit: 'agent.suspend' },
  'POST /agents/:id/resume': { role: 'deployer', audit: 'agent.resume' },
  'PUT /agents/:id': { role: 'deployer', audit: 'agent.upgrade' },
  'GET /agents/:id/versions': reader,
  'POST /agents/:id/rollback': { role: 'deployer', audit: 'agent.rollback' },
  'POST /agents/:id/messages': { role: 'sender' },
  'GET /messages': reader,
  'GET /messages/:id': reader,
  'GET /messages/handled': reader,
  'GET /conversations/:id': reader,
  'GET /dead-letters': reader,
  'GET /dead-letters/:id': reader,
  'POST /dead-letters/:id/replay': { role: 'admin', audit: 'dead-letter.replay' },
  'DELETE /dead-letters/:id': { role: 'admin', audit: 'dead-letter.delete' },
  'DELETE /dead-letters': { role: 'admin', audit: 'dead-letter.purge' },
  'GET /faults': reader,
  'POST /faults/partition': { role: 'admin', audit: 'faults.partition' },
  'POST /faults/heal': { role: 'admin', audit: 'faults.heal' },
  'GET /tokens': admin,
  'POST /tokens': { role: 'admin', audit: 'token.create' },
  'DELETE /tokens/:id': { role: 'admin', audit: 'token.revoke' },
  'GET /audit': admin,
  'GET /audit/verify': admin,
  'GET /openapi.json': reader
})

/** Swagger UI's routes (`/docs`, `/docs/json`, `/docs/static/*`, ...): see the module's note. */
const DOCS_PREFIX = '/docs'

/** Requests that match no route (answered 404) still need a token: the API's shape is not shown to strangers. */
const UNMATCHED: RoutePolicy = reader

/** The policy of a route pattern; `undefined` for one the table does not name (it then needs admin). */
export function declaredPolicy (method: string, url: string): RoutePolicy | undefined {
  const m = method === 'HEAD' ? 'GET' : method
  const declared = ROUTE_POLICY[`${m} ${url}`]
  if (declared !== undefined) return declared
  if (url === DOCS_PREFIX || url.startsWith(DOCS_PREFIX + '/')) return reader
  return undefined
}

/** The policy that applies to a request. */
export function policyOf (req: FastifyRequest): RoutePolicy {
  const url = req.routeOptions.url
  if (url === undefined) return UNMATCHED
  return declaredPolicy(req.method, url) ?? admin
}
