/**
 * Request-reply under a fault, on real node processes (loopback): three nodes, the echo
 * agent on the third (C); REQUESTs through the first node's REST API with `?wait=`, a window
 * of them in flight. A third of the way in, C is killed (kill -9, restarted on its data
 * folder after `downMs`) or paused (SIGSTOP for `pauseMs`, then SIGCONT). Every REQUEST
 * should come back answered by INFORM, as long as C is back well inside the deadline.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ROOT, apiFetch, startNodeProcess, waitFor, type NodeProcess } from '../cluster/index.js'

export interface RequestsOptions {
  fault: 'kill' | 'pause'
  /** REQUESTs sent. @default 3000 */
  requests?: number
  /** In flight. @default 64 */
  window?: number
  /** `?wait=`, ms. @default 30000 */
  waitMs?: number
  /** A killed C stays down this long, ms. @default 2000 */
  downMs?: number
  /** A paused C stays stopped this long, ms. @default 10000 */
  pauseMs?: number
  log?: (line: string) => void
}

export interface RequestsReport {
  fault: 'kill' | 'pause'
  requests: number
  /** Answers by performative (INFORM, FAILURE), and `error: <status or code>` for requests that got no reply. */
  answers: Record<string, number>
  /** Latency of the answered requests, ms. */
  p50Ms: number
  p99Ms: number
  maxMs: number
  wallMs: number
}

export async function runRequests (o: RequestsOptions): Promise<RequestsReport> {
  const log = o.log ?? (() => {})
  const total = o.requests ?? 3000
  const window = o.window ?? 64
  const waitMs = o.waitMs ?? 30_000
  const started = Date.now()
  const nodes: NodeProcess[] = []
  try {
    const env = { CAXTON_LOG_LEVEL: 'warn' }
    nodes.push(await startNodeProcess({ name: 'a', env, timeoutMs: 60_000 }))
    nodes.push(await startNodeProcess({ name: 'b', join: [nodes[0].multiaddrs[0]], env, timeoutMs: 60_000 }))
    nodes.push(await startNodeProcess({ name: 'c', join: [nodes[0].multiaddrs[0]], env, timeoutMs: 60_000 }))
    const [a, , c] = nodes
    const res = await apiFetch(c, '/agents?id=echo', { method: 'POST', headers: { 'content-type': 'application/wasm' }, body: readFileSync(join(ROOT, 'dist', 'agents', 'echo.wasm')) })
    if (res.status !== 201) throw new Error(`deploy echo on c: ${res.status} ${await res.text()}`)
    await waitFor('a to know where echo runs', async () => (await apiFetch(a, '/registry/agents/echo')).ok ? true : undefined, 30_000, 200)
    log(`3 nodes up, echo on c; ${total} REQUESTs through a, ${window} in flight, wait ${waitMs} ms; ${o.fault} c a third of the way in`)
    const answers: Record<string, number> = {}
    const latencies: number[] = []
    let next = 0
    let faulted: Promise<void> | undefined
    const fault = async (): Promise<void> => {
      log(`  ${o.fault} c after ${next} requests`)
      if (o.fault === 'kill') {
        await c.stop('SIGKILL')
        await sleep(o.downMs ?? 2000)
        nodes[2] = await startNodeProcess({ name: 'c', dataDir: c.dataDir, join: [a.multiaddrs[0]], env, timeoutMs: 60_000 })
        log('  c restarted')
      } else {
        c.child.kill('SIGSTOP')
        await sleep(o.pauseMs ?? 10_000)
        c.child.kill('SIGCONT')
        log('  c resumed')
      }
    }
    const worker = async (): Promise<void> => {
      while (next < total) {
        const i = next++
        if (i === Math.floor(total / 3)) faulted = fault()
        const t0 = performance.now()
        let key: string
        try {
          const r = await apiFetch(a, `/agents/echo/messages?wait=${waitMs}`, {
            method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ performative: 'REQUEST', content: `r${i}` }),
            signal: AbortSignal.timeout(waitMs + 15_000)
          })
          const body = await r.json() as { reply?: { performative: string, content?: string }, error?: { code: string } }
          key = body.reply !== undefined ? body.reply.performative : `error: ${r.status} ${body.error?.code ?? ''}`.trim()
          if (body.reply?.performative === 'INFORM' && body.reply.content !== `r${i}`) key = 'INFORM with the wrong content'
          if (body.reply !== undefined) latencies.push(performance.now() - t0)
        } catch (err) {
          key = `error: ${(err as Error).name}`
        }
        answers[key] = (answers[key] ?? 0) + 1
      }
    }
    await Promise.all(Array.from({ length: window }, worker))
    await faulted
    latencies.sort((x, y) => x - y)
    const pct = (p: number): number => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN)
    return { fault: o.fault, requests: total, answers, p50Ms: pct(0.5), p99Ms: pct(0.99), maxMs: Math.round(latencies[latencies.length - 1] ?? NaN), wallMs: Date.now() - started }
  } finally {
    await Promise.all(nodes.map(async n => {
      if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGCONT')
      await n.stop('SIGKILL')
    }))
  }
}
