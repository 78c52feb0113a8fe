/**
 * False positives under CPU pressure: N nodes on loopback run for a while next to CPU
 * burners (busy-looping processes, one per core by default), nobody crashes; every member
 * declared dead is a false positive. Also reported: suspicions raised and refuted, the
 * highest local health score and event-loop delay seen, probes made.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { availableParallelism } from 'node:os'
import type { NodeProcess } from '../cluster/index.js'
import { LogWatch, members, metric, startCluster, stopAll, waitAllAlive, type ClusterOptions } from './cluster.js'

export interface BusyOptions extends ClusterOptions {
  minutes: number
  /** Busy-looping processes beside the nodes. @default os.availableParallelism() */
  burners?: number
  /** How often the nodes are sampled, ms. @default 5000 */
  sampleMs?: number
  log?: (line: string) => void
}

export interface BusyReport {
  nodes: number
  preset: string
  burners: number
  minutes: number
  /** Members declared dead while every process was up: false positives. */
  falseDeaths: number
  /** The dead declarations, if any: who declared whom, when (ms into the run). */
  deaths: Array<{ node: string, member: string, atMs: number }>
  /** Summed over the nodes, from their counters. */
  suspicions: number
  refutations: number
  falseSuspicions: number
  probes: number
  /** Highest local health score any node reported. */
  maxHealthScore: number
  /** Highest event-loop delay a node fed its health score, ms. */
  maxEventLoopDelayMs: number
  /** Samples in which some node did not hold all members alive (a suspicion in flight). */
  samplesNotAllAlive: number
  samples: number
  wallMs: number
}

function burner (): ChildProcess {
  // A busy loop, one per core: the nodes compete with it for CPU the whole run.
  return spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' })
}

export async function runBusy (options: BusyOptions): Promise<BusyReport> {
  const log = options.log ?? (() => {})
  const burnerCount = options.burners ?? availableParallelism()
  const sampleMs = options.sampleMs ?? 5000
  const nodes: NodeProcess[] = []
  const burners: ChildProcess[] = []
  const started = Date.now()
  try {
    log(`starting ${options.nodes} nodes (preset ${options.preset})`)
    nodes.push(...await startCluster(options))
    const ids = nodes.map(n => n.peerId)
    await waitAllAlive(nodes, ids, 60_000)
    const watches = nodes.map(n => new LogWatch(n))
    for (const w of watches) w.events()
    const counters = async (name: string): Promise<number[]> => await Promise.all(nodes.map(async n => await metric(n, name)))
    const base = {
      suspicions: await counters('caxton_membership_suspicions_total'),
      refutations: await counters('caxton_membership_refutations_total'),
      falseSuspicions: await counters('caxton_membership_false_suspicions_total'),
      probes: await counters('caxton_membership_probes_total')
    }
    for (let i = 0; i < burnerCount; i++) burners.push(burner())
    log(`converged; ${burnerCount} CPU burners running; watching for ${options.minutes} min`)
    const runStart = Date.now()
    const end = runStart + options.minutes * 60_000
    const deaths: BusyReport['deaths'] = []
    let maxHealthScore = 0
    let maxEventLoopDelayMs = 0
    let samples = 0
    let samplesNotAllAlive = 0
    let nextReport = runStart + 60_000
    while (Date.now() < end) {
      await new Promise(resolve => setTimeout(resolve, Math.min(sampleMs, Math.max(0, end - Date.now()))))
      for (const w of watches) {
        for (const e of w.events()) if (e.msg === 'member dead') deaths.push({ node: e.node, member: e.member, atMs: e.at - runStart })
      }
      samples++
      let allAlive = true
      for (const n of nodes) {
        const list = await members(n)
        maxHealthScore = Math.max(maxHealthScore, list.healthScore)
        if (list.counts.alive !== nodes.length) allAlive = false
        maxEventLoopDelayMs = Math.max(maxEventLoopDelayMs, 1000 * await metric(n, 'caxton_membership_event_loop_delay_seconds'))
      }
      if (!allAlive) samplesNotAllAlive++
      if (Date.now() >= nextReport) {
        nextReport += 60_000
        log(`  ${Math.round((Date.now() - runStart) / 60_000)} min: ${deaths.length} false deaths so far, max health score ${maxHealthScore}, max event-loop delay ${Math.round(maxEventLoopDelayMs)} ms`)
      }
    }
    for (const b of burners) b.kill('SIGKILL')
    const sum = async (name: string, from: number[]): Promise<number> => (await counters(name)).reduce((s, v, i) => s + v - from[i], 0)
    return {
      nodes: options.nodes,
      preset: options.preset,
      burners: burnerCount,
      minutes: options.minutes,
      falseDeaths: deaths.length,
      deaths,
      suspicions: await sum('caxton_membership_suspicions_total', base.suspicions),
      refutations: await sum('caxton_membership_refutations_total', base.refutations),
      falseSuspicions: await sum('caxton_membership_false_suspicions_total', base.falseSuspicions),
      probes: await sum('caxton_membership_probes_total', base.probes),
      maxHealthScore,
      maxEventLoopDelayMs: Math.round(maxEventLoopDelayMs),
      samplesNotAllAlive,
      samples,
      wallMs: Date.now() - started
    }
  } finally {
    for (const b of burners) b.kill('SIGKILL')
    await stopAll(nodes)
  }
}
