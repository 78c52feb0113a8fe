/**
 * The REST API alone, for `npm run bench -- rest`: the node's own server (`createApiServer`
 * from `dist/`, access control, audit, metrics and a real LevelDB for tokens included) in
 * front of a facade whose `sendMessage` accepts every message at once, with no router,
 * delivery or agent behind it. Set beside the node's figure, it splits a request's cost
 * between the API and the message path. Run as its own process (the load generator would
 * otherwise share its event loop); prints one JSON line `{ url, token }` (a `sender`
 * token) once listening, stops on SIGTERM.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { NodeFacade, SendOutcome } from '../../src/api/facade.js'
import { ROOT } from '../cluster/index.js'

const dist = (path: string): string => pathToFileURL(join(ROOT, 'dist', 'src', path)).href
// The built modules, as the node process runs them (not tsx's transform of the sources).
const { createApiServer } = await import(dist('api/index.js')) as typeof import('../../src/api/index.js')
const { TokenStore } = await import(dist('auth/index.js')) as typeof import('../../src/auth/index.js')
const { AuditLog } = await import(dist('audit/index.js')) as typeof import('../../src/audit/index.js')
const { createMetricsRegistry } = await import(dist('observability/metrics.js')) as typeof import('../../src/observability/metrics.js')
const { openStorage } = await import(dist('storage/index.js')) as typeof import('../../src/storage/index.js')

const dataDir = mkdtempSync(join(tmpdir(), 'caxton-bench-api-'))
const storage = await openStorage(dataDir)
const tokens = await TokenStore.open(storage.sublevel('tokens'))
const audit = await AuditLog.open(storage.sublevel('audit'))
const { token } = await tokens.create({ name: 'bench', role: 'sender' })
let seq = 0
// Only `sendMessage` is reached by the requests this bench makes.
const facade = {
  sendMessage: async (): Promise<SendOutcome> => {
    seq++
    return { messageId: `m-${seq}`, conversationId: `c-${seq}`, sender: 'client-1' }
  }
} as unknown as NodeFacade
const api = createApiServer({
  facade,
  host: '127.0.0.1',
  port: 0,
  auth: { tokens, audit },
  metrics: createMetricsRegistry(),
  // Raised by the parent (rest.ts, BENCH_RATE_LIMIT_MAX) as for the node.
  rateLimit: { max: Number(process.env.CAXTON_API_RATE_LIMIT_MAX), windowMs: 10_000 }
})
const { url } = await api.start()
process.stdout.write(JSON.stringify({ url, token }) + '\n')
process.once('SIGTERM', () => {
  void api.stop().then(async () => { await storage.close() }).then(() => {
    rmSync(dataDir, { recursive: true, force: true })
    process.exit(0)
  })
})
