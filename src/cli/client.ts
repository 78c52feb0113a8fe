/**
 * `CaxtonClient`: a typed HTTP client of the REST API (Node's global `fetch`). The CLI
 * uses it, and so can tests and scripts: every method returns the API's JSON body as
 * the server sent it (typed with the shapes in `src/api/types.ts`), and every failure
 * is an {@link ApiError} carrying the API's error code.
 */
import { CaxtonError } from '../../protocols/errors.js'
import type { Conversation } from '../../protocols/fipa/conversations.js'
import type { AgentId } from '../../protocols/fipa/types.js'
import type {
  AgentInfo, AgentJson, AgentLimits, AgentListResponse, AgentVersionsJson, CapabilityJson, DeadLetterFilter, DeadLetterJson, DeadLetterListQuery, DeadLetterListResponse,
  ErrorBody, HandledLogQuery, HandledLogResponse, HealthResponse, MessageDraftJson, MessageListResponse, MessageQuery, MessageStatusResponse,
  NodeInfo, PeerListResponse, PurgeResponse, Readiness, RegisteredAgentJson, RegistryListQuery, RegistryListResponse, RegistrySummaryJson,
  ReplayResponse, SendResponse
} from '../api/types.js'
import type { MemberListJson, MemberStateJson } from '../api/facade.js'
import type { AuditEntryJson, AuditHead, AuditVerification } from '../audit/index.js'
import type { Role, TokenInfo } from '../auth/index.js'
import { CAXTON_VERSION, CLI_VERSION_HEADER, VERSION_HEADER } from '../api/version.js'

/** Where the CLI looks for a node when neither `--api` nor `CAXTON_API` says. */
export const DEFAULT_API_URL = 'http://127.0.0.1:7420'

/** @default request timeout, ms */
export const DEFAULT_TIMEOUT_MS = 10_000

/**
 * Extra time a `sendMessage(..., { waitMs })` request gets beyond `waitMs`, so the
 * node's own REPLY_TIMEOUT (504) arrives before the client gives up. ms.
 */
export const WAIT_MARGIN_MS = 5_000

/**
 * The API answered with an error, or could not be asked. `status` is the HTTP status
 * (0 when no response came), `code` the API's `error.code` (e.g. `AGENT_NOT_FOUND`),
 * `details` its `error.details`, `body` the whole error body when there was one,
 * `retryAfterMs` the response's `Retry-After` (a refusal that will pass, e.g. 503
 * `OUTBOX_FULL`).
 */
export class ApiError extends CaxtonError {
  readonly status: number
  readonly details?: unknown
  readonly body?: ErrorBody
  /** From a `Retry-After` header in seconds (RFC 9110 §10.2.3), ms. */
  readonly retryAfterMs?: number

  constructor (status: number, code: string, message: string, options: { details?: unknown, body?: ErrorBody, cause?: unknown, retryAfterMs?: number } = {}) {
    super(code, message, { cause: options.cause })
    this.name = 'ApiError'
    this.status = status
    this.details = options.details
    this.body = options.body
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs
  }
}

/** Nothing answered at `url` (connection refused, DNS failure, reset). status 0, code `API_UNREACHABLE`. */
export class ApiUnreachableError extends ApiError {
  readonly url: string
  /** What the network said, e.g. `connect ECONNREFUSED 127.0.0.1:7420`. */
  readonly reason: string

  constructor (url: string, cause: unknown) {
    const reason = reasonOf(cause)
    super(0, 'API_UNREACHABLE', `cannot reach the Caxton API at ${url} (${reason})`, { cause })
    this.name = 'ApiUnreachableError'
    this.url = url
    this.reason = reason
  }
}

/** No response within the timeout. status 0, code `API_TIMEOUT`. */
export class ApiTimeoutError extends ApiError {
  readonly url: string
  /** ms */
  readonly timeoutMs: number

