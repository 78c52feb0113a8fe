/**
 * Registry runs on the simulated network: N nodes (`RegistryProcess`), agents deployed
 * or preloaded, optionally a partition into two halves with deployments, removals and
 * state changes on both sides, then the heal. Measures two times: until every replica
 * shows the same registry (the same live agents, each at the same winning version: what
 * readers see), and until every replica has the same digest (the same entries, tombstones
 * included, and the same causal context: a tombstone one node collected and another
 * still holds makes them differ until the next exchange or collection). Checks that every
 * replica holds exactly the agents that should be live (a removed agent never comes back)
 * and reports bytes sent per node per second by phase.
 */
import { REGISTRY_TIMING, Registry, type AgentState, type NodeId, type RegistryOp, type RegistryTiming } from '../../protocols/registry/index.js'
import { SimNetwork, type Distribution } from '../core/network.js'
import { Prng } from '../core/prng.js'
import { Simulator } from '../core/simulator.js'
import { RegistryProcess, type GossipModel, type NodeModel } from './process.js'
import { simSigning } from './signing.js'

export interface PartitionPlan {
  /** When the cut happens, ms after the initial convergence. */
  atMs: number
  /** How long it lasts, ms. */
  durationMs: number
  /** Agents deployed during the cut, on each side. */
  deploys: number
  /** Live agents removed during the cut, on each side (by their hosts). */
  removals: number
  /** State changes during the cut, on each side. */
  updates: number
}

export interface RegistrySimOptions {
  nodes: number
  /** Agents live at the start (spread evenly over the nodes). */
  agents: number
  /** Start with every replica already holding them (true), or deploy them over `deploySpreadMs` (false). */
  preload: boolean
  /** Window over which the initial agents are deployed when not preloaded, ms. */
  deploySpreadMs: number
  partition?: PartitionPlan
  /** Virtual time measured in steady state after the last convergence, ms. */
  steadyMs: number
  /**
   * Virtual time run, unmeasured, between the last convergence and the steady-state
   * measurement, ms: exchanges begun before convergence still finish in it. @default 2 × the anti-entropy interval
   */
  settleMs?: number
  seed: number
  timing: RegistryTiming
  model: NodeModel
  gossip: GossipModel
  /** Connections per node (a random symmetric graph; N-1 means a full mesh). */
  links: number
  /** Delay from a cut until members see the connections across it closed, ms. */
  detectMs: number
  /** Delay from the heal until the connections across it are re-established, ms. */
  reconnectMs: number
  latency: Distribution
  /** Node ids like real PeerIds (52 characters) or short (`n17`). */
  ids: 'peer-id' | 'short'
  bucketCount: number
  /** How often "same registry" is checked, ms of virtual time. */
  checkEveryMs: number
  /** How often identical digests are checked once the registries are the same, ms (each check hashes every changed replica's context). */
  digestCheckEveryMs: number
  /** Give up waiting for a convergence after this long, ms. */
  convergeTimeoutMs: number
  onProgress?: (p: { phase: string, now: number }) => void
}

export interface PhaseBytes {
  /** Virtual duration of the phase, ms. */
  ms: number
  /** Bytes sent per node per second: mean and the busiest node. */
  bytesPerNodePerSec: number
  maxBytesPerNodePerSec: number
  gossipBytesPerNodePerSec: number
  syncBytesPerNodePerSec: number
}

/** Times to converge, ms (null: not within the timeout). */
export interface Convergence {
  /** Until every replica shows the same live agents at the same versions. */
  viewMs: number | null
  /** Until every replica has the same digest (entries, tombstones and causal context). */
  digestMs: number | null
}

export interface RegistrySimReport {
  nodes: number
  agentsAtEnd: number
  seed: number
  /** From the last initial deployment (not preloaded), or null. */
  initialConvergence: Convergence | null
  /** From the heal, or null without a partition. */
  healConvergence: Convergence | null
  /**
   * Bytes moved during the heal's convergence, total and by the busiest node; exchanges
   * completed, and the sync policy's refusals at the cap and retries of reconnection exchanges.
   */
  healBytes: { total: number, maxNode: number, syncExchanges: number, refusedAtCap: number, connectRetries: number } | null
  phases: Record<string, PhaseBytes>
  /** Every replica holds exactly the expected live agents, and no removed one. */
  correct: boolean
  mismatches: string[]
  tombstonesAtEnd: number
  wallMs: number
  events: number
  traceHash: string
}

export const EPOCH_MS = 1_700_000_000_000

