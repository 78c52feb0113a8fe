/**
 * The REST API fuzzed through fastify's `inject` (no socket) on a real node in this
 * process: random and mutated bodies, content types, paths and query strings on every
 * route that takes input. Each request must be answered with its own error code (4xx)
 * or succeed; a 500, or an exception out of `inject`, is a crash.
 */
import fc from 'fast-check'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApiServer } from '../../src/api/index.js'
import { loadConfig } from '../../src/config/index.js'
import { startNode } from '../../src/node/index.js'
import { ROOT } from '../cluster/index.js'
import { inputs, type FuzzResult } from './targets.js'

const ROUTES: Array<{ method: 'GET' | 'POST' | 'DELETE', url: string }> = [
  { method: 'POST', url: '/agents/echo/messages' },
  { method: 'POST', url: '/agents/echo/messages?wait=1' },
  { method: 'POST', url: '/agents' },
  { method: 'GET', url: '/messages' },
  { method: 'GET', url: '/dead-letters' },
  { method: 'DELETE', url: '/dead-letters' },
  { method: 'GET', url: '/registry/agents' }
]

const samples = (): Uint8Array[] => [
  new TextEncoder().encode(JSON.stringify({ performative: 'REQUEST', content: 'hi', conversationId: 'c', replyBy: 1_764_000_000_000 })),
  new TextEncoder().encode(JSON.stringify({ id: 'x', wasm: 'AGFzbQEAAAA=', limits: { mailboxCapacity: 2 } }))
]

export async function fuzzRest (runs: number, seed: number): Promise<FuzzResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'caxton-fuzz-'))
  const node = await startNode(loadConfig({ env: {}, flags: { preset: 'local', name: 'fuzz', dataDir, listen: ['/ip4/127.0.0.1/tcp/0'] } }), { api: false, processMetrics: false })
  const server = createApiServer({ facade: node, host: '127.0.0.1', port: 0 })
  const result: FuzzResult = { name: 'REST API (inject)', runs: 0, accepted: 0, rejected: 0, crashes: 0, ms: 0 }
  const t0 = performance.now()
  try {
    await node.deployAgent({ id: 'echo', wasm: readFileSync(join(ROOT, 'dist', 'agents', 'echo.wasm')) })
    await server.app.ready()
    const query = fc.oneof(fc.constant(''), fc.string({ maxLength: 40 }).map(s => '?' + encodeURI(s).replace(/#/g, '')))
    const contentType = fc.constantFrom('application/json', 'application/wasm', 'text/plain', 'application/octet-stream', 'multipart/form-data', '')
    await fc.assert(fc.asyncProperty(fc.constantFrom(...ROUTES), inputs(samples()), query, contentType, async (route, body, q, type) => {
      result.runs++
      try {
        const res = await server.app.inject({
          method: route.method,
          url: route.url + (route.url.includes('?') ? q.replace('?', '&') : q),
          ...(route.method !== 'GET' ? { payload: Buffer.from(body), headers: type === '' ? {} : { 'content-type': type } } : {})
        })
        if (res.statusCode >= 500 && res.statusCode !== 503 && res.statusCode !== 504) {
          result.crashes++
          result.firstCrash ??= { input: `${route.method} ${route.url}${q} [${type}] ${Buffer.from(body).toString('hex')}`, error: `${res.statusCode} ${res.body}` }
        } else if (res.statusCode >= 400) {
          result.rejected++
        } else {
          result.accepted++
        }
      } catch (err) {
        result.crashes++
        result.firstCrash ??= { input: `${route.method} ${route.url}${q} ${Buffer.from(body).toString('hex')}`, error: String(err) }
      }
    }), { numRuns: runs, seed, endOnFailure: false })
  } finally {
    await server.app.close()
    await node.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
  result.ms = Math.round(performance.now() - t0)
  return result
}
