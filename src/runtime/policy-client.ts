/**
 * The main thread's handle on the policy worker: spawned on the first check (a node
 * makes one at start, with the warm-up module of `policy-warm-up.ts`, answered once the
 * worker has loaded binaryen and warmed it up: see `runPolicyWorker`), terminated after
 * `idleMs` without work and on `stop()`, respawned if it dies (without a warm-up). An
 * instrumented module comes back compiled too (`module`).
 */
import type { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import { InvalidModuleError } from './errors.js'
import type { PolicyResult } from './policy.js'
import type { PolicyRequest, PolicyResponse } from './policy-worker.js'
import { spawnWorker } from './worker-spawn.js'

export interface PolicyClientOptions {
  logger: Logger
  /** Terminate the worker after this long without a request, ms. @default 60000 */
  idleMs?: number
}

interface Pending {
  resolve: (r: PolicyResult) => void
  reject: (e: Error) => void
}

export class PolicyClient {
  private worker: Worker | undefined
  private ready: Promise<Worker> | undefined
  private rejectReady: ((err: Error) => void) | undefined
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private idleTimer: NodeJS.Timeout | undefined
  private readonly idleMs: number
  private readonly log: Logger

  constructor (options: PolicyClientOptions) {
    this.log = options.logger
    this.idleMs = options.idleMs ?? 60_000
  }

  /**
   * Checks `bytes` against the sandbox policy; with `instrument`, also returns the module
   * rewritten for the sandbox.
   * @throws InvalidModuleError naming every problem found
   */
  async check (bytes: Uint8Array, instrument: boolean): Promise<PolicyResult> {
    if (this.idleTimer !== undefined) { clearTimeout(this.idleTimer); this.idleTimer = undefined }
    const worker = await this.spawn()
    const id = this.nextId++
    const { promise, resolve, reject } = Promise.withResolvers<PolicyResult>()
    this.pending.set(id, { resolve, reject })
    const req: PolicyRequest = { id, bytes, instrument }
    worker.postMessage(req)
    try {
      return await promise
    } finally {
      this.pending.delete(id)
      if (this.pending.size === 0 && this.worker !== undefined) {
        if (this.idleTimer !== undefined) clearTimeout(this.idleTimer)
        this.idleTimer = setTimeout(() => { if (this.pending.size === 0) void this.stop() }, this.idleMs)
        this.idleTimer.unref()
      }
    }
  }

  /** Terminates the worker (the next `check` starts a new one). */
  async stop (): Promise<void> {
    if (this.idleTimer !== undefined) { clearTimeout(this.idleTimer); this.idleTimer = undefined }
    const worker = this.worker
    this.worker = undefined
    this.ready = undefined
    const stopped = new Error('policy worker stopped')
    this.rejectReady?.(stopped)
    this.rejectReady = undefined
    this.failAll(stopped)
    if (worker !== undefined) await worker.terminate()
  }

  private failAll (err: Error): void {
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
  }

  private async spawn (): Promise<Worker> {
    if (this.ready !== undefined) return await this.ready
    const started = performance.now()
    const worker = spawnWorker('policy-worker', {}, { binaryen: true })
    this.worker = worker
    const { promise, resolve, reject } = Promise.withResolvers<Worker>()
    promise.catch(() => {}) // whoever waits sees the rejection; nobody waiting is fine too
    this.ready = promise
    this.rejectReady = reject
    worker.on('message', (msg: PolicyResponse | { ready: true }) => {
      if ('ready' in msg) {
        this.log.debug({ ms: Math.round(performance.now() - started) }, 'policy worker ready (binaryen loaded)')
        resolve(worker)
        return
      }
      const p = this.pending.get(msg.id)
      if (p === undefined) return
      if (msg.ok) p.resolve(msg.result)
      else if (msg.internal) p.reject(new Error(msg.reasons.join('; ')))
      else p.reject(new InvalidModuleError(msg.reasons.join('; ')))
    })
    worker.on('error', (err) => {
      this.log.error({ err }, 'policy worker failed')
    })
    worker.on('exit', (code) => {
      if (this.worker !== worker) return
      this.worker = undefined
      this.ready = undefined
      const err = new Error(`policy worker exited (code ${code})`)
      reject(err)
      this.failAll(err)
    })
    return await promise
  }
}
