/**
 * Helpers for chaos runs on real node processes (loopback only): start a cluster, wait for
 * membership to converge, read each node's membership events from its JSON log lines
 * (pino, `time` in ISO form: the instant the node decided, not when we polled), and read
 * its Prometheus counters.
 */
import type { MemberListJson } from '../../src/api/facade.js'
import { apiFetch, startNodeProcess, startNodeProcesses, waitFor, type NodeProcess } from '../cluster/index.js'

export interface ClusterOptions {
  nodes: number
  /** Node preset (`--preset`). */
  preset: 'local' | 'lan' | 'wan'
  /** Extra `caxton node start` arguments. */
  args?: string[]
  /** Processes started at once (a 2-core machine chokes on 20 starting together). @default 4 */
  batch?: number
  /** Told of each node started. */
  onStarted?: (node: NodeProcess, count: number) => void
}

/** Starts `nodes` processes, the first one the seed of the others. */
export async function startCluster (options: ClusterOptions): Promise<NodeProcess[]> {
  const args = ['--preset', options.preset, ...(options.args ?? [])]
  const seed = await startNodeProcess({ name: 'n1', args, timeoutMs: 60_000 })
  const nodes = [seed]
  options.onStarted?.(seed, 1)
  const batch = options.batch ?? 4
  for (let i = 2; i <= options.nodes; i += batch) {
    const names = Array.from({ length: Math.min(batch, options.nodes - i + 1) }, (_, k) => `n${i + k}`)
    const started = await startNodeProcesses(names.map(name => ({ name, join: [seed.multiaddrs[0]], args, timeoutMs: 60_000 })))
    for (const n of started) {
      nodes.push(n)
      options.onStarted?.(n, nodes.length)
    }
  }
  return nodes
}

/** Restarts a stopped node on its data folder, joining through `seed`. */
export async function restartNode (node: NodeProcess, seed: NodeProcess, options: ClusterOptions): Promise<NodeProcess> {
  return await startNodeProcess({
    name: node.name,
    dataDir: node.dataDir,
    join: [seed.multiaddrs[0]],
    args: ['--preset', options.preset, ...(options.args ?? [])],
    timeoutMs: 60_000
  })
}

export async function members (node: NodeProcess): Promise<MemberListJson> {
  const res = await apiFetch(node, '/cluster/members', { signal: AbortSignal.timeout(5000) })
  if (!res.ok) throw new Error(`${node.name}: GET /cluster/members answered ${res.status}`)
  return await res.json() as MemberListJson
}

/** Waits until every node holds each of `ids` alive. */
export async function waitAllAlive (nodes: NodeProcess[], ids: string[], timeoutMs: number): Promise<void> {
  await waitFor(`every node to hold ${ids.length} members alive`, async () => {
    for (const n of nodes) {
      const alive = new Set((await members(n)).members.filter(m => m.state === 'alive').map(m => m.id))
      if (!ids.every(id => alive.has(id))) return undefined
    }
    return true
  }, timeoutMs, 500)
}

/**
 * Waits until every node's local health score is 0 (the start-up and the last restart's
 * CPU burst have passed: a steady cluster), at most `timeoutMs`.
 * @returns whether they all got there
 */
export async function waitHealthy (nodes: NodeProcess[], timeoutMs: number): Promise<boolean> {
  try {
    await waitFor('every node to be healthy (score 0)', async () => {
      for (const n of nodes) if ((await members(n)).healthScore !== 0) return undefined
      return true
    }, timeoutMs, 500)
    return true
  } catch {
    return false
  }
}

/** A membership event as a node logged it. */
export interface LoggedEvent {
  /** The node that logged it. */
  node: string
  /** `member dead`, `member suspected`, `member joined`, `member left`, `member alive (suspicion refuted)`, ... */
  msg: string
  member: string
  /** ms since the epoch, the node's clock (same machine). */
  at: number
}

/** Reads the membership events a node logged since the last call. */
export class LogWatch {
  private read = 0

  constructor (private readonly node: NodeProcess) {}

  events (): LoggedEvent[] {
    const out: LoggedEvent[] = []
    const lines = this.node.logs
    for (; this.read < lines.length; this.read++) {
      const line = lines[this.read]
      if (!line.includes('"caxton:membership"') || !line.includes('"member"')) continue
      try {
        const j = JSON.parse(line) as { msg?: string, member?: string, time?: string | number }
        if (typeof j.msg !== 'string' || typeof j.member !== 'string' || j.time === undefined) continue
        out.push({ node: this.node.name, msg: j.msg, member: j.member, at: typeof j.time === 'number' ? j.time : Date.parse(j.time) })
      } catch {}
    }
    return out
  }
}

/** The value of a counter or gauge without labels from `GET /metrics`, or NaN. */
export async function metric (node: NodeProcess, name: string): Promise<number> {
  const text = await (await apiFetch(node, '/metrics', { signal: AbortSignal.timeout(5000) })).text()
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)
  return m === null ? NaN : Number(m[1])
}

/** Nearest-rank percentile of `samples` (0..100); NaN when empty. */
export function percentile (samples: number[], p: number): number {
  if (samples.length === 0) return NaN
  const s = [...samples].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}

/** Stops every process (SIGKILL: a chaos run does not care for graceful leaves at the end). */
export async function stopAll (nodes: NodeProcess[]): Promise<void> {
  await Promise.all(nodes.map(async n => {
    if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGCONT')
    await n.stop('SIGKILL')
  }))
}
