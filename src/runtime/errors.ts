/**
 * Failures of the agent runtime, one class per failure (see `protocols/errors.ts`).
 */
import { CaxtonError } from '../../protocols/errors.js'
import type { AgentId } from '../../protocols/fipa/types.js'

/**
 * A module breaks the sandbox policy (a disallowed WebAssembly feature or import, a
 * missing or mistyped export, shared / 64-bit / oversized memory), is not WebAssembly at
 * all, or failed to instantiate. `reason` names what was wrong; several problems are
 * joined with `; `.
 */
export class InvalidModuleError extends CaxtonError {
  readonly reason: string

  constructor (reason: string, options?: { cause?: unknown }) {
    super('MODULE_INVALID', `invalid agent module: ${reason}`, options)
    this.name = 'InvalidModuleError'
    this.reason = reason
  }
}

/** `deploy` of an id that is already deployed on this runtime (remove it first). */
export class AgentExistsError extends CaxtonError {
  readonly agentId: AgentId

  constructor (agentId: AgentId) {
    super('AGENT_EXISTS', `agent ${JSON.stringify(agentId)} is already deployed`)
    this.name = 'AgentExistsError'
    this.agentId = agentId
  }
}

/** No agent with this id: on this runtime, or (with another `detail`) anywhere in the cluster. */
export class AgentNotFoundError extends CaxtonError {
  readonly agentId: AgentId

  constructor (agentId: AgentId, detail = 'on this runtime') {
    super('AGENT_NOT_FOUND', `no agent ${JSON.stringify(agentId)} ${detail}`)
    this.name = 'AgentNotFoundError'
    this.agentId = agentId
  }
}

/** An agent id that is not `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`, or one that is reserved. */
export class InvalidAgentIdError extends CaxtonError {
  readonly agentId: string

  constructor (agentId: string, reason = 'expected 1-128 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit') {
    super('AGENT_ID_INVALID', `invalid agent id ${JSON.stringify(agentId)}: ${reason}`)
    this.name = 'InvalidAgentIdError'
    this.agentId = agentId
  }
}

/** A limit out of range (`field` names it, e.g. `maxMemoryPages`). */
export class InvalidLimitsError extends CaxtonError {
  readonly field: string
  readonly reason: string

  constructor (field: string, reason: string) {
    super('LIMITS_INVALID', `invalid agent limit ${field}: ${reason}`)
    this.name = 'InvalidLimitsError'
    this.field = field
    this.reason = reason
  }
}

/** `deploy` or `inspect` on a runtime that is not started (or already stopped). */
export class RuntimeNotRunningError extends CaxtonError {
  constructor () {
    super('RUNTIME_NOT_RUNNING', 'the agent runtime is not running (call start() first)')
    this.name = 'RuntimeNotRunningError'
  }
}

/**
 * A lifecycle action the agent's state does not allow (e.g. `resume` of a stopped agent,
 * `stop` while it is starting). `state` is its state when asked; `action` what was asked.
 * REST status 409.
 */
export class AgentStateError extends CaxtonError {
  readonly agentId: AgentId
  readonly state: string
  readonly action: string

  constructor (agentId: AgentId, state: string, action: string, hint = '') {
    super('AGENT_STATE_CONFLICT', `cannot ${action} agent ${JSON.stringify(agentId)}: it is ${state}${hint === '' ? '' : ` (${hint})`}`)
    this.name = 'AgentStateError'
    this.agentId = agentId
    this.state = state
    this.action = action
  }
}