/** Defaults: the `lan` timing, a 1 Gbit/s LAN, costs measured on this machine (`calibrate`). */
export function defaultOptions (): RegistrySimOptions {
  return {
    nodes: 10,
    agents: 10_000,
    preload: true,
    deploySpreadMs: 5000,
    steadyMs: 60_000,
    seed: 1,
    timing: { ...REGISTRY_TIMING.lan },
    model: {
      perMessageUs: 10,
      perByteUs: 0.2,
      sendPerByteUs: 0.015,
      duplicateUs: 1,
      signUs: 27,
      verifyUs: 71,
      bandwidthBytesPerMs: 125_000,
      gossipOverheadBytes: 130,
      syncFrameOverheadBytes: 16,
      syncOpenBytes: 120
    },
    gossip: { meshDegree: 6, seenLimit: 10_000 },
    links: 20,
    detectMs: 2000,
    reconnectMs: 500,
    latency: { type: 'lognormal', medianMs: 0.5, sigma: 0.5 },
    ids: 'peer-id',
    bucketCount: 256,
    checkEveryMs: 10,
    digestCheckEveryMs: 250,
    convergeTimeoutMs: 300_000
  }
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

function nodeIds (n: number, style: RegistrySimOptions['ids'], random: Prng): NodeId[] {
  return Array.from({ length: n }, (_, i) => {
    if (style === 'short') return `n${i}`
    let s = '12D3KooW'
    while (s.length < 52) s += BASE58[random.int(BASE58.length)]
    return s
  })
}

/** A random symmetric graph where each node has at least min(links, n-1) neighbours. */
function linkGraph (ids: NodeId[], links: number, random: Prng): Map<NodeId, NodeId[]> {
  const out = new Map<NodeId, Set<NodeId>>(ids.map(id => [id, new Set()]))
  const k = Math.min(links, ids.length - 1)
  for (const id of ids) {
    const mine = out.get(id) as Set<NodeId>
    const others = random.shuffle(ids.filter(x => x !== id))
    for (const o of others) {
      if (mine.size >= k) break
      mine.add(o)
      ;(out.get(o) as Set<NodeId>).add(id)
    }
  }
  return new Map([...out].map(([id, s]) => [id, random.shuffle([...s].sort())]))
}

export function runRegistrySim (options: RegistrySimOptions): RegistrySimReport {
  const o = options
  const wall0 = performance.now()
  const sim = new Simulator(o.seed)
  const net = new SimNetwork(sim, { latency: o.latency })
  const random = sim.random.fork('registry-scenario')
  const ids = nodeIds(o.nodes, o.ids, sim.random.fork('ids'))
  const graph = linkGraph(ids, o.links, sim.random.fork('links'))
  const crdt = { bucketCount: o.bucketCount }

  // expected live agents: id → host
  const live = new Map<string, NodeId>()
  let agentSeq = 0
  const newAgentId = (): string => `agent-${String(agentSeq++).padStart(6, '0')}`

  let preloaded: Registry | undefined
  const initial: Array<{ agentId: string, host: NodeId }> = []
  for (let i = 0; i < o.agents; i++) initial.push({ agentId: newAgentId(), host: ids[i % o.nodes] })
  if (o.preload && initial.length > 0) {
    preloaded = new Registry({ nodeId: ids[0], signing: simSigning(ids[0]), ...crdt })
    const writers = new Map<NodeId, Registry>()
    for (const a of initial) {
      let w = writers.get(a.host)
      if (w === undefined) writers.set(a.host, w = new Registry({ nodeId: a.host, signing: simSigning(a.host), ...crdt }))
      w.apply(put(a.agentId, a.host, 'running'), EPOCH_MS)
      live.set(a.agentId, a.host)
    }
    for (const [host, w] of writers) preloaded.merge(w.snapshot(), { now: EPOCH_MS, from: host })
  }
  const snapshot = preloaded?.snapshot()

  const dirty = new Set<NodeId>(ids)
  const viewDirty = new Set<NodeId>(ids)
  const processes = new Map<NodeId, RegistryProcess>()
  for (const id of ids) {
    const registry = snapshot === undefined
      ? undefined
      : Registry.restore({ nodeId: id, signing: simSigning(id), ...crdt }, { entries: snapshot.entries, knowledge: snapshot.context ?? [] })
    const p = new RegistryProcess({
      timing: o.timing,
      model: o.model,
      gossip: o.gossip,
      links: graph.get(id) as NodeId[],
      epochMs: EPOCH_MS,
      crdt,
      registry,
      onChange: (n) => { dirty.add(n); viewDirty.add(n) }
    })
    processes.set(id, p)
    net.add(id, p)
  }

  // ---- convergence bookkeeping ----
  const roots = new Map<NodeId, string>()
  const views = new Map<NodeId, string>()
  const sameDigests = (): boolean => {
    for (const id of dirty) roots.set(id, Buffer.from((processes.get(id) as RegistryProcess).registry.digest().root).toString('hex'))
    dirty.clear()
    const first = roots.get(ids[0])
    for (const id of ids) if (roots.get(id) !== first) return false
    return true
  }
  const sameViews = (): boolean => {
    for (const id of viewDirty) {
      const parts: string[] = []
      for (const a of (processes.get(id) as RegistryProcess).registry.entries()) parts.push(`${a.agentId} ${a.version.by} ${a.version.seq}`)
      views.set(id, parts.sort().join('\n'))
    }
    viewDirty.clear()
    const first = views.get(ids[0])
    for (const id of ids) if (views.get(id) !== first) return false
    return true
  }
  const snapshotCounters = (): Map<NodeId, { sent: number, gossip: number, sync: number }> =>
    new Map(ids.map(id => {
      const c = (processes.get(id) as RegistryProcess).counters
      return [id, { sent: c.bytesSent, gossip: c.gossipBytesSent, sync: c.syncBytesSent }]
    }))
  const phases: Record<string, PhaseBytes> = {}
  const measure = (name: string, from: ReturnType<typeof snapshotCounters>, fromMs: number): void => {
    const to = snapshotCounters()
    const secs = Math.max(1e-9, (sim.now - fromMs) / 1000)
    let total = 0
    let gossip = 0
    let sync = 0
    let max = 0
    for (const id of ids) {
      const a = from.get(id) as { sent: number, gossip: number, sync: number }
      const b = to.get(id) as { sent: number, gossip: number, sync: number }
      total += b.sent - a.sent
      gossip += b.gossip - a.gossip
      sync += b.sync - a.sync
      max = Math.max(max, b.sent - a.sent)
    }
    phases[name] = {
      ms: sim.now - fromMs,
      bytesPerNodePerSec: total / ids.length / secs,
      maxBytesPerNodePerSec: max / secs,
      gossipBytesPerNodePerSec: gossip / ids.length / secs,
      syncBytesPerNodePerSec: sync / ids.length / secs
    }
  }

  /** Runs until the digests are equal (checked every checkEveryMs) or the timeout; times from `since`. */
  const runUntilConverged = (phase: string, since: number, notBefore = since): Convergence => {
    const deadline = sim.now + o.convergeTimeoutMs
    const out: Convergence = { viewMs: null, digestMs: null }
    // every replica holds as many live agents as should be live, and they all agree
    const complete = (): boolean => ids.every(id => (processes.get(id) as RegistryProcess).registry.size === live.size)
    let nextDigestCheck = -Infinity
    const check = (): void => {
      if (sim.now >= notBefore) {
        if (out.viewMs === null && complete() && sameViews()) out.viewMs = sim.now - since
        if (out.viewMs !== null && sim.now >= nextDigestCheck) {
          nextDigestCheck = sim.now + o.digestCheckEveryMs
          if (sameDigests()) {
            out.digestMs = sim.now - since
            return
          }
        }
      }
      if (sim.now < deadline) sim.after(o.checkEveryMs, check)
    }
    sim.after(0, check)
    sim.run({ until: deadline, stop: () => out.digestMs !== null, onProgress: now => o.onProgress?.({ phase, now }), progressEveryMs: 1000 })
    return out
  }

  const local = (host: NodeId, op: RegistryOp): void => {
    (processes.get(host) as RegistryProcess).local(op)
  }

  // ---- phase 1: initial deployments (when not preloaded) ----
  let initialConvergence: Convergence | null = null
  const t0 = sim.now
  if (!o.preload) {
    const c0 = snapshotCounters()
    let last = t0
    for (const a of initial) {
      const at = t0 + random.next() * o.deploySpreadMs
      last = Math.max(last, at)
      sim.at(at, () => { local(a.host, put(a.agentId, a.host, 'running')); live.set(a.agentId, a.host) })
    }
    sim.run({ until: last, onProgress: now => o.onProgress?.({ phase: 'deploying', now }), progressEveryMs: 1000 })
    initialConvergence = runUntilConverged('deploying', last)
    measure('deploy', c0, t0)
  }

  // ---- phase 2: partition, changes on both sides, heal ----
  let healConvergence: Convergence | null = null
  let healBytes: RegistrySimReport['healBytes'] = null
  if (o.partition !== undefined) {
    const p = o.partition
    sim.run({ until: sim.now + p.atMs })
    const half = Math.floor(o.nodes / 2)
    const sides = [ids.slice(0, half), ids.slice(half)]
    const sideOf = new Map<NodeId, number>()
    sides.forEach((s, i) => { for (const id of s) sideOf.set(id, i) })
    net.partition(sides)
    const cutAt = sim.now
    const across = (a: NodeId, b: NodeId): boolean => sideOf.get(a) !== sideOf.get(b)
    sim.after(o.detectMs, () => {
      for (const id of ids) for (const peer of graph.get(id) as NodeId[]) if (across(id, peer)) (processes.get(id) as RegistryProcess).setAlive(peer, false)
    })
    // changes, spread over the cut after it was detected
    const window = Math.max(1, p.durationMs - o.detectMs - 100)
    for (const [i, side] of sides.entries()) {
      const hosted = [...live].filter(([, host]) => sideOf.get(host) === i).map(([id]) => id)
      random.shuffle(hosted)
      const removed = hosted.slice(0, p.removals)
      const updated = hosted.slice(p.removals, p.removals + p.updates)
      for (const agentId of removed) {
        const host = live.get(agentId) as NodeId
        live.delete(agentId)
        sim.at(cutAt + o.detectMs + random.next() * window, () => { local(host, { type: 'remove', agentId }) })
      }
      for (const agentId of updated) {
        const host = live.get(agentId) as NodeId
        const state: AgentState = random.next() < 0.5 ? 'failed' : 'draining'
        sim.at(cutAt + o.detectMs + random.next() * window, () => { local(host, { type: 'update', agentId, state }) })
      }
      for (let k = 0; k < p.deploys; k++) {
        const host = side[random.int(side.length)]
        const agentId = newAgentId()
        live.set(agentId, host)
        sim.at(cutAt + o.detectMs + random.next() * window, () => { local(host, put(agentId, host, 'running')) })
      }
    }
    const c1 = snapshotCounters()
    sim.run({ until: cutAt + p.durationMs, onProgress: now => o.onProgress?.({ phase: 'partitioned', now }), progressEveryMs: 1000 })
    measure('partitioned', c1, cutAt)

    net.heal()
    const healedAt = sim.now
    const tally = (): { syncs: number, refused: number, retries: number } => {
      let syncs = 0
      let refused = 0
      let retries = 0
      for (const x of processes.values()) {
        syncs += x.counters.syncsCompleted
        refused += x.policy.stats.refusedAtCap
        retries += x.policy.stats.connectRetries
      }
      return { syncs, refused, retries }
    }
    const before = tally()
    sim.after(o.reconnectMs, () => {
      for (const id of ids) for (const peer of graph.get(id) as NodeId[]) if (across(id, peer)) (processes.get(id) as RegistryProcess).setAlive(peer, true)
    })
    const c2 = snapshotCounters()
    healConvergence = runUntilConverged('healing', healedAt)
    measure('heal', c2, healedAt)
    let total = 0
    let maxNode = 0
    for (const id of ids) {
      const d = (processes.get(id) as RegistryProcess).counters.bytesSent - (c2.get(id) as { sent: number }).sent
      total += d
      maxNode = Math.max(maxNode, d)
    }
    const after = tally()
    healBytes = { total, maxNode, syncExchanges: (after.syncs - before.syncs) / 2, refusedAtCap: after.refused - before.refused, connectRetries: after.retries - before.retries }
  }

  // ---- phase 3: steady state ----
  if (o.steadyMs > 0) {
    const settle = o.settleMs ?? 2 * o.timing.antiEntropyIntervalMs
    if (settle > 0) sim.run({ until: sim.now + settle, onProgress: now => o.onProgress?.({ phase: 'steady', now }), progressEveryMs: 1000 })
    const c3 = snapshotCounters()
    const from = sim.now
    sim.run({ until: from + o.steadyMs, onProgress: now => o.onProgress?.({ phase: 'steady', now }), progressEveryMs: 1000 })
    measure('steady', c3, from)
  }

  // ---- correctness ----
  const mismatches: string[] = []
  let tombstones = 0
  for (const id of ids) {
    const reg = (processes.get(id) as RegistryProcess).registry
    tombstones += reg.tombstoneCount
    if (reg.size !== live.size) mismatches.push(`${id.slice(0, 16)}: ${reg.size} live agents, expected ${live.size}`)
    for (const [agentId, host] of live) {
      if (reg.get(agentId)?.node !== host) {
        mismatches.push(`${id.slice(0, 16)}: ${agentId} missing or on the wrong node`)
        break
      }
    }
  }

  return {
    nodes: o.nodes,
    agentsAtEnd: live.size,
    seed: o.seed,
    initialConvergence,
    healConvergence,
    healBytes,
    phases,
    correct: mismatches.length === 0,
    mismatches: mismatches.slice(0, 20),
    tombstonesAtEnd: tombstones,
    wallMs: performance.now() - wall0,
    events: sim.eventsRun,
    traceHash: sim.trace.digest()
  }
}

function put (agentId: string, node: NodeId, state: AgentState): RegistryOp {
  return { type: 'put', agentId, node, state, capabilities: [{ name: `cap-${agentId.charCodeAt(agentId.length - 1) % 10}` }] }
}
