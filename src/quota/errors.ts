import { CaxtonError } from '../../protocols/errors.js'

/** A deploy asks a limit above what this node allows any agent (config `quota.*`). REST status 400. */
export class LimitTooHighError extends CaxtonError {
  /** The limit, e.g. `maxMemoryPages`. */
  readonly field: string
  readonly asked: number
  /** The most this node allows. */
  readonly max: number

  constructor (field: string, asked: number, max: number, key: string) {
    super('LIMIT_TOO_HIGH', `limits.${field} = ${asked} is above this node's maximum of ${max} (config ${key})`)
    this.name = 'LimitTooHighError'
    this.field = field
    this.asked = asked
    this.max = max
  }
}

/** The node already holds as many agents, or as much agent memory, as it may. REST status 409. */
export class AgentQuotaExceededError extends CaxtonError {
  /** `agents` (count) or `memoryPages` (the sum of the agents' memory caps, 64 KiB pages). */
  readonly quota: 'agents' | 'memoryPages'
  readonly used: number
  readonly asked: number
  readonly max: number

  constructor (quota: 'agents' | 'memoryPages', used: number, asked: number, max: number) {
    super('AGENT_QUOTA_EXCEEDED', quota === 'agents'
      ? `this node already runs ${used} agents, its maximum (config quota.maxAgents = ${max}); remove one first`
      : `the agents of this node already reserve ${used} of ${max} memory pages (config quota.maxTotalMemoryPages); this one asks ${asked} more`)
    this.name = 'AgentQuotaExceededError'
    this.quota = quota
    this.used = used
    this.asked = asked
    this.max = max
  }
}

/** HTTP status of this module's codes, for `createApiServer({ errorStatus })`. */
export const QUOTA_ERROR_STATUS: Readonly<Record<string, number>> = Object.freeze({
  LIMIT_TOO_HIGH: 400,
  AGENT_QUOTA_EXCEEDED: 409
})
