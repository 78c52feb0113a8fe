/**
 * What every route module receives, and small helpers they share.
 */
import type { AuditLog } from '../../audit/index.js'
import type { TokenStore } from '../../auth/index.js'
import type { NodeFacade } from '../facade.js'
import { RequestInvalidError, ServerStoppingError } from '../errors.js'

export interface RouteDeps {
  facade: NodeFacade
  /** Longest `?wait=` accepted, ms. */
  maxWaitMs: number
  /** Aborted when the server stops: requests still waiting give up with NOT_READY. */
  stopping: AbortSignal
  /** The API's tokens (`/tokens`). */
  tokens: TokenStore
  /** The node's audit log (`/audit`). */
  audit: AuditLog
}

/**
 * A query parameter that the schema already restricted to digits, as a number in
 * `[min, max]`; `undefined` when absent.
 * @throws RequestInvalidError naming `field` and the range
 */
export function parseQueryInteger (value: string | undefined, field: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new RequestInvalidError(`${field} must be a whole number from ${min} to ${max}`, field)
  }
  return n
}

/**
 * `work`, unless the server starts stopping first: then {@link ServerStoppingError}.
 * `work`'s own later failure is swallowed (nobody is listening for it any more).
 */
export async function unlessStopping<T> (work: Promise<T>, stopping: AbortSignal): Promise<T> {
  if (stopping.aborted) {
    work.catch(() => {})
    throw new ServerStoppingError()
  }
  let onAbort = (): void => {}
  const stopped = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(new ServerStoppingError()) }
    stopping.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([work, stopped])
  } finally {
    stopping.removeEventListener('abort', onAbort)
    work.catch(() => {})
    stopped.catch(() => {})
  }
}
