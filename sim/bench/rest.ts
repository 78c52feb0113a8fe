/**
 * The REST API under load, and the cost of deploying an agent, both on a real
 * `caxton node start` child process (the built CLI, `dist/`):
 *
 * - `rest`: autocannon (`connections` keep-alive connections, closed loop) against
 *   `POST /agents/echo/messages` with an INFORM (no `?wait=`: the answer is 202 once the
 *   message is accepted, durably when `delivery.durable` is on), then `GET /health` (no
 *   access control, no body) for reference. Every POST carries a `sender` token created
 *   for the run (auth is always on). The node runs in its own process, not in this one:
 *   autocannon's load generation costs about as much CPU as the server, and on one event
 *   loop the two would measure each other.
 *   Then the same POST against the API alone (sim/bench/rest-api.ts: the node's server
 *   in front of a facade that accepts every message at once), in a process of its own too.
 * - `deploy`: a node's start (spawn until its ready line), then, at once, the first
 *   deploy (`POST /agents`, raw module), a new module, and the first module again under
 *   another id (compiled module cached), each timed by the client. The client's own
 *   first `fetch` is made before the node starts, to a server of its own: Node loads
 *   undici on the first call, ~45 ms this machine, which is the client's, not the node's.
 *
 * The node's per-token rate limit stays on, raised to 100,000,000 requests per window
 * (`CAXTON_API_RATE_LIMIT_MAX`): the default (1,000 per 10 s) would refuse a load
 * generator after its first thousand requests.
 * `CAXTON_BENCH_CPU_PROF=<dir>` makes the node write a CPU profile there when it stops.
 * Run: `npm run bench -- rest [--seconds N] [--connections N] [--durability on|off|both]`,
 * `npm run bench -- deploy`.
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import autocannon from 'autocannon'
import { ROOT, apiFetch, startNodeProcess, type NodeProcess } from '../cluster/index.js'
import { round } from './stats.js'

export const REST_AGENTS = {
  echo: join(ROOT, 'dist', 'agents', 'echo.wasm'),
  counter: join(ROOT, 'dist', 'agents', 'counter.wasm')
}

/** What the node's rate limit is raised to for the run (see the module's note). */
export const BENCH_RATE_LIMIT_MAX = 100_000_000

export interface RestOptions {
  /** Length of each measured run, s (each follows a warm-up of 2 s). */
  seconds: number
  /** Concurrent keep-alive connections. */
  connections: number
  /** Message content, bytes. */
  size: number
  /** Durable delivery on (the default) or off (`delivery.durable: false`). */
  durable: boolean
}

/** One autocannon run. */
export interface HttpFigures {
  /** 2xx responses per second over the run. */
  rate: number
  /** Response latency, ms (autocannon's histogram). */
  p50: number
  p99: number
  max: number
  /** Responses that were not 2xx (e.g. 503 OUTBOX_FULL, 429), and socket errors/timeouts. */
  non2xx: number
  errors: number
  /**
   * CPU time (user + system, all threads) the server process spent per 2xx response, µs;
   * absent where `/proc` is not there. Unlike the rate, it hardly moves when other
   * processes share the machine's cores.
   */
  cpuUsPerRequest?: number
  /**
   * CPU time of the server's main thread (its event loop: HTTP, fastify, the router,
   * delivery's staging) per 2xx response, µs; absent where `/proc` is not there. The
   * event loop is what saturates first: at 1,000,000 / this figure requests a second it
   * is busy all the time, whatever the other cores do.
   */
  mainThreadUsPerRequest?: number
}

export interface RestResult {
  durable: boolean
  connections: number
  seconds: number
  contentBytes: number
  /** `POST /agents/echo/messages`, INFORM, no wait: 202. */
  post: HttpFigures
  /** `GET /health`: public, no access control. */
  health: HttpFigures
}

/** A node process for the benchmarks, its rate limit raised. */
async function benchNode (name: string, durable: boolean): Promise<NodeProcess> {
  const profileDir = process.env.CAXTON_BENCH_CPU_PROF
  return await startNodeProcess({
    name,
    args: ['--log-level', 'warn'],
    ...(profileDir !== undefined ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] } : {}),
    env: { CAXTON_DELIVERY_DURABLE: String(durable), CAXTON_API_RATE_LIMIT_MAX: String(BENCH_RATE_LIMIT_MAX) }
  })
}

async function deploy (node: NodeProcess, id: string, wasm: Buffer<ArrayBuffer>): Promise<void> {
  const res = await apiFetch(node, `/agents?id=${id}`, { method: 'POST', headers: { 'content-type': 'application/wasm' }, body: wasm })
  if (res.status !== 201) throw new Error(`deploy of ${id} failed: ${res.status} ${await res.text()}`)
}

/** One autocannon run against the server process `pid`. */
async function cannon (options: autocannon.Options, pid: number | undefined): Promise<HttpFigures> {
  const cpu0 = cpuTimeMs(pid)
  const main0 = cpuTimeMs(pid, pid)
  const r = await autocannon(options)
  const cpu1 = cpuTimeMs(pid)
  const main1 = cpuTimeMs(pid, pid)
  const ok = r['2xx']
  return {
    rate: round(ok / (r.duration > 0 ? r.duration : options.duration as number), 0),
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    ...(cpu0 !== undefined && cpu1 !== undefined && ok > 0 ? { cpuUsPerRequest: round((cpu1 - cpu0) * 1000 / ok, 1) } : {}),
    ...(main0 !== undefined && main1 !== undefined && ok > 0 ? { mainThreadUsPerRequest: round((main1 - main0) * 1000 / ok, 1) } : {})
  }
}

