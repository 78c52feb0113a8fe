/**
 * JSON Schemas (draft-07, checked by fastify's ajv) of every route's params, query,
 * body and 2xx responses. The server's ajv does not coerce types and does not strip
 * unknown fields, so a wrong type or a misspelt field is a 400 naming it, never
 * silently "fixed". Query strings are therefore strings: numeric parameters are
 * `^[0-9]+$` strings, converted and range-checked by the handler.
 *
 * Response schemas leave `additionalProperties` open so that a field the node adds
 * later reaches clients instead of being dropped by the serializer.
 */
import { AGENT_ID_PATTERN as AGENT_ID_REGEX } from '../../protocols/fipa/rules.js'
import { PERFORMATIVES } from '../../protocols/fipa/types.js'

/** Agent ids (the FIPA model's rule), as a JSON Schema pattern. */
export const AGENT_ID_PATTERN = AGENT_ID_REGEX.source

/** Longest `?wait=`, ms (5 minutes). */
export const MAX_WAIT_MS = 300_000

/** Most records `GET /messages` returns. */
export const MAX_MESSAGE_LIMIT = 1000
export const DEFAULT_MESSAGE_LIMIT = 50

const agentId = {
  type: 'string',
  pattern: AGENT_ID_PATTERN,
  description: 'an agent id: 1-128 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit'
} as const

// In a message draft `null` means absent (SPEC.md §2). Lengths are the router's to check
// (its limits are configurable); the schema checks shapes.
const optText = { type: ['string', 'null'] } as const
const optAgentId = { ...agentId, type: ['string', 'null'] } as const
const optMillis = { type: ['integer', 'null'], minimum: 0, description: 'ms since the epoch' } as const
const queryText = { type: 'string', maxLength: 1024 } as const

/** A whole number in a query string (ajv does not coerce here, see above). */
export const queryInteger = (what: string): { type: 'string', pattern: string, description: string } => ({
  type: 'string',
  pattern: '^[0-9]{1,15}$',
  description: `a whole number (${what})`
})

const content = {
  anyOf: [
    { type: 'string' },
    { type: 'null' },
    {
      type: 'object',
      required: ['base64'],
      additionalProperties: false,
      properties: { base64: { type: 'string', contentEncoding: 'base64' } }
    }
  ],
  description: 'a string, or { "base64": "..." } for bytes'
} as const

const limits = {
  type: 'object',
  additionalProperties: false,
  properties: {
    maxMemoryPages: { type: 'integer', minimum: 1, maximum: 65536, description: 'cap on linear memory, 64 KiB pages' },
    mailboxCapacity: { type: 'integer', minimum: 1, description: 'messages queued before the mailbox is full' },
    fuelPerMessage: { type: 'integer', minimum: 1, description: 'fuel budget of one handle_message call' },
    handlerTimeoutMs: { type: 'integer', minimum: 1, description: 'wall-clock backstop of one handle_message call, ms' },
    sendsPerSecond: { type: 'integer', minimum: 1, description: 'send budget: messages per second, sustained (a reply to a message from someone else is free)' },
    sendBurst: { type: 'integer', minimum: 1, description: 'send budget: messages sent at once after a quiet spell' },
    sendBytesPerSecond: { type: 'integer', minimum: 1, description: 'send budget: bytes per second, sustained; also the most sent at once' }
  }
} as const

const limitsResponse = {
  type: 'object',
  additionalProperties: true,
  properties: {
    maxMemoryPages: { type: 'integer' },
    mailboxCapacity: { type: 'integer' },
    fuelPerMessage: { type: 'integer' },
    handlerTimeoutMs: { type: 'integer' },
    sendsPerSecond: { type: 'integer' },
    sendBurst: { type: 'integer' },
    sendBytesPerSecond: { type: 'integer' }
  }
} as const