  constructor (url: string, timeoutMs: number) {
    super(0, 'API_TIMEOUT', `no answer from the Caxton API at ${url} within ${timeoutMs} ms`)
    this.name = 'ApiTimeoutError'
    this.url = url
    this.timeoutMs = timeoutMs
  }
}

export interface CaxtonClientOptions {
  /** Base URL of a node's REST API. @default 'http://127.0.0.1:7420' */
  url?: string
  /** Per-request timeout, ms. @default 10000 */
  timeoutMs?: number
  /** Sent as `X-Caxton-CLI-Version`. @default this build's version */
  clientVersion?: string
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string
  /**
   * PEM certificate(s) of the authority that signed the node's TLS certificate, for an
   * `https://` node whose certificate the system does not trust (e.g. self-signed).
   */
  ca?: string | Buffer
  /** @default globalThis.fetch (with `ca`: undici's fetch trusting it) */
  fetch?: typeof fetch
}

interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  path: string
  /** An array value repeats the parameter (`?capability=a&capability=b`). */
  query?: Record<string, string | number | boolean | string[] | undefined>
  json?: unknown
  bytes?: Uint8Array
  timeoutMs?: number
  /** Statuses besides 2xx whose body is a normal answer (e.g. 503 for /ready). */
  accept?: number[]
}

/**
 * @example
 * ```ts
 * const client = new CaxtonClient({ url: 'http://127.0.0.1:7420' })
 * await client.deployAgent({ id: 'echo', wasm: await readFile('echo.wasm') })
 * const { reply } = await client.sendMessage('echo', { performative: 'REQUEST', content: 'hi' }, { waitMs: 2000 })
 * ```
 */
export class CaxtonClient {
  /** Base URL without a trailing slash. */
  readonly url: string
  readonly timeoutMs: number
  /** `X-Caxton-Version` of the last response, once one arrived. */
  serverVersion?: string
  private readonly clientVersion: string
  private readonly fetchFn: typeof fetch
  private readonly token?: string

  constructor (options: CaxtonClientOptions = {}) {
    this.url = (options.url ?? DEFAULT_API_URL).replace(/\/+$/, '')
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.clientVersion = options.clientVersion ?? CAXTON_VERSION
    if (options.token !== undefined) this.token = options.token
    this.fetchFn = options.fetch ?? (options.ca !== undefined ? trustingFetch(options.ca) : globalThis.fetch)
  }

  /**
   * `POST /agents`: the raw module (`application/wasm`), capabilities as `?capability=name[@version]`;
   * or, when a capability has a description or a schema, the JSON form (module in base64).
   * @throws ApiError MODULE_INVALID (400), AGENT_ID_INVALID (400), CAPABILITY_INVALID (400),
   *   AGENT_EXISTS (409), PAYLOAD_TOO_LARGE (413)
   */
  async deployAgent (req: { id: AgentId, wasm: Uint8Array, limits?: Partial<AgentLimits>, capabilities?: CapabilityJson[] }): Promise<AgentJson> {
    return await this.moduleRequest('POST', '/agents', req)
  }

  /**
   * `PUT /agents/:id`: a new version of the agent, in the forms of {@link deployAgent};
   * limits and capabilities not given are the current version's.
   * @throws ApiError MODULE_INVALID (400: the current version runs on), AGENT_NOT_FOUND (404),
   *   CAPABILITY_INVALID (400), AGENT_STATE_CONFLICT (409), PAYLOAD_TOO_LARGE (413)
   */
  async upgradeAgent (req: { id: AgentId, wasm: Uint8Array, limits?: Partial<AgentLimits>, capabilities?: CapabilityJson[] }): Promise<AgentJson> {
    const { id, ...rest } = req
    return await this.moduleRequest('PUT', `/agents/${encodeURIComponent(id)}`, rest)
  }

  /** `GET /agents/:id/versions`: the kept versions, oldest first. @throws ApiError AGENT_NOT_FOUND (404) */
  async agentVersions (id: AgentId): Promise<AgentVersionsJson> {
    return await this.request<AgentVersionsJson>({ method: 'GET', path: `/agents/${encodeURIComponent(id)}/versions` })
  }

