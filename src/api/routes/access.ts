/**
 * `/tokens` (create, list, revoke API tokens) and `/audit` (read and verify the audit
 * log): both admin only (see `access.ts`).
 */
import type { FastifyInstance } from 'fastify'
import type { Role } from '../../auth/index.js'
import { DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT, createTokenSchema, listAuditSchema, listTokensSchema, revokeTokenSchema, verifyAuditSchema } from '../security-schemas.js'
import { parseQueryInteger, type RouteDeps } from './common.js'

export function accessRoutes (app: FastifyInstance, { tokens, audit }: RouteDeps): void {
  app.get('/tokens', { schema: listTokensSchema }, async () => ({ tokens: tokens.list() }))

  app.post<{ Body: { name: string, role: Role, ttlMs?: number } }>('/tokens', { schema: createTokenSchema }, async (req, reply) => {
    const { token, info } = await tokens.create({
      name: req.body.name,
      role: req.body.role,
      ...(req.body.ttlMs !== undefined ? { ttlMs: req.body.ttlMs } : {}),
      ...(req.principal !== null ? { createdBy: req.principal.id } : {})
    })
    req.auditNote = { target: info.id, detail: `name ${info.name}, role ${info.role}${info.expiresAt !== undefined ? `, expires ${new Date(info.expiresAt).toISOString()}` : ''}` }
    return await reply.code(201).send({ ...info, token })
  })

  app.delete<{ Params: { id: string } }>('/tokens/:id', { schema: revokeTokenSchema }, async (req) => await tokens.revoke(req.params.id))

  app.get<{ Querystring: { after?: string, limit?: string } }>('/audit', { schema: listAuditSchema }, async (req) => {
    const after = parseQueryInteger(req.query.after, 'querystring.after', 0, Number.MAX_SAFE_INTEGER)
    const limit = parseQueryInteger(req.query.limit, 'querystring.limit', 1, MAX_AUDIT_LIMIT) ?? DEFAULT_AUDIT_LIMIT
    return { entries: await audit.list({ ...(after !== undefined ? { after } : {}), limit }), head: audit.lastEntry() }
  })

  app.get('/audit/verify', { schema: verifyAuditSchema }, async () => await audit.verify())
}
