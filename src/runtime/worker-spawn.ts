/**
 * Starting the runtime's workers, from compiled JavaScript (`dist/`) or from the
 * TypeScript sources (tests, `tsx`).
 *
 * Two facts of Node 20 shape this:
 * - tsx registered with `--import tsx` does not apply inside worker threads, so a worker
 *   started from sources first registers tsx itself (`tsx/esm/api`), then imports its
 *   entry module;
 * - binaryen.js binds `console.error` when it loads (its validator prints there), and tsx
 *   would rewrite its 14 MB of JavaScript (~8 s instead of ~0.3 s): the policy worker
 *   loads binaryen first, with `console.error` captured, before any loader hook exists.
 * Both are done by a small CommonJS bootstrap evaluated in the new worker.
 */
import { Worker, type ResourceLimits, type WorkerOptions } from 'node:worker_threads'

const FROM_SOURCES = import.meta.url.endsWith('.ts')

const BOOTSTRAP = `
const { workerData } = require('node:worker_threads')
const boot = workerData.boot
let captured = ''
;(async () => {
  let binaryen
  if (boot.binaryenUrl !== null) {
    const printErr = console.error
    console.error = (...args) => { captured += args.map(String).join(' ') + '\\n' }
    binaryen = (await import(boot.binaryenUrl)).default
    console.error = printErr
  }
  if (boot.tsxApiUrl !== null) (await import(boot.tsxApiUrl)).register()
  const entry = await import(boot.entryUrl)
  if (binaryen !== undefined) entry.runPolicyWorker(binaryen, () => { const s = captured; captured = ''; return s })
})().catch((err) => { process.nextTick(() => { throw err }) })
`

/** What the bootstrap reads from `workerData.boot`. */
interface Boot {
  entryUrl: string
  tsxApiUrl: string | null
  binaryenUrl: string | null
}

/** `execArgv` without `--import` preloads (tsx, the polyfill): workers need none of them. */
function withoutImports (execArgv: readonly string[]): string[] {
  const rest: string[] = []
  for (let i = 0; i < execArgv.length; i++) {
    if (execArgv[i] === '--import') { i++; continue }
    if (execArgv[i].startsWith('--import=')) continue
    rest.push(execArgv[i])
  }
  return rest
}

/**
 * The flags Node named in an `ERR_WORKER_INVALID_EXEC_ARGV` message ("Initiated Worker
 * with invalid execArgv flags: --max-semi-space-size=64, --title"): V8's options and
 * per-process ones, which a worker refuses; empty for any other error.
 */
export function refusedFlags (err: unknown): string[] {
  if ((err as { code?: unknown } | null)?.code !== 'ERR_WORKER_INVALID_EXEC_ARGV') return []
  const list = /flags: (.*)$/.exec((err as Error).message)?.[1]
  return list === undefined ? [] : list.split(', ').filter(f => f.startsWith('-'))
}

/**
 * `execArgv` without the flags in `refused`, each with its value when that is the next
 * entry (`--title x`; V8's options only take `--flag=value`).
 */
export function withoutFlags (execArgv: readonly string[], refused: readonly string[]): string[] {
  const rest: string[] = []
  for (let i = 0; i < execArgv.length; i++) {
    if (refused.includes(execArgv[i])) {
      if (!execArgv[i].includes('=') && i + 1 < execArgv.length && !execArgv[i + 1].startsWith('-')) i++
      continue
    }
    rest.push(execArgv[i])
  }
  return rest
}

/**
 * The node's `execArgv` as a worker takes it, once known: a node started with a V8 flag
 * (`node --max-semi-space-size=64 ...`) would otherwise fail to start its workers with
 * ERR_WORKER_INVALID_EXEC_ARGV. Learnt from the first refusal.
 */
let workerExecArgv: string[] | undefined

/** `new Worker(...)` with the node's `execArgv` minus what a worker refuses. */
function workerWithExecArgv (script: string, options: WorkerOptions): Worker {
  const execArgv = workerExecArgv ?? withoutImports(process.execArgv)
  try {
    const worker = new Worker(script, { ...options, execArgv })
    workerExecArgv = execArgv
    return worker
  } catch (err) {
    const refused = refusedFlags(err)
    if (refused.length === 0) throw err
    workerExecArgv = withoutFlags(execArgv, refused)
    return new Worker(script, { ...options, execArgv: workerExecArgv })
  }
}

/**
 * Starts a worker on the sibling module `entry` (name without extension).
 * With `binaryen`, the entry must export `runPolicyWorker(binaryen, takeValidatorOutput)`.
 * `resourceLimits` bound the worker's heap and stack (Node's `worker_threads`).
 */
export function spawnWorker (entry: string, workerData: Record<string, unknown>, options: { binaryen?: boolean, resourceLimits?: ResourceLimits } = {}): Worker {
  const entryUrl = new URL(`./${entry}${FROM_SOURCES ? '.ts' : '.js'}`, import.meta.url)
  const binaryen = options.binaryen === true
  const resourceLimits = options.resourceLimits === undefined ? {} : { resourceLimits: options.resourceLimits }
  if (!FROM_SOURCES && !binaryen) return new Worker(entryUrl, { workerData, ...resourceLimits })
  const boot: Boot = {
    entryUrl: entryUrl.href,
    tsxApiUrl: FROM_SOURCES ? import.meta.resolve('tsx/esm/api') : null,
    binaryenUrl: binaryen ? import.meta.resolve('binaryen') : null
  }
  return workerWithExecArgv(BOOTSTRAP, { eval: true, workerData: { ...workerData, boot }, ...resourceLimits })
}
