/**
 * The WASM agent runtime (src/runtime) on its own, one agent worker, no node around it:
 * 1. Deploy cost: the first deploy (starts the policy worker and loads binaryen), a
 *    deploy of a module already compiled (cache hit), and of new modules (policy check,
 *    fuel pass, compile, instantiate).
 * 2. Throughput through one echo agent: deliver → handle_message → env.send → host, with
 *    `size`-byte content, `window` messages in flight (closed loop, bounded by the
 *    mailbox), for `seconds` after a one-second warm-up.
 * Uses the built example agents (dist/agents/echo.wasm, counter.wasm: `npm run build`).
 * Run: `npm run bench -- runtime [--seconds N] [--window N]`.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AclMessage } from '../../protocols/fipa/types.js'
import { createAgentRuntime } from '../../src/runtime/index.js'
import { ROOT } from '../cluster/index.js'
import { fmtRate, round } from './stats.js'

/** The built modules this benchmark deploys. */
export const RUNTIME_AGENTS = {
  echo: join(ROOT, 'dist', 'agents', 'echo.wasm'),
  counter: join(ROOT, 'dist', 'agents', 'counter.wasm')
}

export interface RuntimeOptions {
  /** Length of the measured echo run, s. */
  seconds: number
  /** Messages in flight. */
  window: number
  /** Content size, bytes. */
  size: number
}

export interface RuntimeResult {
  /** First deploy: starts the policy worker, loads binaryen. */
  deployColdMs: number
  /** The same module again under another id (compiled module cached). */
  deployCachedMs: number
  /** A second module, the policy worker warm. */
  deployNewModuleMs: number
  deployNewModuleCachedMs: number
  /** Median of 9 deploys of new modules (counter with a one-byte custom section appended). */
  deployNewModuleMedianMs: number
  newModuleKiB: number
  window: number
  contentBytes: number
  echoSeconds: number
  echoRoundTrips: number
  echoPerSec: number
  echoHandled: number
  echoErrors: number
  echoMemoryPages: number
}

export async function benchRuntime (options: RuntimeOptions, say: (line: string) => void = () => {}): Promise<RuntimeResult> {
  const echo = new Uint8Array(readFileSync(RUNTIME_AGENTS.echo))
  const counter = new Uint8Array(readFileSync(RUNTIME_AGENTS.counter))
  let replies = 0
  let onReply: () => void = () => {}
  let onFailed: (reason: string) => void = () => {}
  const runtime = createAgentRuntime({
    host: {
      onHandled: (_id, _token, sends) => { replies += sends.length; onReply() },
      onAgentSend: () => {},
      onAgentLog: () => {},
      onAgentFailed: (id, reason) => { onFailed(`agent ${id} failed: ${reason}`) }
    },
    workers: 1
  })
  await runtime.start()
  try {
    const time = async (what: string, fn: () => Promise<unknown>): Promise<number> => {
      const t0 = performance.now()
      await fn()
      const ms = round(performance.now() - t0, 1)
      say(`${what.padEnd(48)} ${ms.toFixed(1)} ms`)
      return ms
    }
    const deployColdMs = await time('deploy echo (cold: policy worker + binaryen load)', async () => await runtime.deploy('echo', echo))
    const deployCachedMs = await time('deploy echo again as echo-2 (module cached)', async () => await runtime.deploy('echo-2', echo))
    const deployNewModuleMs = await time('deploy counter (new module, warm policy worker)', async () => await runtime.deploy('counter', counter))
    const deployNewModuleCachedMs = await time('deploy counter again as counter-2 (cached)', async () => await runtime.deploy('counter-2', counter))
    // New modules once the policy worker is warm: counter with a custom section appended
    // (a different hash, the same code).
    const deploys: number[] = []
    for (let i = 0; i < 9; i++) {
      const section = Uint8Array.of(0, 3, 1, 0x62, i) // custom section "b", one byte
      const variant = new Uint8Array(counter.length + section.length)
      variant.set(counter)
      variant.set(section, counter.length)
      const t0 = performance.now()
      await runtime.deploy(`counter-v${i}`, variant)
      deploys.push(performance.now() - t0)
    }
    deploys.sort((a, b) => a - b)
    const deployNewModuleMedianMs = round(deploys[4], 1)
    const newModuleKiB = round(counter.length / 1024, 1)
    say(`${`deploy a new ${newModuleKiB} KiB module, warm (median of 9)`.padEnd(48)} ${deployNewModuleMedianMs.toFixed(1)} ms`)

    const content = 'x'.repeat(options.size)
    let n = 0
    const next = (): AclMessage => ({
      messageId: `m${++n}`,
      createdAt: Date.now(),
      performative: 'REQUEST',
      sender: 'bench-client',
      receivers: ['echo'],
      content,
      conversationId: 'bench',
      replyWith: `r${n}`
    })
    /** Keeps `window` messages in flight for `seconds`, then drains: round trips and elapsed s. */
    const run = async (seconds: number): Promise<{ count: number, elapsed: number }> => {
      const { promise, resolve, reject } = Promise.withResolvers<void>()
      const start = performance.now()
      const deadline = start + seconds * 1000
      const startReplies = replies
      let inFlight = 0
      let stopping = false
      onFailed = reason => { reject(new Error(reason)) }
      onReply = () => {
        inFlight--
        if (!stopping && performance.now() < deadline) {
          if (runtime.deliver('echo', next()) === 'queued') inFlight++
        } else {
          stopping = true
          if (inFlight === 0) resolve()
        }
      }
      for (let i = 0; i < options.window; i++) if (runtime.deliver('echo', next()) === 'queued') inFlight++
      if (inFlight === 0) reject(new Error('the echo agent queued none of the first messages'))
      await promise
      return { count: replies - startReplies, elapsed: (performance.now() - start) / 1000 }
    }
    await run(1) // warm-up
    const measured = await run(options.seconds)
    const echoPerSec = Math.round(measured.count / measured.elapsed)
    say(`echo round trips (${options.size}-byte content, window ${options.window}): ${measured.count} in ${measured.elapsed.toFixed(2)} s = ${fmtRate(echoPerSec)}`)
    const stats = runtime.get('echo')?.stats
    say(`echo agent: handled ${stats?.handled}, errors ${stats?.errors}, memory ${stats?.memoryPages} pages`)
    return {
      deployColdMs,
      deployCachedMs,
      deployNewModuleMs,
      deployNewModuleCachedMs,
      deployNewModuleMedianMs,
      newModuleKiB,
      window: options.window,
      contentBytes: options.size,
      echoSeconds: round(measured.elapsed, 2),
      echoRoundTrips: measured.count,
      echoPerSec,
      echoHandled: stats?.handled ?? 0,
      echoErrors: stats?.errors ?? 0,
      echoMemoryPages: stats?.memoryPages ?? 0
    }
  } finally {
    await runtime.stop()
  }
}