  /**
   * `POST /agents/:id/rollback`: back to `version` (default: the one before the current one), as a new version.
   * @throws ApiError AGENT_NOT_FOUND (404), AGENT_VERSION_NOT_FOUND (404), MODULE_INVALID (400)
   */
  async rollbackAgent (id: AgentId, version?: number): Promise<AgentJson> {
    const path = `/agents/${encodeURIComponent(id)}/rollback`
    return await this.request<AgentJson>(version === undefined ? { method: 'POST', path } : { method: 'POST', path, json: { version } })
  }

  /**
   * A module and what goes with it: the raw module (`application/wasm`), `id` (when given),
   * limits and capabilities (`?capability=name[@version]`) in the query; or, when a
   * capability has a description or a schema, the JSON form (module in base64).
   */
  private async moduleRequest (method: 'POST' | 'PUT', path: string, req: { id?: AgentId, wasm: Uint8Array, limits?: Partial<AgentLimits>, capabilities?: CapabilityJson[] }): Promise<AgentJson> {
    const caps = req.capabilities ?? []
    if (caps.some(c => c.description !== undefined || c.schema !== undefined || c.name.includes('@'))) {
      const json: Record<string, unknown> = { ...(req.id !== undefined ? { id: req.id } : {}), wasm: Buffer.from(req.wasm).toString('base64'), capabilities: caps }
      if (req.limits !== undefined) json.limits = req.limits
      return await this.request<AgentJson>({ method, path, json })
    }
    return await this.request<AgentJson>({
      method,
      path,
      query: { id: req.id, ...req.limits, capability: caps.length > 0 ? caps.map(c => c.version === undefined ? c.name : `${c.name}@${c.version}`) : undefined },
      bytes: req.wasm
    })
  }

  /** `GET /agents`: this node's agents. */
  async listAgents (): Promise<AgentListResponse> {
    return await this.request<AgentListResponse>({ method: 'GET', path: '/agents' })
  }

  /** `GET /agents/:id`. @throws ApiError AGENT_NOT_FOUND (404) */
  async getAgent (id: AgentId): Promise<AgentJson> {
    return await this.request<AgentJson>({ method: 'GET', path: `/agents/${encodeURIComponent(id)}` })
  }

  /** `DELETE /agents/:id`. @throws ApiError AGENT_NOT_FOUND (404) */
  async removeAgent (id: AgentId): Promise<void> {
    await this.request<undefined>({ method: 'DELETE', path: `/agents/${encodeURIComponent(id)}` })
  }

  /**
   * `POST /agents/:id/{stop,start,suspend,resume}` (`reason` only with suspend): the agent afterwards.
   * @throws ApiError AGENT_NOT_FOUND (404), AGENT_STATE_CONFLICT (409), MODULE_INVALID (400: start failed)
   */
  async changeAgent (id: AgentId, action: 'stop' | 'start' | 'suspend' | 'resume', reason?: string): Promise<AgentInfo> {
    const path = `/agents/${encodeURIComponent(id)}/${action}`
    return await this.request<AgentInfo>(reason === undefined ? { method: 'POST', path } : { method: 'POST', path, json: { reason } })
  }

  /**
   * `POST /agents/:id/messages[?wait=]`. With `waitMs`, the request's timeout is at
   * least `waitMs` + {@link WAIT_MARGIN_MS}.
   * @throws ApiError ACL_INVALID / REQUEST_INVALID (400),
   *   AGENT_NOT_FOUND (404), OUTBOX_FULL (503, with `retryAfterMs`), REPLY_TIMEOUT (504)
   */
  async sendMessage (to: AgentId, draft: MessageDraftJson, options: { waitMs?: number } = {}): Promise<SendResponse> {
    const waitMs = options.waitMs
    return await this.request<SendResponse>({
      method: 'POST',
      path: `/agents/${encodeURIComponent(to)}/messages`,
      query: { wait: waitMs },
      json: draft,
      timeoutMs: waitMs === undefined ? undefined : Math.max(this.timeoutMs, waitMs + WAIT_MARGIN_MS)
    })
  }

