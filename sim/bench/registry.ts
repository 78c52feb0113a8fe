/**
 * The cluster registry (protocols/registry) at `agents` agents over 10 writers: local
 * apply and merge throughput, a snapshot as one anti-entropy reply, digest and
 * missingFor costs, capability lookup and get latencies, and the cost of its Ed25519
 * signatures. Writers sign with real keys and every merge checks the signatures, as on a
 * node. Deterministic input (a seeded xorshift32), so runs are comparable.
 * Run: `npm run bench -- registry [--agents N]`.
 */
import { performance } from 'node:perf_hooks'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import {
  Registry, decodeDelta, decodeGossip, encodeDelta, encodeDigest, encodeGossip, type RegistryDelta
} from '../../protocols/registry/index.js'
import { ed25519Signing } from '../../src/registry/signing.js'
import { measureEd25519, type SigningCosts } from '../registry/signing.js'
import { percentile, round } from './stats.js'

export interface RegistryOptions {
  /** Agents registered, spread over the writers. */
  agents: number
}

/** Latency of one call, µs. */
export interface CallTimes {
  medianUs: number
  p99Us: number
  meanUs: number
}

export interface RegistryResult {
  agents: number
  writers: number
  applyPerSec: number
  applyMs: number
  deltaMeanBytes: number
  /** Merge of every gossip delta into a fresh replica, decoding each from bytes. */
  mergeDecodedPerSec: number
  mergeDecodedMs: number
  /** The same, deltas already decoded. */
  mergePerSec: number
  mergeMs: number
  duplicateMerge: CallTimes
  snapshotBytes: number
  snapshotEntryBytes: number
  snapshotEncodeMs: number
  snapshotDecodeMs: number
  snapshotMergeMs: number
  snapshotMergePerSec: number
  digestBytes: number
  digestBuckets: number
  digestMedianMs: number
  missingForEntries: number
  missingForBytes: number
  missingForMedianMs: number
  /** findByCapability of one of 100 names, about `matches` agents each. */
  lookup: CallTimes & { matches: number }
  /** findByCapability('common'): 10% of the agents. */
  lookupCommon: CallTimes & { matches: number }
  /** findByCapability('all'): every agent. */
  lookupAll: CallTimes & { matches: number }
  lookupNoMatch: CallTimes
  get: CallTimes
  /** Ed25519 on node:crypto, µs per call: what each write (sign) and each new version received (verify) costs. */
  signing: SigningCosts
  heapUsedMiB: number
}

const WRITERS = 10
const CAPABILITY_NAMES = Array.from({ length: 100 }, (_, i) => `capability-${i}`)

/** A deterministic pseudo-random sequence (xorshift32). */
function rng (seed: number): () => number {
  let x = seed
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 0x100000000
  }
}

/** Times each of `n` calls of `fn` on its own. */
function timeEach (n: number, fn: (i: number) => void): CallTimes {
  const samples = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    fn(i)
    samples[i] = performance.now() - t0
  }
  samples.sort()
  const us = (ms: number): number => round(ms * 1000, 2)
  return { medianUs: us(percentile(samples, 50)), p99Us: us(percentile(samples, 99)), meanUs: us(samples.reduce((a, b) => a + b, 0) / n) }
}

/** Runs `fn` once: its duration, ms. */
function timeOnce<T> (fn: () => T): { value: T, ms: number } {
  const t0 = performance.now()
  const value = fn()
  return { value, ms: performance.now() - t0 }
}

const perSec = (count: number, ms: number): number => Math.round(count / (ms / 1000))
const times = (t: CallTimes): string => `median ${t.medianUs.toFixed(2)} µs, p99 ${t.p99Us.toFixed(2)} µs`

