/**
 * Caxton's own figures: REQUEST → INFORM round trips through the echo agent, driven
 * from an API client inside a node (the path a REST client takes, without HTTP).
 * - local: client and echo agent on the same node (router → runtime → router).
 * - remote: client on node A (this process), echo on node B (a `caxton node start`
 *   child process): every round trip is two deliveries over `/caxton/fipa/1.0.0`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/index.js'
import { startNode, type CaxtonNode } from '../../src/node/index.js'
import { ROOT, startNodeProcess, waitFor, type NodeProcess } from '../cluster/index.js'
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

export async function startBenchNode (name: string, joinAddrs: string[] = []): Promise<{ node: CaxtonNode, cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'caxton-bench-'))
  const config = loadConfig({
    env: {},
    flags: {
      preset: 'local', name, dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], join: joinAddrs,
      agents: { mailboxCapacity: 65536 }, messages: { recentLimit: 0 }
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

async function measure (node: CaxtonNode, to: string, options: { messages: number, size: number, window: number }): Promise<RoundTripResult> {
  await drive(node, to, Math.min(2000, options.messages), options.window, options.size) // warm-up: JIT, streams, windows
  const loaded = await drive(node, to, options.messages, options.window, options.size)
  const single = await drive(node, to, Math.min(3000, options.messages), 1, options.size)
  return { roundTrips: loaded.rate, messages: loaded.rate * 2, loaded: summarize(loaded.samples), latency: summarize(single.samples) }
}

export async function benchLocal (options: { messages: number, size: number, window: number }): Promise<RoundTripResult> {
  const { node, cleanup } = await startBenchNode('bench-local')
  try {
    await node.deployAgent({ id: 'echo', wasm: readFileSync(ECHO_WASM) })
    return await measure(node, 'echo', options)
  } finally {
    await cleanup()
  }
}

export async function benchRemote (options: { messages: number, size: number, window: number }): Promise<RoundTripResult> {
  let b: NodeProcess | undefined
  let a: { node: CaxtonNode, cleanup: () => Promise<void> } | undefined
  try {
    b = await startNodeProcess({ name: 'bench-b', args: ['--log-level', 'warn'] })
    const res = await fetch(`${b.api}/agents?id=echo`, { method: 'POST', headers: { 'content-type': 'application/wasm' }, body: readFileSync(ECHO_WASM) })
    if (res.status !== 201) throw new Error(`deploy on node B failed: ${res.status} ${await res.text()}`)
    a = await startBenchNode('bench-a', [b.multiaddrs[0]])
    const nodeA = a.node
    await waitFor('node A to learn where echo runs', () => nodeA.locator.lookup('echo'), 15_000)
    return await measure(nodeA, 'echo', options)
  } finally {
    await a?.cleanup()
    await b?.stop()
  }
}