  /** `GET /messages`: recent messages, newest first. */
  async listMessages (query: MessageQuery = {}): Promise<MessageListResponse> {
    return await this.request<MessageListResponse>({
      method: 'GET',
      path: '/messages',
      query: { limit: query.limit, agent: query.agent, conversationId: query.conversationId }
    })
  }

  /**
   * `GET /messages/:id`: where each receiver's copy stands (`queued`, `sent`, `delivered`,
   * `handled`, `dead-lettered`), as the node asked knows it.
   * @throws ApiError MESSAGE_NOT_FOUND (404)
   */
  async messageStatus (messageId: string): Promise<MessageStatusResponse> {
    return await this.request<MessageStatusResponse>({ method: 'GET', path: `/messages/${encodeURIComponent(messageId)}` })
  }

  /** `GET /messages/handled`: the handled log, oldest first, after `query.after`. */
  async handledLog (query: HandledLogQuery = {}): Promise<HandledLogResponse> {
    return await this.request<HandledLogResponse>({ method: 'GET', path: '/messages/handled', query: { after: query.after, limit: query.limit } })
  }

  /** `GET /dead-letters`: newest first; `total` counts the matches before `limit`. */
  async listDeadLetters (query: DeadLetterListQuery = {}): Promise<DeadLetterListResponse> {
    return await this.request<DeadLetterListResponse>({ method: 'GET', path: '/dead-letters', query: { ...filterQuery(query), limit: query.limit } })
  }

  /** `GET /dead-letters/:id`. @throws ApiError DEAD_LETTER_NOT_FOUND (404) */
  /**
   * `GET /conversations/:id`: a conversation as the node knows it.
   * @throws ApiError CONVERSATION_NOT_FOUND (404)
   */
  async conversation (id: string): Promise<Conversation> {
    return await this.request<Conversation>({ method: 'GET', path: `/conversations/${encodeURIComponent(id)}` })
  }

  async getDeadLetter (id: string): Promise<DeadLetterJson> {
    return await this.request<DeadLetterJson>({ method: 'GET', path: `/dead-letters/${encodeURIComponent(id)}` })
  }

  /**
   * `POST /dead-letters/:id/replay`: sends the message again to its receiver, with a new
   * deadline; the entry leaves the queue.
   * @throws ApiError DEAD_LETTER_NOT_FOUND (404), OUTBOX_FULL (503, with `retryAfterMs`)
   */
  async replayDeadLetter (id: string): Promise<ReplayResponse> {
    return await this.request<ReplayResponse>({ method: 'POST', path: `/dead-letters/${encodeURIComponent(id)}/replay` })
  }

  /** `DELETE /dead-letters/:id`. @throws ApiError DEAD_LETTER_NOT_FOUND (404) */
  async deleteDeadLetter (id: string): Promise<void> {
    await this.request<undefined>({ method: 'DELETE', path: `/dead-letters/${encodeURIComponent(id)}` })
  }

  /** `DELETE /dead-letters`: deletes every entry matching the filter; an empty filter deletes them all. */
  async purgeDeadLetters (filter: DeadLetterFilter = {}): Promise<PurgeResponse> {
    return await this.request<PurgeResponse>({ method: 'DELETE', path: '/dead-letters', query: filterQuery(filter) })
  }

  /** `GET /health`. */
  async health (): Promise<HealthResponse> {
    return await this.request<HealthResponse>({ method: 'GET', path: '/health' })
  }

  /** `GET /ready`: resolves with the checks whether the node is ready (200) or not (503). */
  async ready (): Promise<Readiness> {
    return await this.request<Readiness>({ method: 'GET', path: '/ready', accept: [503] })
  }

