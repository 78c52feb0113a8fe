/**
 * Runs a SWIM scenario: N real `protocols/swim` nodes on the simulated network, the
 * scenario's faults on its timeline, and the measurements of the issue (join convergence,
 * crash detection, false positives, load per member, partition heal).
 */
import { performance } from 'node:perf_hooks'
import { swimConfig } from '../../protocols/swim/index.js'
import type { FrameType, MemberEvent, MemberRecord, SwimConfig, SwimMetrics } from '../../protocols/swim/index.js'
import { SimNetwork } from '../core/network.js'
import { mix32 } from '../core/prng.js'
import { Simulator } from '../core/simulator.js'
import { ClusterObserver } from './observer.js'
import { SwimProcess } from './process.js'
import type { Scenario, ScenarioEvent } from './scenario.js'

export interface TimelineSample {
  /** Virtual time, s. */
  t: number
  up: number
  /** Share of (observer, member) pairs of up nodes in which the observer holds the member live. */
  knowledge: number
  msgsPerMemberPerSec: number
  bytesPerMemberPerSec: number
}

export interface TrialResult {
  trial: number
  seed: number
  nodes: number
  /** Wall-clock time of the run, ms. */
  wallMs: number
  /** Virtual time simulated, ms. */
  virtualMs: number
  eventsRun: number
  /** Digest of every delivery and timer: equal seeds give equal digests. */
  traceHash: string
  /** From the first node's start until every node holds every other live, ms (null: not within joinTimeoutMs). */
  joinConvergenceMs: number | null
  /** The same, counted from the last node's start, ms. */
  joinConvergenceAfterLastJoinMs: number | null
  crashes: Array<{ node: string, crashedAtMs: number, firstDetectionMs: number | null, allDetectionMs: number | null }>
  heals: Array<{ healedAtMs: number, convergenceMs: number | null }>
  /** Stalls, with how many members declared the stalled one dead while it was stalled. */
  pauses: Array<{ node: string, pausedAtMs: number, durationMs: number, declaredDeadBy: number }>
  /** The fault timeline as applied (virtual ms), for plots. */
  faults: Array<{ atMs: number, action: ScenarioEvent['action'], nodes: string[] }>
  /** Dead declarations about a member that was up (not stalled) and reachable. */
  falsePositives: number
  /** The first 100 false positives: virtual time, declarer, declared. */
  falsePositiveLog: Array<{ atMs: number, by: string, about: string }>
  /** Dead declarations about stalled members while stalled (expected once a stall outlasts the suspicion timeout). */
  deathsWhilePaused: number
  /** Suspect events, at any observer, about a member that was up and reachable. */
  falseSuspicions: number
  /** Of those, suspicions an observer raised itself after its own probe failed. */
  falseAccusations: number
  deadDeclarations: number
  steady: {
    fromMs: number
    toMs: number
    msgsPerMemberPerSec: number | null
    bytesPerMemberPerSec: number | null
    /** The same, per frame type. */
    byType: Partial<Record<FrameType, { msgsPerMemberPerSec: number, bytesPerMemberPerSec: number }>>
  }
  network: { sent: number, bytesSent: number, delivered: number, dropped: Record<string, number> }
  /** protocols/swim counters summed over the nodes alive at the end. */
  swim: SwimMetrics
  timeline: TimelineSample[]
}

export interface RunProgress {
  trial: number
  trials: number
  /** Virtual time reached, ms. */
  now: number
  /** Best estimate of the trial's total virtual time, ms. */
  total: number
  phase: 'joining' | 'running'
}