const agentInfo = {
  type: 'object',
  additionalProperties: true,
  required: ['id', 'moduleHash', 'moduleBytes', 'state', 'limits', 'deployedAt', 'stats'],
  properties: {
    id: { type: 'string' },
    moduleHash: { type: 'string' },
    moduleBytes: { type: 'integer' },
    state: { type: 'string', enum: ['loaded', 'running', 'draining', 'stopped', 'suspended', 'failed'] },
    limits: limitsResponse,
    deployedAt: { type: 'number' },
    stats: {
      type: 'object',
      additionalProperties: true,
      properties: {
        received: { type: 'integer' },
        handled: { type: 'integer' },
        sent: { type: 'integer' },
        errors: { type: 'integer' },
        queued: { type: 'integer' },
        memoryPages: { type: 'integer' },
        restarts: { type: 'integer', description: 'times restarted from its module (state lost) because its worker was terminated' },
        overBudget: { type: 'integer', description: 'sends refused over its send budget' }
      }
    },
    reason: { type: 'string', description: 'why it is suspended (by an operator, or over its send budget)' },
    lastError: { type: 'string', description: 'why it failed' },
    version: { type: 'integer', minimum: 1, description: 'its version: 1 at deploy, one more at each upgrade or rollback' }
  }
} as const

const aclMessage = {
  type: 'object',
  additionalProperties: true,
  required: ['messageId', 'createdAt', 'performative', 'sender', 'receivers'],
  properties: {
    messageId: { type: 'string' },
    createdAt: { type: 'number' },
    performative: { type: 'string' },
    sender: { type: 'string' },
    receivers: { type: 'array', items: { type: 'string' } },
    replyTo: { type: 'array', items: { type: 'string' } },
    content,
    language: { type: 'string' },
    encoding: { type: 'string' },
    ontology: { type: 'string' },
    protocol: { type: 'string' },
    conversationId: { type: 'string' },
    replyWith: { type: 'string' },
    inReplyTo: { type: 'string' },
    replyBy: { type: 'number' },
    traceparent: { type: 'string' },
    tracestate: { type: 'string' }
  }
} as const

const agentParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: agentId }
} as const

/** Most capabilities per agent (the registry's `LIMITS.capabilities`). */
export const MAX_CAPABILITIES = 64

// Shapes only: lengths, uniqueness and the schema's validity are the node's to check
// (CAPABILITY_INVALID names the element).
const capability = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', description: 'capability name, what discovery matches exactly' },
    description: { type: 'string' },
    version: { type: 'string' },
    schema: { description: 'JSON Schema (draft-07) of the content the agent accepts' }
  }
} as const

const capabilityRef = { type: 'string', minLength: 1, maxLength: 256, description: 'a capability, name or name@version' } as const

/**
 * The two body forms of `POST /agents` and `PUT /agents/:id`: JSON (`id` in it only when
 * `withId`), or the raw module with limits and capabilities (and `id`, when `withId`) in
 * the query.
 */
function moduleBody<WithId extends boolean> (withId: WithId) {
  const json = {
    wasm: { type: 'string', contentEncoding: 'base64', description: 'the module, base64' },
    limits,
    capabilities: { type: 'array', items: capability, maxItems: MAX_CAPABILITIES, description: 'an array of { name, description?, version?, schema? }' }
  } as const
  const query = {
    maxMemoryPages: queryInteger('64 KiB pages'),
    mailboxCapacity: queryInteger('messages'),
    fuelPerMessage: queryInteger('fuel'),
    handlerTimeoutMs: queryInteger('ms'),
    sendsPerSecond: queryInteger('messages per second'),
    sendBurst: queryInteger('messages'),
    sendBytesPerSecond: queryInteger('bytes per second'),
    capability: {
      anyOf: [capabilityRef, { type: 'array', items: capabilityRef, maxItems: MAX_CAPABILITIES }],
      description: 'name or name@version, repeatable'
    }
  } as const
  return {
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: withId ? { id: agentId, ...query } : query
    },
    body: {
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: withId ? ['id', 'wasm'] : ['wasm'],
            additionalProperties: false,
            properties: withId ? { id: agentId, ...json } : json
          }
        },
        // The raw module: checked by the handler (non-empty) and by the runtime (valid WASM).
        'application/wasm': { schema: {} },
        'application/octet-stream': { schema: {} }
      }
    }
  } as const
}

export const deploySchema = {
  summary: 'Deploy an agent',
  description: 'Either a JSON body { id, wasm (base64), limits?, capabilities? } or the raw module with ' +
    'Content-Type: application/wasm and ?id= (limits as query parameters, capabilities as repeated ?capability=name[@version]).',
  ...moduleBody(true),
  response: { 201: agentInfo }
} as const

