/**
 * Per-agent limits: defaults and validation.
 */
import { InvalidLimitsError } from './errors.js'
import type { AgentLimits } from './types.js'

/** Defaults of every {@link AgentLimits} field. */
export const DEFAULT_AGENT_LIMITS: Readonly<AgentLimits> = Object.freeze({
  maxMemoryPages: 256,
  mailboxCapacity: 1024,
  fuelPerMessage: 50_000_000,
  handlerTimeoutMs: 5000,
  sendsPerSecond: 1000,
  sendBurst: 1000,
  sendBytesPerSecond: 4 * 1024 * 1024
})

/** Largest linear memory of a 32-bit WebAssembly module, pages (4 GiB). */
export const MAX_MEMORY_PAGES = 65536
/** The fuel counter is an i32: a budget must fit. */
export const MAX_FUEL_PER_MESSAGE = 2 ** 31 - 1
/** Upper bound on a mailbox, messages: mailboxes are preallocated rings. */
export const MAX_MAILBOX_CAPACITY = 1 << 20
/** Upper bound on the wall-clock backstop, ms (10 minutes). */
export const MAX_HANDLER_TIMEOUT_MS = 600_000
/** Upper bound on a send rate or burst, messages (no node routes more). */
export const MAX_SENDS_PER_SECOND = 100_000_000
/** Upper bound on a byte rate, bytes per second (1 TiB). */
export const MAX_SEND_BYTES_PER_SECOND = 2 ** 40

const RANGES: Record<keyof AgentLimits, [number, number]> = {
  maxMemoryPages: [1, MAX_MEMORY_PAGES],
  mailboxCapacity: [1, MAX_MAILBOX_CAPACITY],
  fuelPerMessage: [1, MAX_FUEL_PER_MESSAGE],
  handlerTimeoutMs: [1, MAX_HANDLER_TIMEOUT_MS],
  sendsPerSecond: [1, MAX_SENDS_PER_SECOND],
  sendBurst: [1, MAX_SENDS_PER_SECOND],
  sendBytesPerSecond: [1, MAX_SEND_BYTES_PER_SECOND]
}

/** The {@link AgentLimits} fields of `source` (e.g. the config's `agents` section, which has more). */
export function pickLimits (source: Readonly<AgentLimits>): AgentLimits {
  const limits = {} as AgentLimits
  for (const key of Object.keys(RANGES) as Array<keyof AgentLimits>) limits[key] = source[key]
  return limits
}

/**
 * `overrides` over `base`, checked: every field an integer in its range.
 * @throws InvalidLimitsError `{ field, reason }` for the first field out of range or unknown
 */
export function resolveLimits (base: Readonly<AgentLimits>, overrides: Partial<AgentLimits> = {}): AgentLimits {
  if (overrides === null || typeof overrides !== 'object') throw new InvalidLimitsError('(limits)', 'expected an object')
  for (const key of Object.keys(overrides)) {
    if (!(key in RANGES)) throw new InvalidLimitsError(key, `unknown limit (known: ${Object.keys(RANGES).join(', ')})`)
  }
  const limits: AgentLimits = { ...base }
  for (const key of Object.keys(RANGES) as Array<keyof AgentLimits>) {
    const value = overrides[key] ?? base[key]
    const [min, max] = RANGES[key]
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new InvalidLimitsError(key, `expected an integer in ${min}..${max}, got ${String(value)}`)
    }
    limits[key] = value
  }
  return limits
}
