/**
 * The one error style of the project: every failure a caller may want to handle is a
 * class of its own with `name` set, extending {@link CaxtonError}, and carrying the fields
 * a caller needs (e.g. `AgentNotFoundError { agentId }`). Each module keeps its classes in
 * its own `errors.ts`. `code` is a stable, machine-readable identifier (it is what the
 * REST API puts in `error.code`).
 */
export class CaxtonError extends Error {
  /** Stable machine-readable code, e.g. `AGENT_NOT_FOUND`. */
  readonly code: string

  constructor (code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = 'CaxtonError'
  }
}