export const upgradeSchema = {
  summary: 'Upgrade an agent in place',
  description: 'A new version of the agent, in the two forms of POST /agents without the id: a JSON body { wasm (base64), limits?, capabilities? } ' +
    'or the raw module with Content-Type: application/wasm (limits as query parameters, capabilities as repeated ?capability=). ' +
    'Limits and capabilities not given are the current version\'s. The module is checked first: 400 MODULE_INVALID leaves the current version running. ' +
    'Then the old instance finishes the messages it was handed, the new one starts from the agent\'s store and timers and handles the rest, in order; ' +
    'messages sent meanwhile wait in the agent\'s inbox or their senders\' outboxes. When the new module\'s start function fails, the old version runs again (400 MODULE_INVALID). ' +
    '409 AGENT_STATE_CONFLICT while it is starting or draining.',
  params: agentParams,
  ...moduleBody(false),
  response: { 200: agentInfo }
} as const

const agentVersion = {
  type: 'object',
  additionalProperties: true,
  required: ['version', 'moduleHash', 'moduleBytes', 'limits', 'capabilities', 'deployedAt'],
  properties: {
    version: { type: 'integer' },
    moduleHash: { type: 'string', description: 'sha256 of the module, hex' },
    moduleBytes: { type: 'integer', description: 'size of the module, bytes' },
    limits: { ...limitsResponse, description: 'as asked at deploy, upgrade or rollback (the node\'s defaults fill the rest)' },
    capabilities: { type: 'array', items: { type: 'object', additionalProperties: true } },
    deployedAt: { type: 'number', description: 'ms since the epoch' },
    rollbackOf: { type: 'integer', description: 'the version it took back, when it was a rollback' }
  }
} as const

export const agentVersionsSchema = {
  summary: "An agent's kept versions",
  description: 'Oldest first, the current one last; the node keeps agents.keepVersions of them (modules included) for rollback.',
  params: agentParams,
  response: {
    200: {
      type: 'object',
      required: ['id', 'version', 'versions'],
      properties: { id: { type: 'string' }, version: { type: 'integer', description: 'the version running' }, versions: { type: 'array', items: agentVersion } }
    }
  }
} as const

export const rollbackSchema = {
  summary: 'Roll an agent back to a kept version',
  description: 'An upgrade to a kept version\'s module, limits and capabilities (default: the version before the current one); the result is a new version. ' +
    '404 AGENT_VERSION_NOT_FOUND when that version is not kept.',
  params: agentParams,
  body: {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: { version: { type: 'integer', minimum: 1, description: 'the version to take back' } }
  },
  response: { 200: agentInfo }
} as const

export const listAgentsSchema = {
  summary: "This node's agents",
  response: {
    200: { type: 'object', required: ['agents'], properties: { agents: { type: 'array', items: agentInfo } } }
  }
} as const

export const getAgentSchema = {
  summary: 'One agent',
  params: agentParams,
  response: { 200: agentInfo }
} as const

/** `POST /agents/:id/{stop,start,suspend,resume}`: one schema each, the agent as it is afterwards. */
function lifecycleSchema (summary: string, description: string): { summary: string, description: string, params: typeof agentParams, response: { 200: typeof agentInfo } } {
  return { summary, description, params: agentParams, response: { 200: agentInfo } }
}

export const stopAgentSchema = lifecycleSchema('Stop an agent',
  'running → draining (its mailbox drains, up to agents.drainTimeoutMs) → stopped; a suspended agent stops without handling more. ' +
  'Its instance and in-memory state are dropped; messages it did not handle, and new ones, wait (in its inbox, or in their senders\' outboxes, until their deadline) for its start. ' +
  'It stays stopped across restarts of the node. No-op when stopped; 409 AGENT_STATE_CONFLICT when starting or failed.')
export const startAgentSchema = lifecycleSchema('Start a stopped or failed agent',
  'loaded → running: instantiated again from its module (its start function runs), then it handles the messages that waited. ' +
  'No-op when running; 409 AGENT_STATE_CONFLICT when suspended (resume it); 400 MODULE_INVALID when its start function fails (it is then failed).')
