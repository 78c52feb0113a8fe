/**
 * Crash detection on real processes: N nodes on loopback; each trial waits for a steady
 * cluster (every local health score back to 0 after start-up or the last restart, within
 * a minute), kill -9s one member (never the seed), measures the time until the FIRST and
 * until EVERY survivor logs it dead (from the nodes' own log timestamps), restarts it on
 * its data folder and waits until everyone holds it alive again before the next trial.
 */
import type { NodeProcess } from '../cluster/index.js'
import { LogWatch, percentile, restartNode, startCluster, stopAll, waitAllAlive, waitHealthy, type ClusterOptions } from './cluster.js'

export interface DetectOptions extends ClusterOptions {
  trials: number
  /** Longest wait for every survivor to mark a victim dead, ms. @default 120000 */
  trialTimeoutMs?: number
  log?: (line: string) => void
}

export interface DetectTrial {
  victim: string
  /** ms from the kill until the first survivor marked it dead. */
  firstMs: number
  /** ms from the kill until every survivor had marked it dead. */
  allMs: number
  /** ms from the kill until the first survivor suspected it. */
  firstSuspectMs: number
  /** Survivors that marked dead a member other than the victim (false positives). */
  otherDeaths: number
  /** ms from the restart until every node held the victim alive again. */
  rejoinMs: number
  /** Whether every node's local health score was 0 at the kill (a steady cluster). */
  steady: boolean
}

export interface DetectReport {
  nodes: number
  preset: string
  trials: DetectTrial[]
  /** Over trials: detection by every survivor, ms. */
  allMs: { p50: number, p99: number, max: number }
  firstMs: { p50: number, p99: number }
  rejoinMs: { p50: number, max: number }
  otherDeaths: number
  wallMs: number
}

const sleepUntil = async (check: () => boolean, timeoutMs: number, what: string): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

export async function runDetect (options: DetectOptions): Promise<DetectReport> {
  const log = options.log ?? (() => {})
  const started = Date.now()
  const nodes: NodeProcess[] = []
  try {
    log(`starting ${options.nodes} nodes (preset ${options.preset})`)
    nodes.push(...await startCluster({ ...options, onStarted: (n, count) => { log(`  ${n.name} up (${count}/${options.nodes})`) } }))
    const ids = nodes.map(n => n.peerId)
    await waitAllAlive(nodes, ids, 120_000)
    log(`converged: every node holds all ${nodes.length} alive`)
    const trials: DetectTrial[] = []
    for (let t = 0; t < options.trials; t++) {
      const index = 1 + (t % (nodes.length - 1))
      const victim = nodes[index]
      const survivors = nodes.filter(n => n !== victim)
      const steady = await waitHealthy(nodes, 60_000)
      const watches = new Map(survivors.map(n => [n.name, new LogWatch(n)]))
      for (const w of watches.values()) w.events() // skip what was logged before the kill
      const deadAt = new Map<string, number>()
      let firstSuspect = Infinity
      let otherDeaths = 0
      const poll = (): void => {
        for (const [name, w] of watches) {
          for (const e of w.events()) {
            if (e.msg === 'member suspected' && e.member === victim.peerId) firstSuspect = Math.min(firstSuspect, e.at)
            if (e.msg !== 'member dead') continue
            if (e.member === victim.peerId) { if (!deadAt.has(name)) deadAt.set(name, e.at) } else otherDeaths++
          }
        }
      }
      const killedAt = Date.now()
      victim.child.kill('SIGKILL')
      await victim.stop()
      await sleepUntil(() => { poll(); return deadAt.size === survivors.length }, options.trialTimeoutMs ?? 120_000, `every survivor to mark ${victim.name} dead`)
      const times = [...deadAt.values()]
      const trial: DetectTrial = {
        victim: victim.name,
        firstMs: Math.min(...times) - killedAt,
        allMs: Math.max(...times) - killedAt,
        firstSuspectMs: firstSuspect - killedAt,
        otherDeaths,
        rejoinMs: 0,
        steady
      }
      const restartedAt = Date.now()
      const back = await restartNode(victim, nodes[0], options)
      nodes[index] = back
      await waitAllAlive(nodes, [back.peerId], 120_000)
      trial.rejoinMs = Date.now() - restartedAt
      trials.push(trial)
      log(`trial ${t + 1}/${options.trials}: killed ${victim.name}; suspected after ${trial.firstSuspectMs} ms; dead at the first survivor after ${trial.firstMs} ms, at all ${survivors.length} after ${trial.allMs} ms; back everywhere ${trial.rejoinMs} ms after its restart${steady ? '' : ' (some node was not at health score 0 at the kill)'}`)
    }
    const all = trials.map(t => t.allMs)
    const first = trials.map(t => t.firstMs)
    const rejoin = trials.map(t => t.rejoinMs)
    return {
      nodes: options.nodes,
      preset: options.preset,
      trials,
      allMs: { p50: percentile(all, 50), p99: percentile(all, 99), max: Math.max(...all) },
      firstMs: { p50: percentile(first, 50), p99: percentile(first, 99) },
      rejoinMs: { p50: percentile(rejoin, 50), max: Math.max(...rejoin) },
      otherDeaths: trials.reduce((s, t) => s + t.otherDeaths, 0),
      wallMs: Date.now() - started
    }
  } finally {
    await stopAll(nodes)
  }
}
