/**
 * The policy worker: checks and instruments modules with binaryen, off the main thread
 * (binaryen.js costs ~330 ms and ~73 MiB to load; a check costs 0.2-15 ms a module).
 *
 * Started by `policy-client.ts` through the bootstrap of `worker-spawn.ts`, which loads
 * binaryen before any loader hook is registered and with `console.error` captured —
 * binaryen binds `console.error` when it loads, and its validator prints there — then
 * imports this module and calls {@link runPolicyWorker}.
 */
import { parentPort } from 'node:worker_threads'
import type { Binaryen } from './binaryen.js'
import { PolicyViolation, applyPolicy, type PolicyResult } from './policy.js'
import { policyWarmUpModule } from './policy-warm-up.js'

export interface PolicyRequest {
  id: number
  bytes: Uint8Array
  instrument: boolean
}

export type PolicyResponse =
  | { id: number, ok: true, result: PolicyResult }
  | { id: number, ok: false, reasons: string[], internal: boolean }

/**
 * `result` with its instrumented module compiled, here, synchronously: an asynchronous
 * `WebAssembly.compile` on the main thread runs its steps on V8's background threads,
 * shared by the whole process, which the policy worker's binaryen work keeps busy after each
 * check. It waited 100-600 ms behind them; this takes 1-5 ms (docs/performance.md,
 * "First deploy after start"). A compiled module crosses threads by reference.
 */
function withModule (result: PolicyResult): PolicyResult {
  if (result.instrumented === undefined) return result
  try {
    return { ...result, module: new WebAssembly.Module(result.instrumented as Uint8Array<ArrayBuffer>) }
  } catch {
    return result
  }
}

/**
 * Serves policy requests on the worker's parent port until the worker is terminated;
 * first checks, instruments and compiles the warm-up module, so that the first real
 * request does not pay for the first run of each code path (docs/performance.md, "First
 * deploy after start").
 * @throws PolicyViolation if the warm-up module is refused (a bug: a test checks it passes)
 */
export function runPolicyWorker (binaryen: Binaryen, takeValidatorOutput: () => string): void {
  const port = parentPort
  if (port === null) throw new Error('policy-worker.ts must run in a worker thread')
  withModule(applyPolicy(binaryen, policyWarmUpModule(), { instrument: true, takeValidatorOutput, now: () => performance.now() }))
  port.on('message', (req: PolicyRequest) => {
    let response: PolicyResponse
    let poisoned = false
    try {
      const result = applyPolicy(binaryen, req.bytes, {
        instrument: req.instrument,
        takeValidatorOutput,
        now: () => performance.now()
      })
      response = { id: req.id, ok: true, result: withModule(result) }
    } catch (err) {
      if (err instanceof PolicyViolation) {
        response = { id: req.id, ok: false, reasons: err.reasons, internal: false }
      } else {
        // Anything else came from inside binaryen, whose state may now be corrupt: answer,
        // then exit so that the next request gets a fresh instance.
        poisoned = true
        response = { id: req.id, ok: false, reasons: [`policy check crashed: ${err instanceof Error ? err.message : String(err)}`], internal: true }
      }
    }
    const transfer = response.ok && response.result.instrumented !== undefined ? [response.result.instrumented.buffer as ArrayBuffer] : []
    port.postMessage(response, transfer)
    if (poisoned) process.exit(1)
  })
  port.postMessage({ ready: true })
}
