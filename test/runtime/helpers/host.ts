/**
 * A RuntimeHost that records what agents do, and lets a test wait for an event with a
 * bound (never a fixed sleep).
 */

/** `until` also re-checks this often, for conditions no host event signals (stats), ms. */
const POLL_MS = 5
import type { AgentOutbound, AgentState, RuntimeHost } from '../../../src/runtime/types.js'

export interface SendEvent { agentId: string, outbound: AgentOutbound }
export interface LogEvent { agentId: string, level: string, text: string }
export interface FailEvent { agentId: string, reason: string, tokens?: string[] }
export interface StateEvent { agentId: string, state: AgentState, reason?: string }
export interface HandledEvent { agentId: string, token: string | undefined, sends: AgentOutbound[] }

export class HostRecorder implements RuntimeHost {
  readonly sends: SendEvent[] = []
  readonly logs: LogEvent[] = []
  readonly failures: FailEvent[] = []
  readonly restarts: FailEvent[] = []
  /** Every `handle_message` that returned, with its token and what it sent. */
  readonly handled: HandledEvent[] = []
  /** Sends from start functions (not tied to a message). */
  readonly startSends: SendEvent[] = []
  /** `onStateChanged` calls, in order. */
  readonly stateChanges: StateEvent[] = []
  private readonly listeners = new Set<() => void>()

  /** A handler's sends are also listed in `sends`, in order. */
  onHandled = (agentId: string, token: string | undefined, sends: AgentOutbound[]): void => {
    this.handled.push({ agentId, token, sends })
    for (const outbound of sends) this.sends.push({ agentId, outbound })
    this.notify()
  }

  onAgentSend = (agentId: string, outbound: AgentOutbound): void => { this.sends.push({ agentId, outbound }); this.startSends.push({ agentId, outbound }); this.notify() }
  onAgentLog = (agentId: string, level: string, text: string): void => { this.logs.push({ agentId, level, text }); this.notify() }
  onAgentFailed = (agentId: string, reason: string, tokens: string[]): void => { this.failures.push({ agentId, reason, tokens }); this.notify() }
  onAgentRestarted = (agentId: string, reason: string): void => { this.restarts.push({ agentId, reason }); this.notify() }
  onStateChanged = (agentId: string, state: AgentState, reason?: string): void => {
    this.stateChanges.push(reason === undefined ? { agentId, state } : { agentId, state, reason })
    this.notify()
  }

  /** Sends of `agentId` that decoded, as drafts. */
  drafts (agentId: string): Array<Record<string, unknown>> {
    return this.sends.filter(s => s.agentId === agentId && s.outbound.ok).map(s => (s.outbound as { draft: Record<string, unknown> }).draft)
  }

  /**
   * Resolves with `check()`'s first non-undefined result, re-checking after every host
   * event and every few ms (a bounded poll); rejects after `timeoutMs`.
   */
  async until<T> (check: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
    const first = check()
    if (first !== undefined) return first
    const { promise, resolve, reject } = Promise.withResolvers<T>()
    const listener = (): void => {
      const value = check()
      if (value !== undefined) resolve(value)
    }
    this.listeners.add(listener)
    const poll = setInterval(listener, POLL_MS)
    const timer = setTimeout(() => { reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)) }, timeoutMs)
    try {
      return await promise
    } finally {
      clearInterval(poll)
      clearTimeout(timer)
      this.listeners.delete(listener)
    }
  }

  /** Waits until `agentId` has sent `n` decodable messages; returns them. */
  async sent (agentId: string, n: number, timeoutMs?: number): Promise<Array<Record<string, unknown>>> {
    return await this.until(() => {
      const d = this.drafts(agentId)
      return d.length >= n ? d : undefined
    }, `${n} sends from ${agentId}`, timeoutMs)
  }

  /** Waits for `agentId` to be reported failed; returns the reason. */
  async failed (agentId: string, timeoutMs?: number): Promise<string> {
    return await this.until(() => this.failures.find(f => f.agentId === agentId)?.reason, `${agentId} to fail`, timeoutMs)
  }

  private notify (): void {
    for (const l of [...this.listeners]) l()
  }
}