export const suspendAgentSchema = {
  ...lifecycleSchema('Suspend an agent',
    'running → suspended: it keeps its instance and state and handles nothing until resumed; messages wait as for a stopped agent. ' +
    'The node also suspends an agent over its send budget for longer than agents.overBudgetGraceMs. No-op when suspended.'),
  body: {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: { reason: { type: 'string', minLength: 1, maxLength: 256, description: 'why (shown as the agent\'s reason)' } }
  }
}
export const resumeAgentSchema = lifecycleSchema('Resume a suspended agent',
  'suspended → running: it handles what waited. No-op when running; 409 AGENT_STATE_CONFLICT when stopped or failed (start it).')

export const removeAgentSchema = {
  summary: 'Stop and remove an agent',
  params: agentParams,
  response: { 204: { type: 'null', description: 'removed' } }
} as const

export const sendMessageSchema = {
  summary: 'Send a FIPA-ACL message to an agent',
  params: agentParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { wait: queryInteger(`ms to wait for a reply, 0..${MAX_WAIT_MS}`) }
  },
  body: {
    type: 'object',
    required: ['performative'],
    additionalProperties: false,
    properties: {
      performative: {
        // The name itself is the router's to check (it accepts "request", "not_understood").
        type: 'string',
        minLength: 1,
        maxLength: 64,
        description: `a FIPA performative (${PERFORMATIVES.join(', ')})`
      },
      sender: optAgentId,
      replyTo: { type: ['array', 'null'], items: agentId },
      content,
      language: optText,
      encoding: optText,
      ontology: optText,
      protocol: optText,
      conversationId: optText,
      replyWith: optText,
      inReplyTo: optText,
      replyBy: optMillis,
      messageId: optText,
      createdAt: optMillis,
      traceparent: optText,
      tracestate: optText
    }
  },
  response: {
    200: {
      type: 'object',
      additionalProperties: true,
      required: ['messageId', 'conversationId', 'sender', 'reply'],
      properties: { messageId: { type: 'string' }, conversationId: { type: 'string' }, sender: { type: 'string' }, reply: aclMessage }
    },
    202: {
      type: 'object',
      additionalProperties: true,
      required: ['messageId', 'conversationId', 'sender'],
      properties: { messageId: { type: 'string' }, conversationId: { type: 'string' }, sender: { type: 'string' } }
    }
  }
} as const

export const listMessagesSchema = {
  summary: 'Recent messages, newest first (debugging)',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: queryInteger(`1..${MAX_MESSAGE_LIMIT}`),
      agent: agentId,
      conversationId: queryText
    }
  },
  response: {
    200: {
      type: 'object',
      required: ['messages'],
      properties: {
        messages: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: true,
            required: ['at', 'direction', 'status', 'message'],
            properties: {
              at: { type: 'number' },
              direction: { type: 'string' },
              status: { type: 'string' },
              peer: { type: 'string' },
              reason: { type: 'string' },
              message: aclMessage
            }
          }
        }
      }
    }
  }
} as const

export const healthSchema = {
  summary: 'Liveness: 200 as long as the process serves HTTP',
  response: { 200: { type: 'object', required: ['status'], properties: { status: { type: 'string' } } } }
} as const

const readiness = {
  type: 'object',
  required: ['ready', 'checks'],
  properties: {
    ready: { type: 'boolean' },
    checks: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['ok'],
        properties: { ok: { type: 'boolean' }, detail: { type: 'string' } }
      }
    }
  }
} as const

export const readySchema = {
  summary: 'Readiness: 200 when every subsystem is ready, else 503; both with the checks',
  response: { 200: readiness, 503: readiness }
} as const

export const nodeSchema = {
  summary: 'This node',
  response: {
    200: {
      type: 'object',
      additionalProperties: true,
      required: ['peerId', 'name', 'multiaddrs', 'api', 'version', 'startedAt'],
      properties: {
        peerId: { type: 'string' },
        name: { type: 'string' },
        multiaddrs: { type: 'array', items: { type: 'string' } },
        api: { type: 'string' },
        version: { type: 'string' },
        startedAt: { type: 'number' }
      }
    }
  }
} as const

