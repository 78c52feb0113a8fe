/**
 * Caxton's own figures: REQUEST → INFORM round trips through the echo agent, driven
 * from an API client inside a node (the path a REST client takes, without HTTP).
 * - local: client and echo agent on the same node (router → runtime → router).
 * - remote: client on node A (this process), echo on node B (a `caxton node start`
 *   child process): every round trip is two deliveries over `/caxton/fipa/2.0.0`.
 * - one-way: INFORMs from a client on node A to the sink agent on node B, counted where
 *   the sink handled them.
 * Each runs with durable delivery (the default: every message in LevelDB before it is
 * accepted and before it is acked) or without (`durable: false`: the same rows in memory).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout } from 'node:timers/promises'
import { loadConfig } from '../../src/config/index.js'
import { startNode, type CaxtonNode } from '../../src/node/index.js'
import type { AgentLimits } from '../../src/runtime/types.js'
import { ROOT, apiFetch, startNodeProcess, waitFor, type NodeProcess } from '../cluster/index.js'
import { summarize, type LatencySummary } from './stats.js'

export const ECHO_WASM = join(ROOT, 'dist', 'agents', 'echo.wasm')

export interface RoundTripResult {
  /** Round trips/s with `window` requests in flight. */
  roundTrips: number
  /** Messages delivered/s (2 per round trip). */
  messages: number
  /** Round-trip latency at the same window, ms. */
  loaded: LatencySummary
  /** Round-trip latency with one request in flight, ms. */
  latency: LatencySummary
}

export const SINK_WASM = join(ROOT, 'dist', 'agents', 'sink.wasm')

/** What every measurement takes. */
export interface MessageBenchOptions {
  messages: number
  size: number
  window: number
  /** Durable delivery on (the default) or off. */
  durable: boolean
}

export async function startBenchNode (name: string, joinAddrs: string[] = [], durable = true): Promise<{ node: CaxtonNode, cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'caxton-bench-'))
  const config = loadConfig({
    env: {},
    flags: {
      preset: 'local', name, dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], join: joinAddrs,
      agents: { mailboxCapacity: 65536 }, messages: { recentLimit: 0 }, delivery: { durable }
    }
  })
  const node = await startNode(config, { api: false, processMetrics: false })
  return { node, cleanup: async () => { await node.stop(); rmSync(dir, { recursive: true, force: true }) } }
}

/** Drives `count` REQUESTs at `to` with `window` in flight; returns rate and latencies. */
export async function drive (node: CaxtonNode, to: string, count: number, window: number, size: number): Promise<{ rate: number, samples: number[] }> {
  const content = 'x'.repeat(size)
  const samples: number[] = []
  let next = 0
  const t0 = performance.now()
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++
      const start = performance.now()
      const out = await node.sendMessage({ to, draft: { performative: 'REQUEST', content, sender: 'bench' }, waitMs: 30_000 })
      if (out.reply?.performative !== 'INFORM') throw new Error(`unexpected reply ${out.reply?.performative ?? 'none'}`)
      samples.push(performance.now() - start)
    }
  }
  await Promise.all(Array.from({ length: window }, worker))
  return { rate: count / ((performance.now() - t0) / 1000), samples }
}

/** Nothing left in node A's outbox and inboxes, nor in node B's when there is one (its `/ready` detail). */
async function settled (node: CaxtonNode, b?: NodeProcess): Promise<boolean> {
  const { outbox, inbox } = node.delivery.summary()
  if (outbox.messages > 0 || inbox > 0) return false
  if (b === undefined) return true
  const ready = await (await apiFetch(b, '/ready', { signal: AbortSignal.timeout(5000) })).json() as { checks: { delivery: { detail: string } } }
  return /^0 in the outbox, 0 in inboxes/.test(ready.checks.delivery.detail)
}

/**
 * Round trips at `window` in flight, then with one in flight. Between the two, the nodes
 * are let settle (outboxes and inboxes empty, then 1 s for writes behind: conversations,
 * LevelDB's compaction of the loaded phase's rows), so that the 1-in-flight latency is the
 * path's own and not the tail of the previous phase's backlog.
 */
async function measure (node: CaxtonNode, to: string, options: MessageBenchOptions, b?: NodeProcess): Promise<RoundTripResult> {
  await drive(node, to, Math.min(2000, options.messages), options.window, options.size) // warm-up: JIT, streams, windows
  const loaded = await drive(node, to, options.messages, options.window, options.size)
  await waitFor('both nodes to settle after the loaded phase', async () => (await settled(node, b)) ? true : undefined, 60_000, 50)
  await setTimeout(1000)
  await drive(node, to, 200, 1, options.size) // warm-up of the 1-in-flight path
  const single = await drive(node, to, Math.min(3000, options.messages), 1, options.size)
  return { roundTrips: loaded.rate, messages: loaded.rate * 2, loaded: summarize(loaded.samples), latency: summarize(single.samples) }
}

export async function benchLocal (options: MessageBenchOptions): Promise<RoundTripResult> {
  const { node, cleanup } = await startBenchNode('bench-local', [], options.durable)
  try {
    await node.deployAgent({ id: 'echo', wasm: readFileSync(ECHO_WASM) })
    return await measure(node, 'echo', options)
  } finally {
    await cleanup()
  }
}

