/**
 * An agent's timers as its instance sees them (ABI SPEC.md §8): which ids are pending,
 * the next id, and the schedules, cancels and firings of the message being handled, for
 * the host to commit with it. When a timer's message fires is the host's business (the
 * node's timer service); this book only decides what the agent may do and see.
 */
import { HOST_RESULT } from '../../../protocols/agent-abi/index.js'
import type { TimerChange } from './changes.js'

export class TimerBook {
  private readonly pending: Set<number>
  private changes: TimerChange[] = []

  /**
   * @param maxTimers most timers pending at once
   * @param pending ids pending as committed
   * @param nextId the id the next `schedule` returns (ids are never reused)
   */
  constructor (readonly maxTimers: number, pending: Iterable<number> = [], private nextId = 1) {
    this.pending = new Set(pending)
    for (const id of this.pending) if (id >= this.nextId) this.nextId = id + 1
  }

  /** The id the next timer gets. */
  get next (): number {
    return this.nextId
  }

  /** A new timer (`delayMs` and `payload` already checked): its id, or `HOST_RESULT.quota`. */
  schedule (delayMs: number, payload: Uint8Array): number {
    if (this.pending.size >= this.maxTimers || this.nextId > 0x7fffffff) return HOST_RESULT.quota
    const id = this.nextId++
    this.pending.add(id)
    this.changes.push({ kind: 'schedule', id, delayMs, payload })
    return id
  }

  /** `HOST_RESULT.ok` when `id` was pending (it is no more), else `HOST_RESULT.notFound`. */
  cancel (id: number): number {
    if (!this.pending.delete(id)) return HOST_RESULT.notFound
    this.changes.push({ kind: 'cancel', id })
    return HOST_RESULT.ok
  }

  /**
   * Timer `id`'s message is about to be handled: true, and the timer ends, when it was
   * pending; false when it was not (cancelled after it fired): the message is dropped.
   */
  fire (id: number): boolean {
    if (!this.pending.delete(id)) return false
    this.changes.push({ kind: 'fired', id })
    return true
  }

  /** The changes since the last call (the message just handled), in order, and forgets them. */
  takeChanges (): TimerChange[] {
    const changes = this.changes
    if (changes.length > 0) this.changes = []
    return changes
  }
}