export const peersSchema = {
  summary: 'Peers this node knows',
  response: {
    200: {
      type: 'object',
      required: ['peers'],
      properties: {
        peers: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: true,
            required: ['peerId', 'multiaddrs', 'connected'],
            properties: {
              peerId: { type: 'string' },
              multiaddrs: { type: 'array', items: { type: 'string' } },
              connected: { type: 'boolean' },
              delivery: {
                type: 'object',
                description: 'durable delivery to this peer',
                required: ['breaker', 'consecutiveFailures', 'trips', 'inFlight', 'queued'],
                properties: {
                  breaker: { type: 'string', enum: ['closed', 'open', 'half-open'] },
                  consecutiveFailures: { type: 'integer' },
                  trips: { type: 'integer' },
                  inFlight: { type: 'integer' },
                  queued: { type: 'integer' }
                }
              }
            }
          }
        }
      }
    }
  }
} as const

export const metricsSchema = {
  summary: 'Prometheus metrics',
  response: {
    200: {
      description: 'Prometheus text exposition format',
      content: { 'text/plain': { schema: { type: 'string' } } }
    }
  }
} as const


// ---- cluster registry ----

const capabilityResponse = {
  type: 'object',
  additionalProperties: true,
  required: ['name'],
  properties: { name: { type: 'string' }, description: { type: 'string' }, version: { type: 'string' }, schema: {} }
} as const

const registeredAgent = {
  type: 'object',
  additionalProperties: true,
  required: ['id', 'node', 'state', 'status', 'reachable', 'local', 'capabilities', 'updatedAt', 'version', 'conflicts'],
  properties: {
    id: { type: 'string' },
    node: { type: 'string' },
    state: { type: 'string' },
    status: { type: 'string' },
    reachable: { type: 'boolean' },
    local: { type: 'boolean' },
    capabilities: { type: 'array', items: capabilityResponse },
    updatedAt: { type: 'number' },
    version: {
      type: 'object',
      additionalProperties: true,
      properties: {
        by: { type: 'string' },
        seq: { type: 'integer' },
        hlc: { type: 'object', additionalProperties: true, properties: { wall: { type: 'number' }, logical: { type: 'integer' } } }
      }
    },
    conflicts: { type: 'integer' },
    agentVersion: { type: 'integer', description: 'the agent\'s version on its node (1 at deploy, one more at each upgrade or rollback)' }
  }
} as const

/** Most agents `GET /registry/agents` returns; the default. */
export const MAX_REGISTRY_LIMIT = 100_000
export const DEFAULT_REGISTRY_LIMIT = 1000

export const registrySummarySchema = {
  summary: "This node's registry replica: counts, digest, capabilities",
  response: {
    200: {
      type: 'object',
      additionalProperties: true,
      required: ['nodeId', 'agents', 'entries', 'tombstones', 'digest', 'capabilities', 'unreachableNodes', 'healthy'],
      properties: {
        nodeId: { type: 'string' },
        agents: { type: 'integer' },
        entries: { type: 'integer' },
        tombstones: { type: 'integer' },
        digest: { type: 'string' },
        capabilities: { type: 'array', items: { type: 'string' } },
        unreachableNodes: { type: 'array', items: { type: 'string' } },
        healthy: { type: 'boolean' },
        stats: { type: 'object', additionalProperties: { type: 'number' } }
      }
    }
  }
} as const

export const registryListSchema = {
  summary: 'Agents of the whole cluster, from this node\'s registry (FIPA DF search)',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      capability: { type: 'string', minLength: 1, maxLength: 100, description: 'an exact capability name' },
      node: { type: 'string', minLength: 1, maxLength: 256, description: 'a node\'s peer id' },
      reachable: { type: 'string', enum: ['true', 'false'], description: 'true or false' },
      limit: queryInteger(`1..${MAX_REGISTRY_LIMIT}, default ${DEFAULT_REGISTRY_LIMIT}`)
    }
  },
  response: {
    200: {
      type: 'object',
      required: ['agents', 'total'],
      properties: { agents: { type: 'array', items: registeredAgent }, total: { type: 'integer' } }
    }
  }
} as const

