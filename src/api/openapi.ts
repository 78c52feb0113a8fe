/**
 * The REST API described as an OpenAPI 3.1 document (`GET /openapi.json`) and browsable
 * with Swagger UI (`GET /docs`). `@fastify/swagger` builds the document from the schemas
 * the routes validate with (`schemas.ts`), so the description and the server cannot
 * disagree; `@fastify/swagger-ui` serves the UI's files from its own package, so `/docs`
 * works without network access.
 */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { declaredPolicy } from './access.js'

/** Where the document is served. */
export const OPENAPI_PATH = '/openapi.json'

/** Where Swagger UI is served (it also serves the document at `/docs/json` and `/docs/yaml`). */
export const DOCS_PREFIX = '/docs'

/**
 * The body of every failure (`toHttpError`): documented once and attached to each
 * operation as its `default` response, since the routes' schemas only describe success.
 */
export const errorBodySchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'stable, machine-readable, e.g. AGENT_NOT_FOUND' },
        message: { type: 'string', description: 'for people' },
        details: { description: "the error's fields, e.g. { agentId }" }
      }
    }
  }
} as const

/** First path segment → the tag that groups an operation in the UI. */
const TAGS: Readonly<Record<string, string>> = {
  agents: 'agents',
  messages: 'messages',
  registry: 'registry',
  cluster: 'cluster',
  faults: 'faults',
  tokens: 'access',
  audit: 'access'
}

/**
 * Registers the document generator, `GET /openapi.json` and the UI on `app`. Call it
 * before the routes are added, and add them in a plugin registered afterwards:
 * `@fastify/swagger` learns routes from an `onRoute` hook, which sees only routes added
 * once it has loaded.
 */
export function registerOpenApi (app: FastifyInstance, version: string): void {
  void app.register(swagger, {
    openapi: {
      // 3.1: its schemas are JSON Schema, so `type: ['string', 'null']` stays as written.
      openapi: '3.1.0',
      info: {
        title: 'Caxton mesh REST API',
        version,
        description: 'The REST API of one Caxton node. Every failure is `{ "error": { "code", "message", "details"? } }`; ' +
          'the status follows from the code (see docs/api.md). Every operation but /health and /ready needs ' +
          '`Authorization: Bearer <token>` with a role that may call it (401 without, 403 for a role that may not).'
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a Caxton API token, cxt_<id>_<secret>' } } },
      security: [{ bearer: [] }]
    },
    transform: ({ schema, url, route }) => {
      if (schema === undefined || schema === null) return { schema, url }
      const tag = TAGS[url.split('/')[1]] ?? 'node'
      const response = { ...(schema.response as Record<string, unknown> | undefined), default: { description: 'a failure', ...errorBodySchema } }
      const method = Array.isArray(route.method) ? route.method[0] : route.method
      const open = declaredPolicy(method, url)?.role === 'public' ? { security: [] } : {}
      return { schema: { ...schema, tags: [tag], response, ...open }, url }
    }
  })
  void app.register(swaggerUi, { routePrefix: DOCS_PREFIX })
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger())
}
