/**
 * `/agents`: deploy (JSON with base64, or the raw module), list, show, remove.
 */
import type { FastifyInstance } from 'fastify'
import { parseCapabilityRef } from '../../registry/capabilities.js'
import type { AgentLimits } from '../../runtime/types.js'
import { RequestInvalidError } from '../errors.js'
import type { DeployRequest } from '../facade.js'
import { deploySchema, getAgentSchema, listAgentsSchema, removeAgentSchema } from '../schemas.js'
import type { DeployBodyJson } from '../types.js'
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
    const body = req.body
    let id: string
    let wasm: Uint8Array
    let limits: Partial<AgentLimits> | undefined
    let capabilities: unknown[] | undefined
    if (Buffer.isBuffer(body)) {
      if (req.query.id === undefined) {
        throw new RequestInvalidError('querystring.id is required when the body is the raw module (Content-Type: application/wasm)', 'querystring.id')
      }
      id = req.query.id
      // A copy: the parser's buffer may be a slice of Node's shared pool.
      wasm = new Uint8Array(body)
      limits = limitsFromQuery(req.query)
      capabilities = capabilitiesFromQuery(req.query.capability)
    } else if (typeof body === 'object' && body !== null) {
      const stray = Object.keys(req.query)
      if (stray.length > 0) {
        throw new RequestInvalidError(`querystring.${stray[0]} is only accepted with a raw module body (Content-Type: application/wasm); put id and limits in the JSON body`, `querystring.${stray[0]}`)
      }
      id = body.id
      wasm = decodeBase64(body.wasm)
      limits = body.limits
      capabilities = body.capabilities
    } else {
      throw new RequestInvalidError('no module: send JSON { "id", "wasm": "<base64>" } or the module itself with Content-Type: application/wasm and ?id=', 'body')
    }
    if (wasm.byteLength === 0) throw new RequestInvalidError('the module is empty (0 bytes)', 'body.wasm')

    const request: DeployRequest = { id, wasm }
    if (limits !== undefined) request.limits = limits
    if (capabilities !== undefined) request.capabilities = capabilities
    const info = await facade.deployAgent(request)
    return reply.code(201).header('location', `/agents/${encodeURIComponent(info.id)}`).send(info)
  })

  app.get('/agents', { schema: listAgentsSchema }, async () => ({ agents: facade.listAgents() }))

  app.get<{ Params: { id: string } }>('/agents/:id', { schema: getAgentSchema }, async (req) => facade.getAgent(req.params.id))

  app.delete<{ Params: { id: string } }>('/agents/:id', { schema: removeAgentSchema }, async (req, reply) => {
    await facade.removeAgent(req.params.id)
    return reply.code(204).send()
  })
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
