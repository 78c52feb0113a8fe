/**
 * Agent to agent across two nodes, with no API client in the loop (issue 9's target:
 * ≥ 100,000 messages/s, the router spec's per-instance figure): the ping agent on node A
 * (this process) drives REQUEST → INFORM round trips with the echo agent on node B (a
 * `caxton node start` child process), `window` in flight, over `/caxton/fipa/2.0.0`.
 *
 * An API client on A only starts a run (a REQUEST to ping: `echo <total> <window> <size>`,
 * agents/examples/ping) and receives ping's INFORM when all `total` round trips are done;
 * the clock runs from that REQUEST to that INFORM. Each round trip is two messages, both
 * remote deliveries (A → B, B → A); a warm-up run comes first. CPU per message is the
 * whole process's (main thread and agent workers) on each node over the measured run: A
 * from `process.cpuUsage`, B from its `caxton_process_cpu_seconds_total`.
 *
 * Send budgets (issue 10): a reply to someone else's message is free, so echo is never
 * charged, nor is ping's one REQUEST per answer it handles; only the opening burst of
 * `window - 1` REQUESTs is. Both agents are still deployed with the largest send budget a
 * deploy may ask under the node's caps (`quota.maxSendsPerSecond`, `maxSendBurst`,
 * `maxSendBytesPerSecond`: 100,000 messages/s, burst 100,000, 256 MiB/s by default), so
 * that no budget can bind whatever the window; the caps themselves need no change. The
 * window is at most 1000: the node refuses more sends while handling one message (ping's
 * start). Mailboxes hold 65,536 messages on both nodes, as in the other message suites.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/index.js'
import type { AgentLimits } from '../../src/runtime/types.js'
import { ROOT } from '../cluster/index.js'
import { cpuSecondsOf, twoNodes, type MessageBenchOptions } from './caxton.js'

export const PING_WASM = join(ROOT, 'dist', 'agents', 'ping.wasm')

/** Most round trips ping keeps in flight: the node's cap on sends while handling one message. */
export const MAX_AGENTS_WINDOW = 1000

export interface AgentsResult {
  /** Round trips/s, ping ↔ echo, `window` in flight. */
  roundTrips: number
  /** Messages delivered/s (2 per round trip, each across the nodes). */
  messages: number
  /** Round trips in the measured run. */
  roundTripsCounted: number
  /** Length of the measured run: the starting REQUEST to ping's final INFORM, ms. */
  ms: number
  /** CPU per message delivered (main thread and workers), µs, on node A (ping) and node B (echo). */
  cpuUsPerMessage: { a: number, b: number }
}

/** The largest send budget the node's default caps allow a deploy: none of them binds here. */
function unboundedSendBudget (): Partial<AgentLimits> {
  const { quota } = loadConfig({ env: {}, flags: { preset: 'local' } })
  return { sendsPerSecond: quota.maxSendsPerSecond, sendBurst: quota.maxSendBurst, sendBytesPerSecond: quota.maxSendBytesPerSecond }
}

/**
 * Runs ping ↔ echo for `options.messages` round trips with `options.window` in flight.
 * @throws RangeError when the window is over {@link MAX_AGENTS_WINDOW}; Error when ping
 *   refuses the run, or a round trip failed (a FAILURE from `ams`)
 */
export async function benchAgents (options: MessageBenchOptions): Promise<AgentsResult> {
  if (options.window > MAX_AGENTS_WINDOW) throw new RangeError(`agents: window at most ${MAX_AGENTS_WINDOW} (the node's sends per handled message), got ${options.window}`)
  const limits = unboundedSendBudget()
  const { a, b } = await twoNodes('echo', options.durable, limits)
  try {
    await a.node.deployAgent({ id: 'ping', wasm: readFileSync(PING_WASM), limits })
    const run = async (total: number): Promise<number> => {
      const t0 = performance.now()
      const out = await a.node.sendMessage({
        to: 'ping',
        draft: { performative: 'REQUEST', content: `echo ${total} ${options.window} ${options.size}`, sender: 'bench' },
        // Generous: a run at 1,000 round trips/s still ends in time.
        waitMs: Math.max(60_000, total)
      })
      const ms = performance.now() - t0
      const reply = out.reply
      if (reply?.performative !== 'INFORM') throw new Error(`ping answered ${reply?.performative ?? 'nothing'}: ${String(reply?.content ?? '')}`)
      const [answered, failed] = String(reply.content).split(' ').map(Number)
      if (answered !== total || failed !== 0) throw new Error(`ping: ${answered} of ${total} round trips answered, ${failed} failed`)
      return ms
    }
    await run(Math.min(2000, options.messages)) // warm-up: JIT, streams, windows, B learning where ping runs
    const cpuA0 = process.cpuUsage()
    const cpuB0 = await cpuSecondsOf(b)
    const ms = await run(options.messages)
    const cpuA = process.cpuUsage(cpuA0)
    const cpuB = await cpuSecondsOf(b) - cpuB0
    const messages = options.messages * 2
    return {
      roundTrips: options.messages / (ms / 1000),
      messages: messages / (ms / 1000),
      roundTripsCounted: options.messages,
      ms,
      cpuUsPerMessage: { a: (cpuA.user + cpuA.system) / messages, b: cpuB * 1e6 / messages }
    }
  } finally {
    await a.cleanup()
    await b.stop()
  }
}