/** Two bench nodes: A in this process, B a child process. */
export interface TwoNodes {
  a: { node: CaxtonNode, cleanup: () => Promise<void> }
  b: NodeProcess
}

/**
 * Node B (a child process) with `agent` deployed (with `limits` over the node's defaults),
 * and node A (this process) joined to it, once A knows where `agent` runs.
 * @throws Error when the deploy on node B is refused
 */
export async function twoNodes (agent: 'echo' | 'sink', durable: boolean, limits: Partial<AgentLimits> = {}): Promise<TwoNodes> {
  // CAXTON_BENCH_CPU_PROF=<dir>: node B writes a CPU profile there when it stops.
  const profileDir = process.env.CAXTON_BENCH_CPU_PROF
  const b = await startNodeProcess({
    name: 'bench-b',
    args: ['--log-level', 'warn'],
    ...(profileDir !== undefined ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] } : {}),
    env: { CAXTON_DELIVERY_DURABLE: String(durable), CAXTON_AGENTS_MAILBOX_CAPACITY: '65536' }
  })
  try {
    const query = new URLSearchParams({ id: agent, ...Object.fromEntries(Object.entries(limits).map(([k, v]) => [k, String(v)])) })
    const res = await apiFetch(b, `/agents?${query.toString()}`, { method: 'POST', headers: { 'content-type': 'application/wasm' }, body: readFileSync(agent === 'echo' ? ECHO_WASM : SINK_WASM) })
    if (res.status !== 201) throw new Error(`deploy on node B failed: ${res.status} ${await res.text()}`)
    const a = await startBenchNode('bench-a', [b.multiaddrs[0]], durable)
    const nodeA = a.node
    await waitFor(`node A to learn where ${agent} runs`, () => nodeA.locator.lookup(agent), 15_000)
    return { a, b }
  } catch (err) {
    await b.stop()
    throw err
  }
}

export async function benchRemote (options: MessageBenchOptions): Promise<RoundTripResult> {
  const { a, b } = await twoNodes('echo', options.durable)
  try {
    return await measure(a.node, 'echo', options, b)
  } finally {
    await a.cleanup()
    await b.stop()
  }
}

export interface OneWayResult {
  /** Messages/s from the first send until node B's sink had handled every one. */
  handled: number
  /** Messages/s node A accepted (each durable before its send resolved). */
  accepted: number
  messages: number
  /**
   * CPU per message over the measured run (first send to the last handled), µs, all
   * threads: node A's (this process: the client's sends, the router, delivery, the
   * transport) and node B's.
   */
  cpuUsPerMessage: { a: number, b: number }
}

/** A node process's CPU time so far (main thread and workers), s, from its `/metrics`. */
export async function cpuSecondsOf (b: NodeProcess): Promise<number> {
  const text = await (await apiFetch(b, '/metrics', { signal: AbortSignal.timeout(5000) })).text()
  const match = /^caxton_process_cpu_seconds_total (\S+)/m.exec(text)
  if (match === null) throw new Error(`node ${b.name}'s /metrics has no caxton_process_cpu_seconds_total`)
  return Number(match[1])
}

/**
 * INFORMs from an API client on node A to the sink agent on node B, `window` sends in
 * flight; the clock stops when B's sink has handled all of them (its agent stats).
 */
export async function benchOneWay (options: MessageBenchOptions): Promise<OneWayResult> {
  const { a, b } = await twoNodes('sink', options.durable)
  try {
    const handledOnB = async (): Promise<number> => {
      const res = await apiFetch(b, '/agents/sink', { signal: AbortSignal.timeout(5000) })
      return ((await res.json()) as { stats: { handled: number } }).stats.handled
    }
    const send = async (count: number): Promise<{ acceptedMs: number, handledMs: number }> => {
      const before = await handledOnB()
      const content = 'x'.repeat(options.size)
      let next = 0
      const t0 = performance.now()
      const worker = async (): Promise<void> => {
        while (next < count) {
          next++
          await a.node.sendMessage({ to: 'sink', draft: { performative: 'INFORM', content, sender: 'bench' } })
        }
      }
      await Promise.all(Array.from({ length: options.window }, worker))
      const acceptedMs = performance.now() - t0
      await waitFor('the sink to handle every message', async () => (await handledOnB()) >= before + count ? true : undefined, 120_000, 20)
      return { acceptedMs, handledMs: performance.now() - t0 }
    }
    await send(Math.min(2000, options.messages)) // warm-up
    const cpuA0 = process.cpuUsage()
    const cpuB0 = await cpuSecondsOf(b)
    const { acceptedMs, handledMs } = await send(options.messages)
    const cpuA = process.cpuUsage(cpuA0)
    const cpuB = await cpuSecondsOf(b) - cpuB0
    return {
      handled: options.messages / (handledMs / 1000),
      accepted: options.messages / (acceptedMs / 1000),
      messages: options.messages,
      cpuUsPerMessage: { a: (cpuA.user + cpuA.system) / options.messages, b: cpuB * 1e6 / options.messages }
    }
  } finally {
    await a.cleanup()
    await b.stop()
  }
}
