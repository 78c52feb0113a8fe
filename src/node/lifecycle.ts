/**
 * One start/stop shape for the node's components (js-libp2p's `Startable`, reduced): the
 * composition root lists them in start order, {@link Lifecycle.start} starts them one by
 * one, and stops what it started, in reverse, if one fails; {@link Lifecycle.stop} stops
 * them in reverse. A step without `stop` (a one-off task, e.g. restoring agents) is skipped
 * when stopping.
 */
import type { Logger } from 'pino'

export interface LifecycleStep {
  /** For logs: `libp2p`, `registry`, ... */
  name: string
  start: () => Promise<void> | void
  stop?: () => Promise<void> | void
}

export class Lifecycle {
  private readonly started: LifecycleStep[] = []

  constructor (private readonly steps: readonly LifecycleStep[], private readonly log: Logger) {}

  /** Starts every step in order. @throws the first step's error, after stopping those started */
  async start (): Promise<void> {
    for (const step of this.steps) {
      try {
        await step.start()
      } catch (err) {
        this.log.error({ step: step.name, err: (err as Error).message }, 'start failed; stopping what was started')
        await this.stop()
        throw err
      }
      this.started.push(step)
    }
  }

  /** Stops the started steps in reverse order; a failing stop is logged and the rest go on. */
  async stop (): Promise<void> {
    while (this.started.length > 0) {
      const step = this.started.pop() as LifecycleStep
      if (step.stop === undefined) continue
      try {
        await step.stop()
      } catch (err) {
        this.log.warn({ step: step.name, err: (err as Error).message }, 'stop failed')
      }
    }
  }
}
