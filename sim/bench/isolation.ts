/**
 * Issue 10's flood against the echo agent on the same node (one in-process node, its
 * agents on one worker, durable delivery on):
 * 1. `baseline`: echo round trips (REQUEST → INFORM through the router, one in flight)
 *    for `seconds`, no flood.
 * 2. `flood`: the flood agent (agents/examples/flood: 1,000 sends of each message it
 *    receives, to itself) deployed and fed a message every {@link FEED_MS} ms, so it
 *    stays over its send budget; echo measured again for `seconds`, all within the grace
 *    period (`agents.overBudgetGraceMs` is set to `seconds` + {@link GRACE_MARGIN_S} s).
 * 3. `recovered`: once the node has suspended the flood, echo measured again.
 * 4. `steady`: a reference, not a target: the bench's client sends INFORMs to a sink agent
 *    on the same node, paced at the flood's send budget (messages/s), and echo is measured
 *    beside that well-behaved traffic. The flood is held to its budget, so this phase shows
 *    what the traffic the flood is allowed costs echo, apart from the flooding.
 * Target (issue 10): flood p99 ≤ 2 × baseline p99, and recovered p99 as baseline. The flood
 * phase is also reported in two parts, its first {@link FIRST_PART_MS} ms and the rest: the
 * flood's first call fills its own mailbox with its burst, and echo's slow round trips
 * gather while it works that backlog off (docs/performance.md, isolation's ninth look).
 * Run: `npm run bench -- isolation [--seconds N]` (needs `npm run build`).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/index.js'
import { startNode, type CaxtonNode } from '../../src/node/index.js'
import { ROOT, waitFor } from '../cluster/index.js'
import { round, summarize, type LatencySummary } from './stats.js'

/** The built modules this benchmark deploys. */
export const ISOLATION_AGENTS = {
  echo: join(ROOT, 'dist', 'agents', 'echo.wasm'),
  flood: join(ROOT, 'dist', 'agents', 'flood.wasm'),
  sink: join(ROOT, 'dist', 'agents', 'sink.wasm')
}

/** The flood phase's first part, reported on its own, ms. */
export const FIRST_PART_MS = 1000
/** How often the flood is fed a message, ms. */
export const FEED_MS = 20
/** The grace period is the measured flood phase plus this, s. */
const GRACE_MARGIN_S = 2

export interface IsolationOptions {
  /** Length of each measured phase, s. */
  seconds: number
  /** Echo content size, bytes. */
  size: number
}

export interface PhaseResult extends LatencySummary {
  roundTrips: number
}

/** A phase's round trips in two parts: those started within its first {@link FIRST_PART_MS} ms, and the others. */
export interface SplitPhase {
  first: PhaseResult
  rest: PhaseResult
}

export interface IsolationResult {
  graceMs: number
  baseline: PhaseResult
  flood: PhaseResult
  recovered: PhaseResult
  /** Echo beside a client's INFORMs to a sink at {@link IsolationResult.steadyRate}. */
  steady: PhaseResult
  /** The steady phase's INFORMs a second: the flood's `sendsPerSecond`. */
  steadyRate: number
  /** The flood phase's round trips started in its first {@link FIRST_PART_MS} ms, and the rest. */
  floodParts: SplitPhase
  /** flood p99 / baseline p99: the target is ≤ 2. */
  floodP99Ratio: number
  /** p99 of the flood phase after its first {@link FIRST_PART_MS} ms / baseline p99 (not the target: a breakdown of it). */
  floodRestP99Ratio: number
  recoveredP99Ratio: number
  /** steady p99 / baseline p99 (a reference, not a target). */
  steadyP99Ratio: number
  /** What the flood did before it was suspended. */
  floodSent: number
  floodRefused: number
  floodHandled: number
  /** From its deploy to its suspension, ms. */
  suspendedAfterMs: number
  reason: string
}

/**
 * Echo round trips, one in flight, for `seconds`: all of them, and split at
 * {@link FIRST_PART_MS}; throws on a missing or wrong reply.
 */
async function echoFor (node: CaxtonNode, seconds: number, size: number): Promise<{ all: PhaseResult, parts: SplitPhase }> {
  const content = 'x'.repeat(size)
  const samples: number[] = []
  const first: number[] = []
  const rest: number[] = []
  const start = performance.now()
  const end = start + seconds * 1000
  while (performance.now() < end) {
    const t0 = performance.now()
    const out = await node.sendMessage({ to: 'echo', draft: { performative: 'REQUEST', content, sender: 'bench' }, waitMs: 10_000 })
    if (out.reply?.content !== content) throw new Error(`echo answered ${out.reply?.performative ?? 'nothing'}`)
    const ms = performance.now() - t0
    samples.push(ms)
    if (t0 - start < FIRST_PART_MS) first.push(ms)
    else rest.push(ms)
  }
  return { all: phaseOf(samples), parts: { first: phaseOf(first), rest: phaseOf(rest) } }
}

function phaseOf (samples: number[]): PhaseResult {
  return { roundTrips: samples.length, ...summarize(samples) }
}