export const registryAgentSchema = {
  summary: 'One agent of the cluster, from this node\'s registry',
  params: agentParams,
  response: { 200: registeredAgent }
} as const

// ---- fault injection (only with --enable-faults) ----

const faultState = {
  type: 'object',
  required: ['isolated', 'blocked'],
  properties: { isolated: { type: 'boolean' }, blocked: { type: 'array', items: { type: 'string' } } }
} as const

const faultBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    peers: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 256 }, maxItems: 10_000, description: 'peer ids; absent: every peer' }
  }
} as const

export const faultStateSchema = {
  summary: 'What fault injection cuts now',
  response: { 200: faultState }
} as const

export const faultPartitionSchema = {
  summary: 'Cut this node off from some peers (or all): close their connections, refuse new ones',
  body: faultBody,
  response: { 200: faultState }
} as const

export const faultHealSchema = {
  summary: 'Lift a cut (for some peers or all) and redial the peers it cut',
  body: faultBody,
  response: { 200: faultState }
} as const

// ---- cluster membership ----

const memberStates = ['alive', 'suspect', 'dead', 'left'] as const

const member = {
  type: 'object',
  additionalProperties: true,
  required: ['id', 'state', 'incarnation', 'addrs', 'self', 'changedAt'],
  properties: {
    id: { type: 'string' },
    state: { type: 'string' },
    incarnation: { type: 'integer' },
    addrs: { type: 'array', items: { type: 'string' } },
    self: { type: 'boolean' },
    changedAt: { type: 'number' }
  }
} as const

export const membersSchema = {
  summary: "The cluster's members as this node's membership (SWIM) sees them: state, incarnation, last change",
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      state: { type: 'string', enum: memberStates, description: 'alive, suspect, dead or left' }
    }
  },
  response: {
    200: {
      type: 'object',
      additionalProperties: true,
      required: ['self', 'incarnation', 'healthScore', 'counts', 'members'],
      properties: {
        self: { type: 'string' },
        incarnation: { type: 'integer' },
        healthScore: { type: 'integer' },
        counts: { type: 'object', additionalProperties: { type: 'integer' } },
        members: { type: 'array', items: member }
      }
    }
  }
} as const

// ---- durable delivery: message status, dead letters, the handled log ----

export const MAX_DEAD_LETTER_LIMIT = 100_000
export const DEFAULT_DEAD_LETTER_LIMIT = 100
const DEAD_LETTER_CAUSES = ['expired', 'not-found', 'rejected', 'agent-failed', 'agent-removed'] as const
const DELIVERY_STATES = ['queued', 'sent', 'delivered', 'handled', 'dead-lettered'] as const
const messageIdParam = { type: 'string', minLength: 1, maxLength: 128, description: 'a message id' } as const
const deadLetterIdParam = { type: 'string', pattern: '^[0-9a-f]{18}$', description: 'a dead letter id (18 hex digits)' } as const

export const messageStatusSchema = {
  summary: 'Where a message stands, per receiver, as this node knows it: queued, sent, delivered, handled, dead-lettered',
  params: { type: 'object', required: ['id'], properties: { id: messageIdParam } },
  response: {
    200: {
      type: 'object',
      required: ['messageId', 'receivers'],
      properties: {
        messageId: { type: 'string' },
        sender: { type: 'string' },
        receivers: {
          type: 'array',
          items: {
            type: 'object',
            required: ['receiver', 'state', 'at'],
            properties: {
              receiver: { type: 'string' },
              state: { type: 'string', enum: DELIVERY_STATES },
              at: { type: 'number', description: 'when it reached this state, ms since the epoch' },
              peer: { type: 'string' },
              attempts: { type: 'integer' },
              reason: { type: 'string' },
              cause: { type: 'string', enum: DEAD_LETTER_CAUSES },
              deadLetterId: { type: 'string' }
            }
          }
        }
      }
    }
  }
} as const

