/**
 * Benchmark (prints figures; not part of `npm test`):
 *   node --import tsx test/runtime/echo.bench.ts [seconds=5] [window=1000]
 *
 * 1. Deploy cost: the first deploy (starts the policy worker and loads binaryen), a
 *    deploy of a module already compiled (cache hit), and of new modules (policy check,
 *    fuel pass, compile, instantiate).
 * 2. Throughput through one echo agent: deliver → handle_message → env.send → host, with
 *    a 200-byte content, `window` messages in flight (closed loop, bounded by the mailbox).
 */
import '../../src/polyfill.js'
import type { AclMessage } from '../../protocols/fipa/types.js'
import { createAgentRuntime } from '../../src/runtime/index.js'
import { exampleAgent } from './helpers/agents.js'

const seconds = Number(process.argv[2] ?? 5)
const window = Number(process.argv[3] ?? 1000)

let replies = 0
let onReply: () => void = () => {}
const runtime = createAgentRuntime({
  host: {
    onAgentSend: () => { replies++; onReply() },
    onAgentLog: () => {},
    onAgentFailed: (id, reason) => { console.error(`agent ${id} failed: ${reason}`) }
  },
  workers: 1
})
await runtime.start()

const echo = await exampleAgent('echo')
const counter = await exampleAgent('counter')
const time = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
  const t0 = performance.now()
  await fn()
  console.log(`${what.padEnd(48)} ${(performance.now() - t0).toFixed(1)} ms`)
}
await time('deploy echo (cold: policy worker + binaryen load)', async () => await runtime.deploy('echo', echo))
await time('deploy echo again as echo-2 (module cached)', async () => await runtime.deploy('echo-2', echo))
await time('deploy counter (new module, warm policy worker)', async () => await runtime.deploy('counter', counter))
await time('deploy counter again as counter-2 (cached)', async () => await runtime.deploy('counter-2', counter))
// New modules once the policy worker is warm: counter with a custom section appended
// (a different hash, the same code).
const times: number[] = []
for (let i = 0; i < 9; i++) {
  const section = Uint8Array.of(0, 3, 1, 0x62, i) // custom section "b", one byte
  const variant = new Uint8Array(counter.length + section.length)
  variant.set(counter)
  variant.set(section, counter.length)
  const t0 = performance.now()
  await runtime.deploy(`counter-v${i}`, variant)
  times.push(performance.now() - t0)
}
times.sort((a, b) => a - b)
console.log(`${'deploy a new 19 KiB module, warm (median of 9)'.padEnd(48)} ${times[4].toFixed(1)} ms`)

const content = 'x'.repeat(200)
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

// Warm-up, then the measured run.
for (const [label, duration] of [['warm-up', 1], ['measured', seconds]] as const) {
  const { promise, resolve } = Promise.withResolvers<void>()
  const start = performance.now()
  const deadline = start + duration * 1000
  const startReplies = replies
  let inFlight = 0
  let stopping = false
  onReply = () => {
    inFlight--
    if (!stopping && performance.now() < deadline) {
      if (runtime.deliver('echo', next()) === 'queued') inFlight++
    } else {
      stopping = true
      if (inFlight === 0) resolve()
    }
  }
  for (let i = 0; i < window; i++) if (runtime.deliver('echo', next()) === 'queued') inFlight++
  await promise
  const elapsed = (performance.now() - start) / 1000
  const count = replies - startReplies
  if (label === 'measured') {
    console.log(`echo round trips (200-byte content, window ${window}): ${count} in ${elapsed.toFixed(2)} s = ${Math.round(count / elapsed).toLocaleString('en-US')} msg/s`)
  }
}
const info = runtime.get('echo')
console.log(`echo agent: handled ${info?.stats.handled}, errors ${info?.stats.errors}, memory ${info?.stats.memoryPages} pages`)
await runtime.stop()