export async function benchRegistry (options: RegistryOptions, say: (line: string) => void = () => {}): Promise<RegistryResult> {
  const agents = options.agents
  const random = rng(42)
  const replica = async (): Promise<Registry> => {
    const key = await generateKeyPair('Ed25519')
    return new Registry({ nodeId: peerIdFromPrivateKey(key).toString(), signing: ed25519Signing(key) })
  }
  const writers = await Promise.all(Array.from({ length: WRITERS }, replica))
  const deltas: Array<{ from: string, delta: RegistryDelta, bytes: Uint8Array }> = []

  // 1. local writes: each agent has 1-3 capabilities out of 100, plus 'common' on 10% and 'all' on every agent
  const apply = timeOnce(() => {
    for (let i = 0; i < agents; i++) {
      const w = writers[i % WRITERS]
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
  })
  const deltaMeanBytes = Math.round(deltas.reduce((a, d) => a + d.bytes.length, 0) / deltas.length)
  say(`agents: ${agents} over ${WRITERS} writers; local apply: ${perSec(agents, apply.ms)} ops/s (${apply.ms.toFixed(0)} ms)`)
  say(`gossip delta of one write: ${deltaMeanBytes} bytes on average`)

  // 2. merge throughput: every delta into one fresh replica, decoded from bytes, as gossip would deliver them
  const reader = await replica()
  const mergeDecoded = timeOnce(() => {
    for (const d of deltas) {
      const msg = decodeGossip(d.bytes)
      if (msg.type === 'delta') reader.merge(msg.delta, { now: 1_700_000_100_000, from: d.from })
    }
  })
  say(`merge of ${agents} gossip deltas (decode included): ${perSec(agents, mergeDecoded.ms)} deltas/s (${mergeDecoded.ms.toFixed(0)} ms)`)
  const reader2 = await replica()
  const predecoded = deltas.map(d => d.delta)
  const merge = timeOnce(() => { for (const d of predecoded) reader2.merge(d, { now: 1_700_000_100_000 }) })
  say(`merge of ${agents} gossip deltas (already decoded): ${perSec(agents, merge.ms)} deltas/s (${merge.ms.toFixed(0)} ms)`)
  const duplicateMerge = timeEach(agents, i => reader2.merge(predecoded[i], { now: 1_700_000_100_000 }))
  say(`merge of a duplicate delta: ${times(duplicateMerge)}`)

  // 3. a whole snapshot as one anti-entropy reply
  const snapshot = reader.snapshot()
  const encoded = timeOnce(() => encodeDelta(snapshot))
  const decoded = timeOnce(() => decodeDelta(encoded.value))
  const fresh = await replica()
  const snapMerge = timeOnce(() => fresh.merge(decoded.value, { now: 1_700_000_200_000 }))
  const snapshotBytes = encoded.value.length
  say(`snapshot: ${(snapshotBytes / 1024).toFixed(0)} KiB (${(snapshotBytes / agents).toFixed(0)} B/entry); encode ${encoded.ms.toFixed(0)} ms, decode+validate ${decoded.ms.toFixed(0)} ms, merge into an empty replica ${snapMerge.ms.toFixed(0)} ms (${perSec(agents, snapMerge.ms)} entries/s)`)

  // 4. digest and missingFor when one entry differs
  const digestTime = timeEach(50, () => reader.digest())
  const digestBytes = encodeDigest(reader.digest()).length
  say(`digest: ${digestBytes} bytes (${reader.bucketCount} buckets), computed in median ${(digestTime.medianUs / 1000).toFixed(2)} ms`)
  const lagging = reader.digest()
  const changed = Math.min(7, agents - 1)
  const update = writers[changed % WRITERS].apply({ type: 'update', agentId: `agent-${changed}`, state: 'draining' }, 1_700_000_300_000)
  reader.merge(update.delta as RegistryDelta, { now: 1_700_000_300_000 })
  const missingTime = timeEach(50, () => reader.missingFor(lagging))
  const reply = reader.missingFor(lagging)
  const missingForBytes = encodeDelta(reply).length
  say(`missingFor with one changed entry: ${reply.entries.length} entries, ${missingForBytes} bytes, computed in median ${(missingTime.medianUs / 1000).toFixed(2)} ms`)

  // 5. capability lookup and get
  const lookup = {
    ...timeEach(100_000, i => reader.findByCapability(CAPABILITY_NAMES[i % CAPABILITY_NAMES.length])),
    matches: Math.round(CAPABILITY_NAMES.reduce((a, n) => a + reader.findByCapability(n).length, 0) / CAPABILITY_NAMES.length)
  }
  say(`findByCapability, a typical name (~${lookup.matches} matches): ${times(lookup)}, mean ${lookup.meanUs.toFixed(2)} µs`)
  const lookupCommon = { ...timeEach(10_000, () => reader.findByCapability('common')), matches: reader.findByCapability('common').length }
  say(`findByCapability 'common' (${lookupCommon.matches} matches): ${times(lookupCommon)}`)
  const lookupAll = { ...timeEach(2_000, () => reader.findByCapability('all')), matches: reader.findByCapability('all').length }
  say(`findByCapability 'all' (${lookupAll.matches} matches): ${times(lookupAll)}`)
  const lookupNoMatch = timeEach(100_000, () => reader.findByCapability('nobody-has-this'))
  say(`findByCapability, no match: ${times(lookupNoMatch)}`)
  const get = timeEach(100_000, i => reader.get(`agent-${i % agents}`))
  say(`get(agentId): ${times(get)}`)
  const signing = await measureEd25519()
  say(`signatures (Ed25519, node:crypto, ${signing.payloadBytes}-byte payload): sign ${signing.signUs.toFixed(1)} µs, verify ${signing.verifyUs.toFixed(1)} µs, ${signing.verifyColdUs.toFixed(1)} µs with the writer's key not cached`)
  const heapUsedMiB = Math.round(process.memoryUsage().heapUsed / 1024 / 1024)
  say(`heap used: ${heapUsedMiB} MiB (4 replicas of ${agents} agents, plus ${agents} deltas kept)`)

  return {
    agents,
    writers: WRITERS,
    applyPerSec: perSec(agents, apply.ms),
    applyMs: round(apply.ms, 1),
    deltaMeanBytes,
    mergeDecodedPerSec: perSec(agents, mergeDecoded.ms),
    mergeDecodedMs: round(mergeDecoded.ms, 1),
    mergePerSec: perSec(agents, merge.ms),
    mergeMs: round(merge.ms, 1),
    duplicateMerge,
    snapshotBytes,
    snapshotEntryBytes: Math.round(snapshotBytes / agents),
    snapshotEncodeMs: round(encoded.ms, 1),
    snapshotDecodeMs: round(decoded.ms, 1),
    snapshotMergeMs: round(snapMerge.ms, 1),
    snapshotMergePerSec: perSec(agents, snapMerge.ms),
    digestBytes,
    digestBuckets: reader.bucketCount,
    digestMedianMs: round(digestTime.medianUs / 1000),
    missingForEntries: reply.entries.length,
    missingForBytes,
    missingForMedianMs: round(missingTime.medianUs / 1000),
    lookup,
    lookupCommon,
    lookupAll,
    lookupNoMatch,
    get,
    signing,
    heapUsedMiB
  }
}
