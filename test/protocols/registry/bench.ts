/**
 * Registry benchmark: capability lookup at 10,000 agents, merge throughput, digest and
 * anti-entropy costs. Prints figures; asserts nothing.
 *
 *   node --import tsx test/protocols/registry/bench.ts [agents=10000]
 */
import { performance } from 'node:perf_hooks'
import {
  Registry, decodeDelta, decodeGossip, encodeDelta, encodeDigest, encodeGossip, type RegistryDelta
} from '../../../protocols/registry/index.js'

const AGENTS = Number(process.argv[2] ?? 10_000)
const NODES = Array.from({ length: 10 }, (_, i) => `12D3KooWBenchNode${String(i).padStart(2, '0')}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`)
const CAPABILITY_NAMES = Array.from({ length: 100 }, (_, i) => `capability-${i}`)

function out (line: string): void {
  process.stdout.write(`${line}\n`)
}

/** A deterministic pseudo-random sequence (xorshift32), so runs are comparable. */
function rng (seed: number): () => number {
  let x = seed
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 0x100000000
  }
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

function timeEach (n: number, fn: (i: number) => void): { median: number, p99: number, mean: number } {
  const samples: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    fn(i)
    samples.push(performance.now() - t0)
  }
  samples.sort((a, b) => a - b)
  return { median: percentile(samples, 0.5), p99: percentile(samples, 0.99), mean: samples.reduce((a, b) => a + b, 0) / n }
}

const us = (ms: number): string => `${(ms * 1000).toFixed(2)} µs`

const random = rng(42)
const writers = NODES.map(nodeId => new Registry({ nodeId }))
const deltas: Array<{ from: string, delta: RegistryDelta, bytes: Uint8Array }> = []

// 1. local writes: each agent has 1-3 capabilities out of 100, plus 'common' on 10% and 'all' on every agent
let t0 = performance.now()
for (let i = 0; i < AGENTS; i++) {
  const w = writers[i % NODES.length]
  const caps = new Set<string>()
  const n = 1 + Math.floor(random() * 3)
  while (caps.size < n) caps.add(CAPABILITY_NAMES[Math.floor(random() * CAPABILITY_NAMES.length)])
  if (i % 10 === 0) caps.add('common')
  caps.add('all')
  const { delta } = w.apply({
    type: 'put',
    agentId: `agent-${i}`,
    node: w.nodeId,
    state: 'running',
    capabilities: [...caps].map(name => ({ name, version: '1.0.0', description: `does ${name}` }))
  }, 1_700_000_000_000 + i)
  deltas.push({ from: w.nodeId, delta: delta as RegistryDelta, bytes: encodeGossip({ type: 'delta', delta: delta as RegistryDelta }) })
}
const applyMs = performance.now() - t0
out(`agents: ${AGENTS} over ${NODES.length} writers; local apply: ${(AGENTS / (applyMs / 1000)).toFixed(0)} ops/s (${applyMs.toFixed(0)} ms)`)
out(`gossip delta of one write: ${(deltas.reduce((a, d) => a + d.bytes.length, 0) / deltas.length).toFixed(0)} bytes on average`)

// 2. merge throughput: every delta into one fresh replica, decoded from bytes, as gossip would deliver them
const reader = new Registry({ nodeId: 'reader' })
t0 = performance.now()
for (const d of deltas) {
  const msg = decodeGossip(d.bytes)
  if (msg.type === 'delta') reader.merge(msg.delta, { now: 1_700_000_100_000, from: d.from })
}
const mergeMs = performance.now() - t0
out(`merge of ${AGENTS} gossip deltas (decode included): ${(AGENTS / (mergeMs / 1000)).toFixed(0)} deltas/s (${mergeMs.toFixed(0)} ms)`)

const reader2 = new Registry({ nodeId: 'reader-2' })
const predecoded = deltas.map(d => d.delta)
t0 = performance.now()
for (const d of predecoded) reader2.merge(d, { now: 1_700_000_100_000 })
const mergeOnlyMs = performance.now() - t0
out(`merge of ${AGENTS} gossip deltas (already decoded): ${(AGENTS / (mergeOnlyMs / 1000)).toFixed(0)} deltas/s (${mergeOnlyMs.toFixed(0)} ms)`)

const dup = timeEach(AGENTS, i => reader2.merge(predecoded[i], { now: 1_700_000_100_000 }))
out(`merge of a duplicate delta: median ${us(dup.median)}, p99 ${us(dup.p99)}`)

// 3. a whole snapshot as one anti-entropy reply
const snapshot = reader.snapshot()
t0 = performance.now()
const snapBytes = encodeDelta(snapshot)
const encMs = performance.now() - t0
t0 = performance.now()
const snapDecoded = decodeDelta(snapBytes)
const decMs = performance.now() - t0
const fresh = new Registry({ nodeId: 'fresh' })
t0 = performance.now()
fresh.merge(snapDecoded, { now: 1_700_000_200_000 })
const snapMergeMs = performance.now() - t0
out(`snapshot: ${(snapBytes.length / 1024).toFixed(0)} KiB (${(snapBytes.length / AGENTS).toFixed(0)} B/entry); encode ${encMs.toFixed(0)} ms, decode+validate ${decMs.toFixed(0)} ms, merge into an empty replica ${snapMergeMs.toFixed(0)} ms (${(AGENTS / (snapMergeMs / 1000)).toFixed(0)} entries/s)`)

// 4. digest and missingFor when one entry differs
const digestTime = timeEach(50, () => reader.digest())
const digestBytes = encodeDigest(reader.digest())
out(`digest: ${digestBytes.length} bytes (${reader.bucketCount} buckets), computed in median ${digestTime.median.toFixed(2)} ms`)
const lagging = reader.digest()
reader.apply({ type: 'update', agentId: 'agent-7', state: 'draining' }, 1_700_000_300_000)
const missingTime = timeEach(50, () => reader.missingFor(lagging))
const reply = reader.missingFor(lagging)
out(`missingFor with one changed entry: ${reply.entries.length} entries, ${encodeDelta(reply).length} bytes, computed in median ${missingTime.median.toFixed(2)} ms`)

// 5. capability lookup
const names = [...CAPABILITY_NAMES]
const typical = timeEach(100_000, i => reader.findByCapability(names[i % names.length]))
const matches = names.reduce((a, n) => a + reader.findByCapability(n).length, 0) / names.length
out(`findByCapability, a typical name (~${matches.toFixed(0)} matches): median ${us(typical.median)}, p99 ${us(typical.p99)}, mean ${us(typical.mean)}`)
const common = timeEach(10_000, () => reader.findByCapability('common'))
out(`findByCapability 'common' (${reader.findByCapability('common').length} matches): median ${us(common.median)}, p99 ${us(common.p99)}`)
const all = timeEach(2_000, () => reader.findByCapability('all'))
out(`findByCapability 'all' (${reader.findByCapability('all').length} matches): median ${us(all.median)}, p99 ${us(all.p99)}`)
const none = timeEach(100_000, () => reader.findByCapability('nobody-has-this'))
out(`findByCapability, no match: median ${us(none.median)}, p99 ${us(none.p99)}`)
const get = timeEach(100_000, i => reader.get(`agent-${i % AGENTS}`))
out(`get(agentId): median ${us(get.median)}, p99 ${us(get.p99)}`)
out(`heap used: ${(process.memoryUsage().heapUsed / 1024 / 1024).toFixed(0)} MiB (4 replicas of ${AGENTS} agents, plus ${AGENTS} deltas kept)`)