export const handledLogSchema = {
  summary: 'The handled log: one line per message an agent of this node handled, oldest first (only with delivery.handledLog)',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      after: { type: 'string', maxLength: 64, description: 'the key of the last line read' },
      limit: queryInteger('1..10000')
    }
  },
  response: {
    200: {
      type: 'object',
      required: ['entries'],
      properties: {
        entries: {
          type: 'array',
          items: {
            type: 'object',
            required: ['key', 'receiver', 'messageId', 'sender', 'performative', 'at', 'sent'],
            properties: {
              key: { type: 'string' },
              receiver: { type: 'string' },
              messageId: { type: 'string' },
              sender: { type: 'string' },
              performative: { type: 'string' },
              inReplyTo: { type: 'string' },
              conversationId: { type: 'string' },
              at: { type: 'number' },
              sent: { type: 'array', items: { type: 'string' }, description: 'ids of the messages its handler sent' }
            }
          }
        }
      }
    }
  }
} as const

const deadLetter = {
  type: 'object',
  required: ['id', 'at', 'receiver', 'sender', 'messageId', 'cause', 'reason', 'attempts', 'message'],
  properties: {
    id: { type: 'string' },
    at: { type: 'number', description: 'when it was dead-lettered, ms since the epoch' },
    receiver: { type: 'string' },
    sender: { type: 'string' },
    messageId: { type: 'string' },
    cause: { type: 'string', enum: DEAD_LETTER_CAUSES },
    reason: { type: 'string' },
    attempts: { type: 'integer' },
    peer: { type: 'string' },
    message: aclMessage
  }
} as const

const deadLetterFilter = {
  agent: agentId,
  cause: { type: 'string', enum: DEAD_LETTER_CAUSES },
  since: queryInteger('ms since the epoch')
} as const

export const listDeadLettersSchema = {
  summary: 'Dead letters, newest first, filtered by agent (receiver or sender), cause and time',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { ...deadLetterFilter, limit: queryInteger(`1..${MAX_DEAD_LETTER_LIMIT}`) }
  },
  response: {
    200: {
      type: 'object',
      required: ['deadLetters', 'total'],
      properties: { deadLetters: { type: 'array', items: deadLetter }, total: { type: 'integer', description: 'entries matching, before limit' } }
    }
  }
} as const

export const getDeadLetterSchema = {
  summary: 'One dead letter',
  params: { type: 'object', required: ['id'], properties: { id: deadLetterIdParam } },
  response: { 200: deadLetter }
} as const

export const replayDeadLetterSchema = {
  summary: 'Send a dead letter again, to its receiver, with a new deadline; it leaves the queue',
  params: { type: 'object', required: ['id'], properties: { id: deadLetterIdParam } },
  response: {
    202: {
      type: 'object',
      required: ['messageId', 'receiver'],
      properties: { messageId: { type: 'string' }, receiver: { type: 'string' } }
    }
  }
} as const

export const deleteDeadLetterSchema = {
  summary: 'Delete one dead letter',
  params: { type: 'object', required: ['id'], properties: { id: deadLetterIdParam } },
  response: { 204: { type: 'null', description: 'deleted' } }
} as const

export const purgeDeadLettersSchema = {
  summary: 'Delete every dead letter matching the filters (all of them without any)',
  querystring: { type: 'object', additionalProperties: false, properties: deadLetterFilter },
  response: { 200: { type: 'object', required: ['deleted'], properties: { deleted: { type: 'integer' } } } }
} as const

export const conversationSchema = {
  summary: 'A conversation as this node knows it: participants, protocol, activity, replies awaited by a reply-by',
  params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 128, description: 'a conversation id' } } },
  response: {
    200: {
      type: 'object',
      required: ['id', 'initiator', 'participants', 'startedAt', 'lastActivity', 'messages', 'awaiting'],
      properties: {
        id: { type: 'string' },
        initiator: { type: 'string' },
        participants: { type: 'array', items: { type: 'string' } },
        protocol: { type: 'string' },
        startedAt: { type: 'number' },
        lastActivity: { type: 'number' },
        messages: { type: 'integer' },
        awaiting: {
          type: 'array',
          items: {
            type: 'object',
            required: ['key', 'from', 'to', 'replyBy', 'messageId'],
            properties: {
              key: { type: 'string', description: 'the request\'s reply-with (or message id)' },
              from: { type: 'string' },
              to: { type: 'array', items: { type: 'string' } },
              replyBy: { type: 'number' },
              messageId: { type: 'string' }
            }
          }
        }
      }
    }
  }
} as const
