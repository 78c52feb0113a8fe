/**
 * The Caxton agent ABI (SPEC.md beside this file): what a WebAssembly agent exports and
 * imports, the status codes that cross the boundary, and the message layout in linear
 * memory with its host-side codec. Pure: no I/O.
 *
 * @example
 * ```ts
 * import { encodeForAgent, decodeFromAgent, AbiDecodeError } from './protocols/agent-abi/index.js'
 *
 * const bytes = encodeForAgent(message)        // write at alloc(bytes.length), then handle_message(ptr, len)
 * try {
 *   const draft = decodeFromAgent(sentBytes)   // what the agent passed to env.send
 * } catch (err) {
 *   if (err instanceof AbiDecodeError) console.log(err.reason)
 * }
 * ```
 */
export { encodeForAgent, encodeAbiMessage, encodeAbiMessageInto, encodeAbiMessageScratch, decodeFromAgent, checkFromAgent, type AbiMessageFields } from './codec.js'
export { AbiDecodeError } from './errors.js'
export { ABI_VERSION, FIELD_HEADER_BYTES, TAG } from './tags.js'
export {
  HOST_RESULT, HOST_FUEL, MAX_KEY_BYTES, KV_ENTRY_OVERHEAD_BYTES, MAX_RANDOM_BYTES, MAX_TIMER_PAYLOAD_BYTES, MAX_TIMER_DELAY_MS, MAX_CAPABILITY_BYTES,
  TIMER_ONTOLOGY, TIMER_REPLY_PREFIX, timerMessage, timerIdIn
} from './host.js'

/** The module the host's imports live in. */
export const IMPORT_MODULE = 'env'

/** What an agent may import: `env.<name>` → kind, with the function signature. */
export const ALLOWED_IMPORTS = {
  memory: { kind: 'memory' },
  send: { kind: 'function', params: ['i32', 'i32'], results: ['i32'] },
  log: { kind: 'function', params: ['i32', 'i32', 'i32'], results: [] },
  abort: { kind: 'function', params: ['i32', 'i32', 'i32', 'i32'], results: [] },
  // SPEC.md §6-§8: time, randomness, the agent's store, timers.
  now: { kind: 'function', params: [], results: ['f64'] },
  random: { kind: 'function', params: ['i32', 'i32'], results: ['i32'] },
  kv_get: { kind: 'function', params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  kv_put: { kind: 'function', params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  kv_delete: { kind: 'function', params: ['i32', 'i32'], results: ['i32'] },
  kv_next: { kind: 'function', params: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  schedule: { kind: 'function', params: ['f64', 'i32', 'i32'], results: ['i32'] },
  cancel: { kind: 'function', params: ['i32'], results: ['i32'] },
  // SPEC.md §9: capabilities the agent offers, into the registry.
  capability_declare: { kind: 'function', params: ['i32', 'i32'], results: ['i32'] },
  capability_withdraw: { kind: 'function', params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'] }
} as const

/** What an agent must export, with the function signature. */
export const REQUIRED_EXPORTS = {
  alloc: { params: ['i32'], results: ['i32'] },
  handle_message: { params: ['i32', 'i32'], results: ['i32'] }
} as const

/**
 * Export names with this prefix are reserved for the host's instrumentation (the fuel
 * counter, the deferred start function); a module that uses one is rejected.
 */
export const RESERVED_EXPORT_PREFIX = '__caxton_'

/** `handle_message` returned this: handled. Anything else is an error code (a failed message). */
export const HANDLE_OK = 0

/** What `env.send` returns. 0 = accepted; negative = rejected. */
export const SEND_RESULT = {
  accepted: 0,
  /** The bytes are not a message (SPEC.md §3), or `ptr`/`len` fall outside linear memory. */
  malformed: -1,
  /** Longer than the host's limit on one message. */
  tooLarge: -2,
  /** The agent already sent the most messages allowed while handling one message. */
  quotaExceeded: -3,
  /** The node's outbox is full: nothing was sent; try again later (e.g. on a later message). */
  outboxFull: -4,
  /** Over the agent's send budget (messages or bytes per second): nothing was sent; send less, or later. */
  overBudget: -5
} as const

/** `env.log` levels, by number. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type AgentLogLevel = typeof LOG_LEVELS[number]

/** Size of one WebAssembly page, bytes. */
export const WASM_PAGE_BYTES = 65536