  /** `GET /node`. */
  async node (): Promise<NodeInfo> {
    return await this.request<NodeInfo>({ method: 'GET', path: '/node' })
  }

  /** `GET /cluster/peers`. */
  async peers (): Promise<PeerListResponse> {
    return await this.request<PeerListResponse>({ method: 'GET', path: '/cluster/peers' })
  }

  /** `GET /cluster/members`: members as this node's SWIM membership sees them, optionally one state. */
  async members (query: { state?: MemberStateJson } = {}): Promise<MemberListJson> {
    return await this.request<MemberListJson>({ method: 'GET', path: '/cluster/members', query: { state: query.state } })
  }

  /** `GET /registry`: this node's registry replica (counts, digest, capabilities). */
  async registrySummary (): Promise<RegistrySummaryJson> {
    return await this.request<RegistrySummaryJson>({ method: 'GET', path: '/registry' })
  }

  /** `GET /registry/agents`: agents of the whole cluster, optionally by capability or node. */
  async registryAgents (query: RegistryListQuery = {}): Promise<RegistryListResponse> {
    return await this.request<RegistryListResponse>({
      method: 'GET',
      path: '/registry/agents',
      query: { capability: query.capability, node: query.node, reachable: query.reachable, limit: query.limit }
    })
  }

  /** `GET /registry/agents/:id`. @throws ApiError REGISTRY_AGENT_NOT_FOUND (404) */
  async registryAgent (id: AgentId): Promise<RegisteredAgentJson> {
    return await this.request<RegisteredAgentJson>({ method: 'GET', path: `/registry/agents/${encodeURIComponent(id)}` })
  }

  /** `GET /tokens` (admin): every token, never the secrets. */
  async listTokens (): Promise<{ tokens: TokenInfo[] }> {
    return await this.request<{ tokens: TokenInfo[] }>({ method: 'GET', path: '/tokens' })
  }

  /**
   * `POST /tokens` (admin): a new token; the answer's `token` is the only copy.
   * @throws ApiError TOKEN_REQUEST_INVALID / REQUEST_INVALID (400)
   */
  async createToken (req: { name: string, role: Role, ttlMs?: number }): Promise<TokenInfo & { token: string }> {
    return await this.request<TokenInfo & { token: string }>({ method: 'POST', path: '/tokens', json: req })
  }

  /** `DELETE /tokens/:id` (admin). @throws ApiError TOKEN_NOT_FOUND (404) */
  async revokeToken (id: string): Promise<TokenInfo> {
    return await this.request<TokenInfo>({ method: 'DELETE', path: `/tokens/${encodeURIComponent(id)}` })
  }

  /** `GET /audit` (admin): entries after `after`, oldest first, and the log's head. */
  async auditLog (query: { after?: number, limit?: number } = {}): Promise<{ entries: AuditEntryJson[], head: AuditHead }> {
    return await this.request<{ entries: AuditEntryJson[], head: AuditHead }>({ method: 'GET', path: '/audit', query: { after: query.after, limit: query.limit } })
  }

  /** `GET /audit/verify` (admin): the hash chain checked by the node. */
  async verifyAudit (): Promise<AuditVerification> {
    return await this.request<AuditVerification>({ method: 'GET', path: '/audit/verify' })
  }

  /** `GET /metrics`: Prometheus text. */
  async metrics (): Promise<string> {
    return await this.request<string>({ method: 'GET', path: '/metrics' })
  }

