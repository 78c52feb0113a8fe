/**
 * One timer for the earliest of a set of future times: a clock-driven state machine says
 * when it has work next, and the alarm fires once then (an earlier time replaces a later
 * one; a later one waits for the one set). Used by delivery's scheduler and by the
 * conversations' reply deadlines. The timer does not keep the process alive.
 */
export class Alarm {
  private timer?: NodeJS.Timeout
  private at = Infinity

  constructor (private readonly fire: () => void, private readonly clock: () => number = Date.now) {}

  /** Fires at `at` (ms since the epoch) unless an earlier time is already set. */
  setFor (at: number): void {
    if (this.timer !== undefined && this.at <= at) return
    clearTimeout(this.timer)
    this.at = at
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.at = Infinity
      this.fire()
    }, Math.max(1, at - this.clock()))
    this.timer.unref()
  }

  cancel (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.at = Infinity
  }
}