export async function benchIsolation (options: IsolationOptions, say: (line: string) => void = () => {}): Promise<IsolationResult> {
  const graceMs = (options.seconds + GRACE_MARGIN_S) * 1000
  const dataDir = mkdtempSync(join(tmpdir(), 'caxton-bench-isolation-'))
  const config = loadConfig({
    env: {},
    flags: { preset: 'local', name: 'bench-isolation', dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], agents: { workers: 1, overBudgetGraceMs: graceMs }, messages: { recentLimit: 0 } }
  })
  const node = await startNode(config, { api: false, processMetrics: false })
  let feeder: NodeJS.Timeout | undefined
  try {
    await node.deployAgent({ id: 'echo', wasm: readFileSync(ISOLATION_AGENTS.echo) })
    await echoFor(node, 1, options.size) // warm-up: JIT, the durable stores
    const baseline = (await echoFor(node, options.seconds, options.size)).all
    say(`baseline   ${fmt(baseline)}`)

    const deployedAt = Date.now()
    await node.deployAgent({ id: 'flood', wasm: readFileSync(ISOLATION_AGENTS.flood) })
    let fed = 0
    const feed = (): void => {
      void node.sendMessage({ to: 'flood', draft: { performative: 'INFORM', content: `go ${fed++}`, sender: 'bench' } }).catch(() => {})
    }
    feed()
    feeder = setInterval(feed, FEED_MS)
    const { all: flood, parts: floodParts } = await echoFor(node, options.seconds, options.size)
    const during = node.getAgent('flood')
    if (during.state !== 'running') throw new Error(`the flood was ${during.state} before the flood phase ended: raise the grace margin`)
    say(`flood      ${fmt(flood)}  (flood sent ${during.stats.sent}, refused ${during.stats.overBudget ?? 0} over budget)`)
    say(`  its first ${FIRST_PART_MS / 1000} s: ${fmt(floodParts.first)}`)
    say(`  the rest:     ${fmt(floodParts.rest)}`)

    const suspended = await waitFor('the flood to be suspended', () => {
      const a = node.getAgent('flood')
      return a.state === 'suspended' ? a : undefined
    }, graceMs + 10_000, 10)
    const suspendedAfterMs = Date.now() - deployedAt
    clearInterval(feeder)
    feeder = undefined
    const recovered = (await echoFor(node, options.seconds, options.size)).all
    say(`recovered  ${fmt(recovered)}  (flood suspended ${suspendedAfterMs} ms after its deploy: ${suspended.reason ?? ''})`)

    const steadyRate = suspended.limits.sendsPerSecond
    await node.deployAgent({ id: 'sink', wasm: readFileSync(ISOLATION_AGENTS.sink) })
    const content = 'x'.repeat(options.size)
    feeder = paced(steadyRate, () => {
      void node.sendMessage({ to: 'sink', draft: { performative: 'INFORM', content, sender: 'bench' } }).catch(() => {})
    })
    const steady = (await echoFor(node, options.seconds, options.size)).all
    clearInterval(feeder)
    feeder = undefined
    say(`steady     ${fmt(steady)}  (a client's INFORMs to a sink beside it, ${steadyRate}/s: the flood's budget)`)

    const result: IsolationResult = {
      graceMs,
      baseline,
      flood,
      floodParts,
      recovered,
      steady,
      steadyRate,
      floodP99Ratio: round(flood.p99 / baseline.p99, 2),
      floodRestP99Ratio: round(floodParts.rest.p99 / baseline.p99, 2),
      recoveredP99Ratio: round(recovered.p99 / baseline.p99, 2),
      steadyP99Ratio: round(steady.p99 / baseline.p99, 2),
      floodSent: suspended.stats.sent,
      floodRefused: suspended.stats.overBudget ?? 0,
      floodHandled: suspended.stats.handled,
      suspendedAfterMs,
      reason: suspended.reason ?? ''
    }
    say(`echo p99 with the flood / without: ${result.floodP99Ratio} (target ≤ 2: ${result.floodP99Ratio <= 2 ? 'met' : 'NOT met'}; after its first ${FIRST_PART_MS / 1000} s: ${result.floodRestP99Ratio}); after its suspension / without: ${result.recoveredP99Ratio}; beside well-behaved traffic at the flood's budget / without: ${result.steadyP99Ratio} (a reference)`)
    return result
  } finally {
    if (feeder !== undefined) clearInterval(feeder)
    await node.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/** Calls `send` `perSecond` times a second, caught up every ms (a timer alone fires at most every ~1 ms). */
function paced (perSecond: number, send: () => void): NodeJS.Timeout {
  const start = performance.now()
  let sent = 0
  return setInterval(() => {
    const due = Math.floor((performance.now() - start) * perSecond / 1000)
    for (; sent < due; sent++) send()
  }, 1)
}

function fmt (p: PhaseResult): string {
  return `echo ${p.roundTrips} round trips, p50 ${p.p50.toFixed(3)} ms, p99 ${p.p99.toFixed(3)} ms, max ${p.max.toFixed(3)} ms`
}