/**
 * `/proc/<pid>/stat`'s utime + stime (all threads), or with `tid` one thread's
 * (`/proc/<pid>/task/<tid>/stat`; the main thread's tid is the pid), ms (Linux's USER_HZ
 * is 100 ticks a second); undefined where there is no /proc.
 */
function cpuTimeMs (pid: number | undefined, tid?: number): number | undefined {
  if (pid === undefined) return undefined
  let stat: string
  try {
    stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // Fields after the command name (which may hold spaces, hence the last ')'): state is
  // field 3, utime and stime fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** The measured request: an INFORM to echo, no wait, with a `sender` token. */
function postOptions (api: string, token: string, options: Omit<RestOptions, 'durable'>): autocannon.Options {
  return {
    url: `${api}/agents/echo/messages`,
    method: 'POST',
    connections: options.connections,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ performative: 'INFORM', content: 'x'.repeat(options.size) }),
    duration: options.seconds
  }
}

export async function benchRest (options: RestOptions): Promise<RestResult> {
  const node = await benchNode('bench-rest', options.durable)
  try {
    await deploy(node, 'echo', readFileSync(REST_AGENTS.echo))
    const res = await apiFetch(node, '/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench', role: 'sender' }) })
    if (res.status !== 201) throw new Error(`creating a sender token failed: ${res.status} ${await res.text()}`)
    const { token } = await res.json() as { token: string }
    const post = postOptions(node.api, token, options)
    const pid = node.child.pid
    await cannon({ ...post, duration: 2 }, pid) // warm-up: JIT, connections
    const postFigures = await cannon(post, pid)
    const health: autocannon.Options = { url: `${node.api}/health`, connections: options.connections, duration: options.seconds }
    await cannon({ ...health, duration: 2 }, pid)
    const healthFigures = await cannon(health, pid)
    return { durable: options.durable, connections: options.connections, seconds: options.seconds, contentBytes: options.size, post: postFigures, health: healthFigures }
  } finally {
    await node.stop()
  }
}

/**
 * `POST /agents/echo/messages` as in {@link benchRest}, against the API alone
 * (sim/bench/rest-api.ts): what the REST layer costs without the message path.
 * @throws if the server process does not start
 */
export async function benchRestApi (options: Omit<RestOptions, 'durable'>): Promise<HttpFigures> {
  const profileDir = process.env.CAXTON_BENCH_CPU_PROF
  const child = spawn(process.execPath, [
    '--import', 'tsx',
    ...(profileDir !== undefined ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
    join(ROOT, 'sim', 'bench', 'rest-api.ts')
  ], { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT, env: { ...process.env, CAXTON_API_RATE_LIMIT_MAX: String(BENCH_RATE_LIMIT_MAX) } })
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  try {
    const { url, token } = await new Promise<{ url: string, token: string }>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', line => { resolve(JSON.parse(line) as { url: string, token: string }) })
      void exited.then(() => { reject(new Error('the API bench server exited before it listened')) })
    })
    const post = postOptions(url, token, options)
    await cannon({ ...post, duration: 2 }, child.pid)
    return await cannon(post, child.pid)
  } finally {
    child.kill('SIGTERM')
    await exited
  }
}

export interface DeployResult {
  /** From spawning `caxton node start` to its ready line (the API answers `/ready` 200), ms. */
  readyMs: number
  /** `POST /agents` of echo right after the ready line, ms (client-side, whole request). */
  firstDeployMs: number
  /** Then counter, a module the node has not seen. */
  newModuleMs: number
  /** Then echo again as echo-2: its compiled module is cached. */
  cachedMs: number
}

/** One `fetch` to a server of this process's own, so that the next one finds undici loaded. */
async function warmClientFetch (): Promise<void> {
  const server = createServer((req, res) => { req.resume(); req.on('end', () => { res.end() }) })
  await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { method: 'POST', body: new Uint8Array(16) })
    await res.arrayBuffer()
  } finally {
    server.close()
  }
}

export async function benchDeploy (): Promise<DeployResult> {
  const echo = readFileSync(REST_AGENTS.echo)
  const counter = readFileSync(REST_AGENTS.counter)
  await warmClientFetch()
  const t0 = performance.now()
  const node = await benchNode('bench-deploy', true)
  const readyMs = performance.now() - t0
  try {
    const timed = async (id: string, wasm: Buffer<ArrayBuffer>): Promise<number> => {
      const t = performance.now()
      await deploy(node, id, wasm)
      return round(performance.now() - t, 1)
    }
    const firstDeployMs = await timed('echo', echo)
    const newModuleMs = await timed('counter', counter)
    const cachedMs = await timed('echo-2', echo)
    return { readyMs: round(readyMs, 0), firstDeployMs, newModuleMs, cachedMs }
  } finally {
    await node.stop()
  }
}
