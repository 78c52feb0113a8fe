import { CaxtonError } from '../../protocols/errors.js'

/** The id is taken, on this node or (as far as this node knows) on another. */
export class AgentIdTakenError extends CaxtonError {
  readonly agentId: string
  readonly peer: string
  constructor (agentId: string, peer: string) {
    super('AGENT_EXISTS', `agent ${agentId} already runs on node ${peer}; remove it there first or pick another id`)
    this.name = 'AgentIdTakenError'
    this.agentId = agentId
    this.peer = peer
  }
}

/** The node is starting or stopping and cannot take the request. */
export class NotReadyError extends CaxtonError {
  constructor (what: string) {
    super('NOT_READY', `the node is not ready: ${what}`)
    this.name = 'NotReadyError'
  }
}

/** No kept version of the agent has this number (or there is no version before the current one to roll back to). */
export class AgentVersionNotFoundError extends CaxtonError {
  readonly agentId: string
  readonly version: number | null
  constructor (agentId: string, version: number | null, kept: readonly number[]) {
    super('AGENT_VERSION_NOT_FOUND', version === null
      ? `agent ${agentId} has no version before its current one to roll back to (kept: ${kept.join(', ')})`
      : `agent ${agentId} has no kept version ${version} (kept: ${kept.join(', ')}; config agents.keepVersions)`)
    this.name = 'AgentVersionNotFoundError'
    this.agentId = agentId
    this.version = version
  }
}
