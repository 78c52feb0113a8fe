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
import { Worker, type ResourceLimits } from 'node:worker_threads'

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
  return new Worker(BOOTSTRAP, { eval: true, execArgv: withoutImports(process.execArgv), workerData: { ...workerData, boot }, ...resourceLimits })
}
