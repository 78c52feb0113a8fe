/**
 * The load signal of Lifeguard's local health awareness (Lifeguard §IV-A; SPEC.md §4): how
 * late this process's event loop runs. A node whose loop lags answers probes late and
 * sees others' acks late; fed to `SwimNode.reportLoad`, the lag stretches its own probe
 * timeouts so that it accuses others more slowly instead of falsely.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'

/** A source of event-loop delay samples. */
export interface LoadMonitor {
  start: () => void
  stop: () => void
  /** The delay since the last call (or `start`), ms: how late the loop ran at its worst (p99), 0 when on time. */
  sample: () => number
}

/**
 * Event-loop delay from `perf_hooks.monitorEventLoopDelay`. The histogram records the
 * time between its own timer's runs, so the timer's resolution is subtracted.
 */
export class EventLoopDelayMonitor implements LoadMonitor {
  private histogram?: IntervalHistogram

  /** @param resolutionMs sampling period of the histogram's timer, ms */
  constructor (private readonly resolutionMs = 20) {}

  start (): void {
    if (this.histogram !== undefined) return
    this.histogram = monitorEventLoopDelay({ resolution: this.resolutionMs })
    this.histogram.enable()
  }

  stop (): void {
    this.histogram?.disable()
    this.histogram = undefined
  }

  sample (): number {
    const h = this.histogram
    if (h === undefined || h.count === 0) return 0
    const p99 = h.percentile(99) / 1e6
    h.reset()
    return Math.max(0, p99 - this.resolutionMs)
  }
}
