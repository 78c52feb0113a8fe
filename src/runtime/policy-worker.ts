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
import { policyWarmUpAgent, policyWarmUpModule } from './policy-warm-up.js'

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
 * The warm-up's rounds: each checks, instruments and compiles a generated module of
 * {@link WARM_UP_FUNCTIONS} functions ({@link policyWarmUpAgent}); binaryen's code (its
 * own WebAssembly) gets tiered up by V8 on the way. On this machine, a fresh worker's
 * check + compile of a 14-24 KiB agent took 25-90 ms until binaryen had checked ~0.5 s
 * worth of modules, and 7-20 ms after (docs/performance.md, "First deploy after start").
 */
export const WARM_UP_ROUNDS = 40

/**
 * Functions per generated module (~6.5 KiB, a round of 20-50 ms cold, 5-10 ms warm):
 * small, so that a check arriving during the warm-up waits for little; as many rounds
 * of 30 warm binaryen up as 14 of 80.
 */
export const WARM_UP_FUNCTIONS = 30

/**
 * The warm-up ends after this long even if rounds are left, ms: a node listens only once
 * it is over, and on a loaded machine the rounds take longer (~0.8 s for all of them under
 * a load average of 3 on 2 cores). The node builds its API meanwhile, which it used to do
 * after binaryen's load.
 */
export const WARM_UP_MAX_MS = 800

/**
 * The warm-up also ends once this many rounds in a row each took under a third of the
 * first rounds' mean: binaryen is tiered up (its rounds drop from 20-50 ms to 5-10 ms).
 */
const WARM_ROUNDS_IN_A_ROW = 4

/** Whether `bytes` are the warm-up module's (see `policy-warm-up.ts`). */
function isWarmUpModule (bytes: Uint8Array, warmUp: Uint8Array): boolean {
  if (bytes.length !== warmUp.length) return false
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== warmUp[i]) return false
  return true
}

/**
 * Serves policy requests on the worker's parent port until the worker is terminated;
 * first checks, instruments and compiles the warm-up module, so that the first real
 * request does not pay for the first run of each code path (docs/performance.md, "First
 * deploy after start").
 *
 * A request to check the warm-up module itself (a node makes one at start) also starts
 * the warm-up: up to {@link WARM_UP_ROUNDS} rounds, one per turn of the event loop, for
 * {@link WARM_UP_MAX_MS} at most; it is answered after the last. Every other request that
 * arrives meanwhile is served between two rounds, so it waits for one round at most
 * (5-50 ms).
 * @throws PolicyViolation if the warm-up module is refused (a bug: a test checks it passes)
 */
export function runPolicyWorker (binaryen: Binaryen, takeValidatorOutput: () => string): void {
  const port = parentPort
  if (port === null) throw new Error('policy-worker.ts must run in a worker thread')
  const check = (bytes: Uint8Array, instrument: boolean): PolicyResult =>
    withModule(applyPolicy(binaryen, bytes, { instrument, takeValidatorOutput, now: () => performance.now() }))
  const warmUpBytes = policyWarmUpModule()
  check(warmUpBytes, true)

  const serve = (req: PolicyRequest): void => {
    let response: PolicyResponse
    let poisoned = false
    try {
      response = { id: req.id, ok: true, result: check(req.bytes, req.instrument) }
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
  }

  // Requests for the warm-up module, answered when the rounds are done; undefined before
  // the warm-up started and once it is over.
  let waiting: PolicyRequest[] | undefined
  let warmedUp = false
  let round = 0
  let warmUpStarted = 0
  let firstRoundsMs = 0
  let fastInARow = 0
  // Two modules, checked in turn: binaryen keeps nothing from one check to the next, and
  // generating one costs a few ms.
  const agents: Uint8Array[] = []
  const warmUpRound = (): void => {
    const started = performance.now()
    try {
      const i = round % 2
      agents[i] ??= policyWarmUpAgent(i + 1, WARM_UP_FUNCTIONS)
      check(agents[i], true)
    } catch (err) {
      // A generated module refused is a bug (a test checks they pass): end the warm-up.
      // Anything else came from inside binaryen: exit, as serve does.
      if (!(err instanceof PolicyViolation)) process.exit(1)
      round = WARM_UP_ROUNDS
    }
    const ms = performance.now() - started
    round++
    if (round <= WARM_ROUNDS_IN_A_ROW) firstRoundsMs += ms / WARM_ROUNDS_IN_A_ROW
    else fastInARow = ms < firstRoundsMs / 3 ? fastInARow + 1 : 0
    if (round < WARM_UP_ROUNDS && fastInARow < WARM_ROUNDS_IN_A_ROW && performance.now() - warmUpStarted < WARM_UP_MAX_MS) {
      setImmediate(warmUpRound)
      return
    }
    warmedUp = true
    const answer = waiting ?? []
    waiting = undefined
    for (const req of answer) serve(req)
  }

  port.on('message', (req: PolicyRequest) => {
    if (!warmedUp && isWarmUpModule(req.bytes, warmUpBytes)) {
      if (waiting === undefined) {
        waiting = []
        warmUpStarted = performance.now()
        setImmediate(warmUpRound)
      }
      waiting.push(req)
      return
    }
    serve(req)
  })
  port.postMessage({ ready: true })
}