export interface RunOptions {
  onProgress?: (p: RunProgress) => void
  /** Every membership event any node reports (for tracing a run), with the virtual time. */
  onMemberEvent?: (observer: string, event: MemberEvent, now: number) => void
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/**
 * Member ids for a simulated cluster: `short` → `n0`, `n1`...; `peer-id` → 52 characters
 * shaped like a libp2p Ed25519 PeerId (`12D3KooW` + 44 base58 characters), unique per index.
 */
export function memberIds (n: number, style: 'peer-id' | 'short'): string[] {
  if (style === 'short') return Array.from({ length: n }, (_, i) => `n${i}`)
  return Array.from({ length: n }, (_, i) => {
    let id = '12D3KooW'
    let h = mix32(i, 0x5eed)
    for (let k = 0; k < 44; k++) {
      if (k % 5 === 0) h = mix32(h, i, k)
      id += BASE58[h % 58]
      h = Math.floor(h / 58)
    }
    return id
  })
}

/** The seed of trial `trial` of a scenario seeded `seed`. */
export function trialSeed (seed: number, trial: number): number {
  return trial === 0 ? seed : mix32(seed, trial)
}

function sumMetrics (all: SwimMetrics[]): SwimMetrics {
  const total = {} as Record<string, number>
  for (const m of all) {
    for (const [k, v] of Object.entries(m)) total[k] = (total[k] ?? 0) + v
  }
  return total as unknown as SwimMetrics
}

/** Runs one trial of a scenario. */
export function runTrial (scenario: Scenario, trial: number, options: RunOptions = {}): TrialResult {
  const wallStart = performance.now()
  const seed = trialSeed(scenario.seed, trial)
  const n = scenario.nodes
  const config: SwimConfig = swimConfig(scenario.preset, scenario.config as Partial<SwimConfig>)
  const sim = new Simulator(seed)
  const choose = sim.random.fork('scenario')
  const net = new SimNetwork(sim, {
    latency: scenario.network.latency,
    loss: scenario.network.loss,
    linkSpread: scenario.network.linkSpread,
    retransmitMs: scenario.network.retransmitMs
  })
  const ids = memberIds(n, scenario.ids)
  const addrsOf = (i: number): readonly string[] => scenario.ids === 'short' ? [] : [`/ip4/10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/tcp/4001`]
  const index = new Map(ids.map((id, i) => [id, i]))
  const indexOf = (id: string): number => index.get(id) ?? -1
  const intern = (id: string): string => { const i = index.get(id); return i === undefined ? id : ids[i] }
  const seedCount = Math.min(scenario.join.seeds, n)
  const seeds = ids.slice(0, seedCount)

  let joinConvergedAt: number | undefined
  let allStartedAt: number | undefined
  const heals: TrialResult['heals'] = []
  const pendingHeals: Array<{ healedAtMs: number, convergenceMs: number | null }> = []
  const observer = new ClusterObserver(n, indexOf, {
    reachable: (a, b) => net.reachable(ids[a], ids[b]),
    onConverged: (now) => {
      if (joinConvergedAt === undefined && allStartedAt !== undefined) joinConvergedAt = now
      for (const h of pendingHeals.splice(0)) h.convergenceMs = now - h.healedAtMs
    }
  })

  // Load accounting: per timeline window and for the steady-state window.
  let windowMsgs = 0
  let windowBytes = 0
  let steadyFrom = Infinity
  let steadyTo = Infinity
  let steadyMsgs = 0
  let steadyBytes = 0
  let steadyMemberMs = 0
  let lastSteadyAt = 0
  net.observer = {
    onSend: (_from, _to, bytes, now) => {
      windowMsgs++
      windowBytes += bytes.byteLength
      if (now >= steadyFrom && now < steadyTo) {
        steadyMsgs++
        steadyBytes += bytes.byteLength
      }
    }
  }
  const accrueSteady = (now: number): void => {
    const from = Math.max(lastSteadyAt, steadyFrom)
    const to = Math.min(now, steadyTo)
    if (to > from) steadyMemberMs += (to - from) * observer.upNodes
    lastSteadyAt = now
  }

  const snapshot: MemberRecord[] | undefined = scenario.join.mode === 'snapshot'
    ? ids.map((id, i) => ({ id, incarnation: 0, state: 'alive', addrs: addrsOf(i) }))
    : undefined
  const steadyByType = new Map<FrameType, { msgs: number, bytes: number }>()
  const countType = (type: FrameType, bytes: number): void => {
    const now = sim.now
    if (now < steadyFrom || now >= steadyTo) return
    const t = steadyByType.get(type) ?? { msgs: 0, bytes: 0 }
    t.msgs++
    t.bytes += bytes
    steadyByType.set(type, t)
  }
  const processes = new Map<string, SwimProcess>()
  const makeProcess = (i: number, join: boolean, restored = false): SwimProcess => {
    const p = new SwimProcess({
      members: restored ? snapshot : undefined,
      addrs: addrsOf(i),
      preset: scenario.preset,
      config: scenario.config as Partial<SwimConfig>,
      seeds: join ? seeds.filter((s) => s !== ids[i]) : [],
      onEvent: (o, e) => {
        observer.event(o, e, sim.now)
        options.onMemberEvent?.(o, e, sim.now)
      },
      onSend: countType,
      intern
    })
    processes.set(ids[i], p)
    return p
  }
  const clockRandom = sim.random.fork('clocks')
  const startNode = (i: number): void => {
    const drift = (2 * clockRandom.next() - 1) * scenario.network.maxDriftPpm * 1e-6
    const offsetMs = (2 * clockRandom.next() - 1) * scenario.network.maxClockOffsetMs
    accrueSteady(sim.now)
    observer.nodeUp(i, sim.now)
    net.add(ids[i], makeProcess(i, i > 0 && snapshot === undefined, snapshot !== undefined), { drift, offsetMs })
  }

  // Joins: node 0 founds the cluster, the others join through the seeds, spread evenly.
  const spread = scenario.join.spreadMs
  for (let i = 0; i < n; i++) {
    const at = i === 0 ? 0 : Math.max(1, (i / (n - 1)) * spread)
    sim.at(at, () => {
      if (i === n - 1) allStartedAt = sim.now
      startNode(i)
    })
  }

  // Fault timeline.
  const crashes: TrialResult['crashes'] = []
  const pauses: TrialResult['pauses'] = []
  const crashed = new Set<number>()
  const pick = (e: { count?: number, nodes?: number[] }, eligible: (i: number) => boolean): number[] => {
    if (e.nodes !== undefined) return e.nodes.filter((i) => i < n && eligible(i))
    const pool: number[] = []
    for (let i = seedCount; i < n; i++) if (eligible(i)) pool.push(i)
    return choose.shuffle(pool).slice(0, e.count ?? 1)
  }
  const isUp = (i: number): boolean => net.status(ids[i]) === 'up'
  const faults: TrialResult['faults'] = []
  const apply = (e: ScenarioEvent): void => {
    const now = sim.now
    const fault: TrialResult['faults'][number] = { atMs: now, action: e.action, nodes: [] }
    faults.push(fault)
    const note = (i: number): void => { fault.nodes.push(`n${i}`) }
    switch (e.action) {
      case 'crash':
        for (const i of pick(e, isUp)) {
          note(i)
          accrueSteady(now)
          net.crash(ids[i])
          crashed.add(i)
          observer.nodeDown(i, now, true)
        }
        break
      case 'restart':
        for (const i of pick(e, (i) => crashed.has(i))) {
          note(i)
          crashed.delete(i)
          accrueSteady(now)
          observer.nodeUp(i, now)
          net.restart(ids[i], makeProcess(i, true))
        }
        break
      case 'leave':
        for (const i of pick(e, isUp)) {
          note(i)
          processes.get(ids[i])?.leave()
          accrueSteady(now)
          observer.nodeDown(i, now, false)
          // The process keeps answering while its leave spreads, then stops.
          sim.after(config.probeIntervalMs * 10, () => { if (net.status(ids[i]) !== 'down') net.crash(ids[i]) })
        }
        break
      case 'pause':
        for (const i of pick(e, isUp)) {
          note(i)
          net.pause(ids[i])
          observer.setPaused(i, true)
          const record = { node: `n${i}`, pausedAtMs: now, durationMs: e.durationMs, declaredDeadBy: 0 }
          pauses.push(record)
          sim.after(e.durationMs, () => {
            record.declaredDeadBy = observer.deathsDuringPause(i)
            observer.setPaused(i, false)
            net.resume(ids[i])
          })
        }
        break
      case 'partition': {
        let groups: string[][]
        if (e.groups !== undefined) {
          groups = e.groups.map((g) => g.filter((i) => i < n).map((i) => ids[i]))
        } else {
          const size = Math.max(1, Math.round((e.fraction ?? 0.5) * n))
          groups = [choose.shuffle(ids.slice()).slice(0, size)]
        }
        net.partition(groups)
        break
      }
      case 'heal':
        net.heal()
        pendingHeals.push({ healedAtMs: now, convergenceMs: null })
        heals.push(pendingHeals[pendingHeals.length - 1])
        if (observer.converged) pendingHeals.splice(0).forEach((h) => { h.convergenceMs = 0 })
        break
      case 'loss':
        net.setLoss(e.loss)
        break
    }
  }
  for (const e of scenario.events) if (e.anchor === 'start') sim.at(e.atMs, () => { apply(e) })

  // Timeline samples; they also open the steady-state window once the join gossip is over.
  const timeline: TimelineSample[] = []
  const every = scenario.measure.sampleEveryMs
  let settleAt = Infinity
  const quiet = (): boolean => {
    for (const [id, p] of processes) {
      if (net.status(id) === 'up' && (p.node?.pendingUpdates ?? 0) > 0) return false
    }
    return true
  }
  const sample = (): void => {
    if (steadyFrom === Infinity && sim.now >= settleAt && sim.now < steadyTo && quiet()) {
      accrueSteady(sim.now)
      steadyFrom = sim.now
      lastSteadyAt = sim.now
    }
    const up = Math.max(1, observer.upNodes)
    timeline.push({
      t: sim.now / 1000,
      up: observer.upNodes,
      knowledge: observer.knowledge,
      msgsPerMemberPerSec: windowMsgs / up / (every / 1000),
      bytesPerMemberPerSec: windowBytes / up / (every / 1000)
    })
    windowMsgs = 0
    windowBytes = 0
    sim.after(every, sample)
  }
  sim.after(every, sample)

  // Phase 1: joins, until convergence.
  const report = options.onProgress
  const trials = scenario.trials
  const joinLimit = Math.max(spread, 0) + scenario.joinTimeoutMs
  const joinEstimate = spread + 30_000
  sim.run({
    until: joinLimit,
    stop: () => joinConvergedAt !== undefined,
    onProgress: report === undefined ? undefined : (now) => { report({ trial, trials, now, total: joinEstimate + scenario.durationMs, phase: 'joining' }) },
    progressEveryMs: 1000
  })
  const anchor = joinConvergedAt ?? sim.now
  const end = anchor + scenario.durationMs

  // Phase 2: the fault timeline, relative to convergence.
  const relative = scenario.events.filter((e) => e.anchor === 'converged')
  for (const e of relative) sim.at(anchor + e.atMs, () => { apply(e) })
  accrueSteady(sim.now)
  // Steady state: from settleMs after convergence and once every update queue has drained
  // (the first timeline sample that finds them empty), until the first fault.
  settleAt = anchor + scenario.measure.settleMs
  const firstFault = relative.reduce((t, e) => Math.min(t, anchor + e.atMs), Infinity)
  steadyTo = Math.min(end, firstFault)
  lastSteadyAt = sim.now
  sim.run({
    until: end,
    onProgress: report === undefined ? undefined : (now) => { report({ trial, trials, now, total: end, phase: 'running' }) },
    progressEveryMs: 1000
  })
  accrueSteady(sim.now)

  for (const r of observer.crashRecords) {
    crashes.push({
      node: `n${r.node}`,
      crashedAtMs: r.crashedAt,
      firstDetectionMs: r.firstDetectedAt === undefined ? null : r.firstDetectedAt - r.crashedAt,
      allDetectionMs: r.allDetectedAt === undefined ? null : r.allDetectedAt - r.crashedAt
    })
  }
  const live: SwimMetrics[] = []
  for (const [id, p] of processes) if (net.status(id) !== 'down' && p.node !== undefined) live.push(p.node.metrics)
  const steadySeconds = steadyMemberMs / 1000
  return {
    trial,
    seed,
    nodes: n,
    wallMs: Math.round(performance.now() - wallStart),
    virtualMs: sim.now,
    eventsRun: sim.eventsRun,
    traceHash: sim.trace.digest(),
    joinConvergenceMs: joinConvergedAt ?? null,
    joinConvergenceAfterLastJoinMs: joinConvergedAt === undefined || allStartedAt === undefined ? null : joinConvergedAt - allStartedAt,
    crashes,
    heals,
    pauses,
    faults,
    falsePositives: observer.falsePositives,
    falsePositiveLog: observer.falsePositiveLog.map((f) => ({ atMs: f.at, by: `n${f.observer}`, about: `n${f.subject}` })),
    deathsWhilePaused: observer.deathsWhilePaused,
    falseSuspicions: observer.falseSuspicions,
    falseAccusations: observer.falseAccusations,
    deadDeclarations: observer.deadDeclarations,
    steady: {
      fromMs: Math.min(steadyFrom, steadyTo),
      toMs: steadyTo,
      msgsPerMemberPerSec: steadySeconds > 0 ? steadyMsgs / steadySeconds : null,
      bytesPerMemberPerSec: steadySeconds > 0 ? steadyBytes / steadySeconds : null,
      byType: steadySeconds > 0
        ? Object.fromEntries([...steadyByType].map(([type, t]) => [type, { msgsPerMemberPerSec: t.msgs / steadySeconds, bytesPerMemberPerSec: t.bytes / steadySeconds }]))
        : {}
    },
    network: { ...net.stats, dropped: { ...net.stats.dropped } },
    swim: sumMetrics(live),
    timeline
  }
}
