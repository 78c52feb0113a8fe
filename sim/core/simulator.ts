/**
 * A discrete-event simulator in virtual time: an agenda of timed callbacks run in
 * (time, scheduling order) order. Nothing here knows about networks or protocols.
 */
import { EventQueue } from './event-queue.js'
import { Prng } from './prng.js'
import { TraceHash } from './trace.js'

interface Agenda {
  at: number
  seq: number
  run: () => void
  cancelled: boolean
}

/** A scheduled callback, for `cancel`. */
export interface Timer {
  readonly at: number
}

export interface RunOptions {
  /** Stop before the first event after this virtual time, ms. */
  until: number
  /** Checked after every event; true stops the run. */
  stop?: () => boolean
  /** Called about every `progressEveryMs` of virtual time. */
  onProgress?: (now: number) => void
  /** @default 1000 */
  progressEveryMs?: number
}

export class Simulator {
  /** Virtual time, ms. */
  now = 0
  /** The root random stream; components fork their own from it. */
  readonly random: Prng
  readonly trace = new TraceHash()
  eventsRun = 0
  private readonly queue = new EventQueue<Agenda>()
  private seq = 0

  constructor (seed: number | string) {
    this.random = new Prng(seed)
  }

  /** Runs `run` at virtual time `at` (not before now), ms. */
  at (at: number, run: () => void): Timer {
    const event: Agenda = { at: Math.max(at, this.now), seq: this.seq++, run, cancelled: false }
    this.queue.push(event)
    return event
  }

  /** Runs `run` after `delayMs` of virtual time. */
  after (delayMs: number, run: () => void): Timer {
    return this.at(this.now + Math.max(0, delayMs), run)
  }

  cancel (timer: Timer): void {
    (timer as Agenda).cancelled = true
  }

  /** Events waiting. */
  get pending (): number {
    return this.queue.size
  }

  /** Runs events in order until `until`, an empty agenda, or `stop()`; returns the virtual time reached. */
  run (options: RunOptions): number {
    const every = options.progressEveryMs ?? 1000
    let nextProgress = this.now + every
    for (;;) {
      const next = this.queue.peek()
      if (next === undefined || next.at > options.until) break
      this.queue.pop()
      if (next.cancelled) continue
      this.now = next.at
      this.eventsRun++
      next.run()
      if (options.onProgress !== undefined && this.now >= nextProgress) {
        options.onProgress(this.now)
        nextProgress = this.now + every
      }
      if (options.stop?.() === true) return this.now
    }
    if (Number.isFinite(options.until)) this.now = Math.max(this.now, options.until)
    return this.now
  }
}