  private async request<T> (spec: RequestSpec): Promise<T> {
    const url = new URL(this.url + spec.path)
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (Array.isArray(value)) for (const v of value) url.searchParams.append(key, v)
      else if (value !== undefined) url.searchParams.set(key, String(value))
    }
    const headers: Record<string, string> = { accept: 'application/json', [CLI_VERSION_HEADER]: this.clientVersion }
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`
    let body: string | Uint8Array<ArrayBuffer> | undefined
    if (spec.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(spec.json)
    } else if (spec.bytes !== undefined) {
      headers['content-type'] = 'application/wasm'
      // fetch's types want an ArrayBuffer-backed view (not a SharedArrayBuffer one): copy.
      body = new Uint8Array(spec.bytes)
    }
    const timeoutMs = spec.timeoutMs ?? this.timeoutMs

    let res: Response
    let text: string
    try {
      res = await this.fetchFn(url, { method: spec.method, headers, body, signal: AbortSignal.timeout(timeoutMs) })
      text = await res.text()
    } catch (err) {
      if (isTimeout(err)) throw new ApiTimeoutError(this.url, timeoutMs)
      throw new ApiUnreachableError(this.url, err)
    }
    this.serverVersion = res.headers.get(VERSION_HEADER) ?? this.serverVersion

    const isJson = (res.headers.get('content-type') ?? '').includes('application/json')
    let parsed: unknown = text
    if (isJson && text !== '') {
      try {
        parsed = JSON.parse(text)
      } catch {
        throw new ApiError(res.status, 'RESPONSE_INVALID', `the API at ${this.url} sent invalid JSON (HTTP ${res.status})`)
      }
    }
    if (res.ok || (spec.accept?.includes(res.status) ?? false)) {
      return (res.status === 204 ? undefined : parsed) as T
    }
    if (isErrorBody(parsed)) {
      const retryAfterMs = retryAfterOf(res.headers.get('retry-after'))
      throw new ApiError(res.status, parsed.error.code, parsed.error.message, {
        details: parsed.error.details, body: parsed, ...(retryAfterMs !== undefined ? { retryAfterMs } : {})
      })
    }
    // Not the API's error shape: a proxy, or not a Caxton node at all.
    const snippet = typeof parsed === 'string' && parsed.length > 0 ? `: ${parsed.slice(0, 200)}` : ''
    throw new ApiError(res.status, `HTTP_${res.status}`, `HTTP ${res.status} ${res.statusText} from ${url.origin}${url.pathname}${snippet}`)
  }
}

function filterQuery (filter: DeadLetterFilter): Record<string, string | number | undefined> {
  return { agent: filter.agent, cause: filter.cause, since: filter.since }
}

/** `Retry-After: 3` → 3000. The HTTP-date form is not used by the API, and is ignored. */
function retryAfterOf (header: string | null): number | undefined {
  return header !== null && /^[0-9]+$/.test(header.trim()) ? Number(header.trim()) * 1000 : undefined
}

/**
 * undici's fetch with a dispatcher that trusts `ca` (Node's own fetch takes no CA).
 * Loaded on first use: most commands never need it.
 */
function trustingFetch (ca: string | Buffer): typeof fetch {
  let ready: Promise<typeof fetch> | undefined
  const load = async (): Promise<typeof fetch> => {
    const undici = await import('undici')
    const dispatcher = new undici.Agent({ connect: { ca } })
    return (async (input: Parameters<typeof fetch>[0], init?: RequestInit) =>
      await undici.fetch(input as Parameters<typeof undici.fetch>[0], { ...init, dispatcher } as Parameters<typeof undici.fetch>[1])) as unknown as typeof fetch
  }
  return (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => await (await (ready ??= load()))(input, init)) as typeof fetch
}

function isErrorBody (value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null) return false
  const error = (value as { error?: unknown }).error
  return typeof error === 'object' && error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    typeof (error as { message?: unknown }).message === 'string'
}

function isTimeout (err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || (err.cause instanceof Error && err.cause.name === 'TimeoutError'))
}

/** `fetch failed` says nothing; its cause (`connect ECONNREFUSED ...`, `getaddrinfo ENOTFOUND ...`) does. */
function reasonOf (err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined
  if (cause instanceof Error && cause.message !== '') return cause.message
  const code = (cause as { code?: unknown } | undefined)?.code
  if (typeof code === 'string') return code
  return err instanceof Error ? err.message : String(err)
}
