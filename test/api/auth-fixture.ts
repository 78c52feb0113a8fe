/**
 * Tokens and an audit log in memory for tests of the REST API, and ways to call it with
 * a token: the API has no unauthenticated mode, so tests hold a token like any client.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { MemoryLevel } from 'memory-level'
import { AuditLog } from '../../src/audit/index.js'
import { ADMIN_TOKEN_FILE, TokenStore, type Role } from '../../src/auth/index.js'
import type { Sublevel } from '../../src/storage/index.js'

export interface TestAuth {
  /** For `createApiServer({ auth })`. */
  auth: { tokens: TokenStore, audit: AuditLog }
  /** An admin token. */
  admin: string
  /** A new token of `role`. */
  token: (role: Role, name?: string) => Promise<string>
  /** The same rows, to tamper with. */
  rows: { tokens: Sublevel, audit: Sublevel }
}

/** A database in memory with the node storage's sublevel shape. */
export function memoryRows (): (name: string) => Sublevel {
  const db = new MemoryLevel<string, Uint8Array>({ valueEncoding: 'view' })
  return (name) => db.sublevel<string, Uint8Array>(name, { valueEncoding: 'view' }) as unknown as Sublevel
}

export async function testAuth (options: { now?: () => number } = {}): Promise<TestAuth> {
  const sub = memoryRows()
  const rows = { tokens: sub('tokens'), audit: sub('audit') }
  const tokens = await TokenStore.open(rows.tokens, options)
  const audit = await AuditLog.open(rows.audit, options)
  const admin = (await tokens.create({ name: 'test-admin', role: 'admin' })).token
  return {
    auth: { tokens, audit },
    admin,
    token: async (role, name = `test-${role}`) => (await tokens.create({ name, role })).token,
    rows
  }
}

/** `{ authorization: 'Bearer <token>' }`. */
export function bearer (token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}

/** `app.inject` with the token's `Authorization` header added to every request. */
export function injectWith (app: FastifyInstance, token: string): (options: InjectOptions) => Promise<LightMyRequestResponse> {
  return async (options) => await app.inject({ ...options, headers: { ...bearer(token), ...options.headers } })
}

/** `fetch` with the token's `Authorization` header added. */
export function fetchWith (token: string): typeof fetch {
  return async (input, init) => await fetch(input, { ...init, headers: { ...bearer(token), ...(init?.headers as Record<string, string> | undefined) } })
}

/** The admin token a node wrote to its data folder. */
export async function adminTokenOf (dataDir: string): Promise<string> {
  return (await readFile(join(dataDir, ADMIN_TOKEN_FILE), 'utf8')).trim()
}
