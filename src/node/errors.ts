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
