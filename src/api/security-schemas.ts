/**
 * JSON Schemas of the access-control routes (`/tokens`, `/audit`), validated by fastify
 * and published in the OpenAPI document, like those in `schemas.ts`.
 */
import { MAX_TOKEN_TTL_MS, MIN_TOKEN_TTL_MS, ROLES, TOKEN_NAME_PATTERN } from '../auth/index.js'
import { queryInteger } from './schemas.js'

export const MAX_AUDIT_LIMIT = 10_000
export const DEFAULT_AUDIT_LIMIT = 100

const tokenInfo = {
  type: 'object',
  required: ['id', 'name', 'role', 'createdAt'],
  properties: {
    id: { type: 'string', description: '12 hex digits; the token is cxt_<id>_<secret>' },
    name: { type: 'string' },
    role: { type: 'string', enum: ROLES },
    createdAt: { type: 'number', description: 'ms since the epoch' },
    expiresAt: { type: 'number', description: 'ms since the epoch; absent: never' },
    revokedAt: { type: 'number', description: 'ms since the epoch' },
    createdBy: { type: 'string', description: 'id of the token that created it' }
  }
} as const

const tokenIdParam = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9a-f]{12}$', description: 'a token id (12 hex digits)' } }
} as const

export const listTokensSchema = {
  summary: "This node's API tokens (never the tokens themselves), revoked and expired ones too",
  response: { 200: { type: 'object', required: ['tokens'], properties: { tokens: { type: 'array', items: tokenInfo } } } }
} as const

export const createTokenSchema = {
  summary: 'Create an API token; the answer is the only time the token is shown',
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'role'],
    properties: {
      name: { type: 'string', pattern: TOKEN_NAME_PATTERN.source, description: '1-64 letters, digits, ".", "_", "-", "@"' },
      role: { type: 'string', enum: ROLES, description: 'admin, deployer, sender or reader' },
      ttlMs: { type: 'integer', minimum: MIN_TOKEN_TTL_MS, maximum: MAX_TOKEN_TTL_MS, description: 'lifetime, ms; absent: never expires' }
    }
  },
  response: {
    201: {
      ...tokenInfo,
      required: [...tokenInfo.required, 'token'],
      properties: { ...tokenInfo.properties, token: { type: 'string', description: 'the bearer token: keep it, it is not shown again' } }
    }
  }
} as const

export const revokeTokenSchema = {
  summary: 'Revoke an API token: refused from now on, still listed',
  params: tokenIdParam,
  response: { 200: tokenInfo }
} as const

const auditEntry = {
  type: 'object',
  required: ['seq', 'at', 'action', 'outcome', 'prev', 'hash'],
  properties: {
    seq: { type: 'integer', description: 'position in the log, from 1' },
    at: { type: 'number', description: 'ms since the epoch' },
    action: { type: 'string', description: 'agent.deploy, agent.remove, token.create, token.revoke, faults.partition, faults.heal, dead-letter.replay, dead-letter.delete, dead-letter.purge, auth.refused, auth.forbidden, ...' },
    outcome: { type: 'string', enum: ['ok', 'failed', 'refused'] },
    status: { type: 'integer', description: 'HTTP status answered' },
    actor: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' } } },
    source: { type: 'string', description: "the client's address (or a peer id)" },
    target: { type: 'string', description: 'agent id, token id, dead letter id' },
    request: { type: 'string', description: 'METHOD /path?query' },
    detail: { type: 'string' },
    prev: { type: 'string', description: "hex SHA-256 of the previous entry's stored bytes" },
    hash: { type: 'string', description: "hex SHA-256 of this entry's stored bytes" }
  }
} as const

const auditHead = {
  type: 'object',
  required: ['seq', 'hash'],
  properties: { seq: { type: 'integer' }, hash: { type: 'string' } }
} as const

export const listAuditSchema = {
  summary: 'The audit log, oldest first: every change made through the API and every refusal, hash-chained',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      after: queryInteger('a seq: entries after it'),
      limit: queryInteger(`1..${MAX_AUDIT_LIMIT}, default ${DEFAULT_AUDIT_LIMIT}`)
    }
  },
  response: {
    200: { type: 'object', required: ['entries', 'head'], properties: { entries: { type: 'array', items: auditEntry }, head: auditHead } }
  }
} as const

export const verifyAuditSchema = {
  summary: 'Check the audit log\'s hash chain; names the first broken link',
  response: {
    200: {
      type: 'object',
      required: ['ok', 'entries', 'head'],
      properties: {
        ok: { type: 'boolean' },
        entries: { type: 'integer' },
        head: auditHead,
        broken: { type: 'object', required: ['seq', 'reason'], properties: { seq: { type: 'integer' }, reason: { type: 'string' } } }
      }
    }
  }
} as const
