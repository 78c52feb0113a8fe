/**
 * `/agents`: deploy (JSON with base64, or the raw module), upgrade in place (the same two
 * forms), list, show, remove; an agent's versions and rollback.
 */
import type { FastifyInstance } from 'fastify'
import { parseCapabilityRef } from '../../registry/capabilities.js'
import type { AgentLimits } from '../../runtime/types.js'
import { RequestInvalidError } from '../errors.js'
import type { DeployRequest } from '../facade.js'
import { agentVersionsSchema, deploySchema, getAgentSchema, listAgentsSchema, removeAgentSchema, rollbackSchema, upgradeSchema } from '../schemas.js'
import type { DeployBodyJson, UpgradeBodyJson } from '../types.js'
import { parseQueryInteger, type RouteDeps } from './common.js'

interface DeployQuery {
  id?: string
  maxMemoryPages?: string
  mailboxCapacity?: string
  fuelPerMessage?: string
  handlerTimeoutMs?: string
  sendsPerSecond?: string
  sendBurst?: string
  sendBytesPerSecond?: string
  /** `name` or `name@version`, repeatable (raw module form only). */
  capability?: string | string[]
}

/** Limit → largest accepted value (the JSON body's schema has the same bounds). */
const LIMIT_MAX = {
  maxMemoryPages: 65536, // 4 GiB: the most a 32-bit linear memory can address
  mailboxCapacity: Number.MAX_SAFE_INTEGER,
  fuelPerMessage: Number.MAX_SAFE_INTEGER,
  handlerTimeoutMs: Number.MAX_SAFE_INTEGER,
  sendsPerSecond: Number.MAX_SAFE_INTEGER,
  sendBurst: Number.MAX_SAFE_INTEGER,
  sendBytesPerSecond: Number.MAX_SAFE_INTEGER
} as const satisfies Record<keyof AgentLimits, number>

// Standard base64 (RFC 4648 §4) with padding; Buffer.from would silently skip bad characters.
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

export function agentRoutes (app: FastifyInstance, { facade }: RouteDeps): void {
  app.post<{ Querystring: DeployQuery, Body: DeployBodyJson | Buffer | undefined }>('/agents', { schema: deploySchema }, async (req, reply) => {
    const { id, ...rest } = moduleFromBody(req.body, req.query, 'body')
    if (id === undefined) {
      throw new RequestInvalidError('querystring.id is required when the body is the raw module (Content-Type: application/wasm)', 'querystring.id')
    }
    const info = await facade.deployAgent({ id, ...rest })
    return reply.code(201).header('location', `/agents/${encodeURIComponent(info.id)}`).send(info)
  })

  app.put<{ Params: { id: string }, Querystring: DeployQuery, Body: UpgradeBodyJson | Buffer | undefined }>('/agents/:id', { schema: upgradeSchema }, async (req) => {
    const { id: _ignored, ...rest } = moduleFromBody(req.body, req.query, 'path')
    return await facade.upgradeAgent({ id: req.params.id, ...rest })
  })

  app.get('/agents', { schema: listAgentsSchema }, async () => ({ agents: facade.listAgents() }))

  app.get<{ Params: { id: string } }>('/agents/:id', { schema: getAgentSchema }, async (req) => facade.getAgent(req.params.id))

  app.delete<{ Params: { id: string } }>('/agents/:id', { schema: removeAgentSchema }, async (req, reply) => {
    await facade.removeAgent(req.params.id)
    return reply.code(204).send()
  })

  app.get<{ Params: { id: string } }>('/agents/:id/versions', { schema: agentVersionsSchema }, async (req) => facade.agentVersions(req.params.id))

  app.post<{ Params: { id: string }, Body: { version?: number } | null | undefined }>('/agents/:id/rollback', { schema: rollbackSchema }, async (req) =>
    await facade.rollbackAgent(req.params.id, req.body?.version ?? undefined))
}

/**
 * The module and what goes with it, from either body form of `POST /agents` and
 * `PUT /agents/:id`: JSON with the module in base64, or the raw module with limits and
 * capabilities in the query. `id` is read from the body or the query unless it is in the
 * `path` (then the schemas allow it nowhere else).
 * @throws RequestInvalidError, InvalidCapabilityError
 */
function moduleFromBody (body: DeployBodyJson | UpgradeBodyJson | Buffer | undefined, query: DeployQuery, idIn: 'body' | 'path'): Omit<DeployRequest, 'id'> & { id?: string } {
  let out: Omit<DeployRequest, 'id'> & { id?: string }
  if (Buffer.isBuffer(body)) {
    // A copy: the parser's buffer may be a slice of Node's shared pool.
    out = { wasm: new Uint8Array(body) }
    if (idIn === 'body' && query.id !== undefined) out.id = query.id
    const limits = limitsFromQuery(query)
    if (limits !== undefined) out.limits = limits
    const capabilities = capabilitiesFromQuery(query.capability)
    if (capabilities !== undefined) out.capabilities = capabilities
  } else if (typeof body === 'object' && body !== null) {
    const stray = Object.keys(query)
    if (stray.length > 0) {
      throw new RequestInvalidError(`querystring.${stray[0]} is only accepted with a raw module body (Content-Type: application/wasm); put ${idIn === 'body' ? 'id and ' : ''}limits in the JSON body`, `querystring.${stray[0]}`)
    }
    out = { wasm: decodeBase64(body.wasm) }
    if ('id' in body) out.id = body.id
    if (body.limits !== undefined) out.limits = body.limits
    if (body.capabilities !== undefined) out.capabilities = body.capabilities
  } else {
    throw new RequestInvalidError(idIn === 'body'
      ? 'no module: send JSON { "id", "wasm": "<base64>" } or the module itself with Content-Type: application/wasm and ?id='
      : 'no module: send JSON { "wasm": "<base64>" } or the module itself with Content-Type: application/wasm', 'body')
  }
  if (out.wasm.byteLength === 0) throw new RequestInvalidError('the module is empty (0 bytes)', 'body.wasm')
  return out
}

function limitsFromQuery (query: DeployQuery): Partial<AgentLimits> | undefined {
  let limits: Partial<AgentLimits> | undefined
  for (const field of Object.keys(LIMIT_MAX) as Array<keyof AgentLimits>) {
    const value = parseQueryInteger(query[field], `querystring.${field}`, 1, LIMIT_MAX[field])
    if (value !== undefined) (limits ??= {})[field] = value
  }
  return limits
}

/** `?capability=name[@version]` (repeatable; the version follows the last `@`). @throws InvalidCapabilityError */
function capabilitiesFromQuery (value: string | string[] | undefined): unknown[] | undefined {
  if (value === undefined) return undefined
  return (Array.isArray(value) ? value : [value]).map((ref, i) => parseCapabilityRef(ref, `querystring.capability[${i}]`))
}

function decodeBase64 (text: string): Uint8Array {
  if (text.length % 4 !== 0 || !BASE64.test(text)) {
    throw new RequestInvalidError('body.wasm must be the module in standard, padded base64 (RFC 4648 §4)', 'body.wasm')
  }
  return new Uint8Array(Buffer.from(text, 'base64'))
}
