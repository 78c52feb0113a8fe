/**
 * `npm run bench -- [which...] [options]`: the project's benchmarks, each printing its figures.
 *
 * - `messages`: Caxton's message rates and latencies (`local`: router → echo agent →
 *   router in one node; `remote`: node A → node B's echo agent → node A; `oneway`: node A
 *   → node B's sink agent; `agents`: the ping agent on node A ↔ the echo agent on node B,
 *   no API client in the loop), each with durable delivery on and off (`--durability`),
 *   beside a raw `node:net` baseline measured in the same run (`baseline`: that alone);
 *   sim/bench/caxton.ts, agents.ts, baseline.ts. `oneway` with durable delivery on also
 *   measures the durable floor beside it: the same one-way traffic on the project's libp2p
 *   transport and LevelDB with no Caxton logic, a row and an ack a message and a batch
 *   (sim/bench/floor.ts).
 * - `fipa`: FIPA-ACL codec throughput (sim/bench/fipa.ts).
 * - `registry`: registry apply/merge throughput, digest and anti-entropy costs, capability
 *   lookup at `--agents` agents (sim/bench/registry.ts).
 * - `runtime`: WASM runtime deploy cost and echo throughput (sim/bench/runtime.ts).
 * - `auth`: the REST API's access control per request: token authentication, permission
 *   check, the whole access path through fastify, an audit append (sim/bench/auth.ts).
 * - `isolation`: echo's round-trip latency on a node without, then with issue 10's flood
 *   agent beside it, then after the node suspended the flood, then beside a client's
 *   well-behaved INFORMs at the flood's send budget (sim/bench/isolation.ts).
 *   Not in `all`: it runs for four times `--seconds` plus the grace period.
 * - `rest`: the REST API under load (autocannon, `--connections`): `POST
 *   /agents/echo/messages` with an INFORM, durable delivery on and off, and `GET /health`,
 *   on a node process, then the POST against the API alone (sim/bench/rest.ts).
 * - `deploy`: a node process's start, its first deploy, a new module, a cached one
 *   (sim/bench/rest.ts).
 * - `all` (the default): every one of them.
 *
 * `messages`, `local`, `remote`, `oneway`, `agents`, `runtime`, `rest` and `deploy` need the build (`npm run build`) for the
 * example agents and the node binary. `--json` prints one JSON object, a key per suite.
 */
import '../../src/polyfill.js'
import { existsSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { Argument, Command, InvalidArgumentError, Option } from 'commander'
import type { AgentsResult } from './agents.js'
import type { AuthResult } from './auth.js'
import type { BaselineResult } from './baseline.js'
import type { DurableFloorResult } from './floor.js'
import type { OneWayResult, RoundTripResult } from './caxton.js'
import type { FipaResult } from './fipa.js'
import type { IsolationResult } from './isolation.js'
import type { RegistryResult } from './registry.js'
import type { DeployResult, HttpFigures, RestResult } from './rest.js'
import type { RuntimeResult } from './runtime.js'
import { CLI } from '../cluster/index.js'
import { fmtRate } from './stats.js'

type Durability = 'on' | 'off' | 'both'

interface Options {
  durability: Durability
  messages: number
  size: number
  window?: number
  agents: number
  seconds: number
  iterations: number
  connections: number
  json?: boolean
}

interface Results {
  /** `window` is the messages suite's; `runtimeWindow` the runtime suite's. */
  config: Omit<Options, 'json'> & { window: number, runtimeWindow: number }
  /**
   * The machine the run shared: its cores and the 1-minute load average before and after
   * (latency percentiles on 2 cores move with whatever else runs).
   */
  machine?: { cores: number, loadAverageBefore: number, loadAverageAfter: number }
  baseline?: BaselineResult
  /** Durable one-way delivery on libp2p + LevelDB without Caxton (`oneway` with durable delivery on). */
  durableFloor?: DurableFloorResult
  /** Durable delivery on (the default). */
  local?: RoundTripResult
  remote?: RoundTripResult
  oneway?: OneWayResult
  agents?: AgentsResult
  /** The same with durable delivery off (`delivery.durable: false`). */
  nonDurable?: MessageResults
  fipa?: FipaResult
  registry?: RegistryResult
  runtime?: RuntimeResult
  auth?: AuthResult
  isolation?: IsolationResult
  /** One per durability mode measured. */
  rest?: RestResult[]
  /** `POST /agents/echo/messages` against the API alone (sim/bench/rest-api.ts). */
  restApi?: HttpFigures
  deploy?: DeployResult
}

/** The message suites' results of one durability mode. */
type MessageResults = Pick<Results, 'local' | 'remote' | 'oneway' | 'agents'>

type Suite = 'baseline' | 'local' | 'remote' | 'oneway' | 'agents' | 'fipa' | 'registry' | 'runtime' | 'auth' | 'isolation' | 'rest' | 'deploy'

/** What each name on the command line runs. */
const SELECTIONS: Record<string, Suite[]> = {
  all: ['fipa', 'registry', 'runtime', 'auth', 'deploy', 'rest', 'baseline', 'local', 'remote', 'oneway', 'agents'],
  messages: ['baseline', 'local', 'remote', 'oneway', 'agents'],
  local: ['baseline', 'local'],
  remote: ['baseline', 'remote'],
  oneway: ['baseline', 'oneway'],
  agents: ['baseline', 'agents'],
  baseline: ['baseline'],
  fipa: ['fipa'],
  registry: ['registry'],
  runtime: ['runtime'],
  auth: ['auth'],
  isolation: ['isolation'],
  rest: ['rest'],
  deploy: ['deploy']
}

const DEFAULT_WINDOW = { messages: 256, runtime: 1000 }
/**
 * The durable floor's run: at least `minMessages` per variant (so that it runs long enough),
 * at most `window` messages unacked (its own, not `--window`).
 */
const FLOOR = { minMessages: 100_000, window: 4096 }

function positiveInteger (value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`"${value}" is not a positive integer.`)
  return n
}

const program = new Command('bench')
  .description('Caxton benchmarks: message round trips beside a raw node:net baseline, FIPA-ACL codecs, the registry, the WASM runtime')
  .addArgument(new Argument('[which...]', 'what to run').choices(Object.keys(SELECTIONS)).default(['all']))
  .addOption(new Option('--messages <n>', `messages: round trips (one-way: messages) per measurement (the durable floor: at least ${FLOOR.minMessages})`).default(20_000).argParser(positiveInteger))
  .addOption(new Option('--durability <mode>', 'messages, rest: durable delivery on, off, or both (each measured)').choices(['on', 'off', 'both']).default('both'))
  .addOption(new Option('--size <bytes>', 'messages, fipa, runtime, rest: message content size, bytes').default(200).argParser(positiveInteger))
  .addOption(new Option('--window <n>', `messages, runtime: requests in flight (default: ${DEFAULT_WINDOW.messages} for messages, ${DEFAULT_WINDOW.runtime} for runtime; agents: at most 1000)`).argParser(positiveInteger))
  .addOption(new Option('--iterations <n>', 'fipa, auth: calls per operation').default(300_000).argParser(positiveInteger))
  .addOption(new Option('--agents <n>', 'registry: agents registered').default(10_000).argParser(positiveInteger))
  .addOption(new Option('--seconds <n>', 'runtime, rest, isolation: length of each measured run (isolation: of each phase), s').default(5).argParser(positiveInteger))
  .addOption(new Option('--connections <n>', 'rest: concurrent HTTP connections').default(50).argParser(positiveInteger))
  .option('--json', 'print the results as one JSON object, a key per suite')
  .addHelpText('after', `
"messages" is baseline + local + remote + oneway + agents; each of those also measures the baseline.
oneway (so messages and all too) with --durability on or both also measures the durable floor:
libp2p + LevelDB, no Caxton, ${FLOOR.window} messages unacked (not --window).
messages, local, remote, oneway, agents, runtime, rest, deploy and isolation need "npm run build" first.

Examples:
  npm run bench                                     # everything
  npm run bench -- messages --messages 50000 --window 512
  npm run bench -- remote oneway --durability on
  npm run bench -- agents --messages 100000 --window 512
  npm run bench -- baseline --messages 2000
  npm run bench -- fipa --size 1000
  npm run bench -- registry --agents 100000
  npm run bench -- runtime --seconds 10 --window 1000
  npm run bench -- auth --iterations 100000
  npm run bench -- isolation --seconds 10
  npm run bench -- rest --connections 50 --seconds 10 --durability both
  npm run bench -- deploy
  npm run -s bench -- fipa registry --json > bench.json`)
  .action(async (which: string[], opts: Options) => {
    const suites = new Set(which.flatMap(w => SELECTIONS[w]))
    const loadBefore = loadavg()[0]
    // Each suite's module is loaded only when it runs: no libp2p in the heap of the others.
    const caxton = suites.has('local') || suites.has('remote') || suites.has('oneway') ? await import('./caxton.js') : undefined
    const agents = suites.has('agents') ? await import('./agents.js') : undefined
    const runtime = suites.has('runtime') ? await import('./runtime.js') : undefined
    const isolation = suites.has('isolation') ? await import('./isolation.js') : undefined
    const rest = suites.has('rest') || suites.has('deploy') ? await import('./rest.js') : undefined
    const missing = [
      ...(caxton !== undefined ? [caxton.ECHO_WASM, caxton.SINK_WASM] : []),
      ...(agents !== undefined ? [agents.PING_WASM, CLI] : []),
      ...(runtime !== undefined ? Object.values(runtime.RUNTIME_AGENTS) : []),
      ...(isolation !== undefined ? Object.values(isolation.ISOLATION_AGENTS) : []),
      ...(rest !== undefined ? [...Object.values(rest.REST_AGENTS), CLI] : [])
    ].filter(f => !existsSync(f))
    if (missing.length > 0) program.error(`${missing.join(', ')} missing: run "npm run build" first`)

    const human = opts.json !== true
    const window = { messages: opts.window ?? DEFAULT_WINDOW.messages, runtime: opts.window ?? DEFAULT_WINDOW.runtime }
    if (agents !== undefined && window.messages > agents.MAX_AGENTS_WINDOW) program.error(`agents: --window at most ${agents.MAX_AGENTS_WINDOW} (the node's sends per handled message)`)
    const results: Results = {
      config: { durability: opts.durability, messages: opts.messages, size: opts.size, window: window.messages, runtimeWindow: window.runtime, iterations: opts.iterations, agents: opts.agents, seconds: opts.seconds, connections: opts.connections }
    }
    /** Figures go to stdout; progress to stderr; neither with --json. */
    const say = (line: string): void => { if (human) process.stdout.write(line + '\n') }
    const progress = (line: string): void => { if (human) process.stderr.write(line + '\n') }
    let first = true
    const heading = (title: string): void => { say(`${first ? '' : '\n'}== ${title}`); first = false }
    const modes = opts.durability === 'both' ? [true, false] : [opts.durability === 'on']

    if (suites.has('fipa')) {
      heading(`fipa: FIPA-ACL codecs, ${opts.size} B content, ${opts.iterations} calls per operation`)
      const { benchFipa } = await import('./fipa.js')
      results.fipa = await benchFipa({ iterations: opts.iterations, size: opts.size }, say)
    }
    if (suites.has('registry')) {
      heading(`registry: ${opts.agents} agents`)
      const { benchRegistry } = await import('./registry.js')
      results.registry = await benchRegistry({ agents: opts.agents }, say)
    }
    if (suites.has('auth')) {
      heading(`auth: REST API access control, ${opts.iterations} calls per operation`)
      const { benchAuth } = await import('./auth.js')
      results.auth = await benchAuth({ iterations: opts.iterations }, say)
    }
    if (runtime !== undefined) {
      heading(`runtime: WASM agent runtime, echo for ${opts.seconds} s, window ${window.runtime}`)
      results.runtime = await runtime.benchRuntime({ seconds: opts.seconds, window: window.runtime, size: opts.size }, say)
    }
    if (isolation !== undefined) {
      heading(`isolation: echo beside the flood agent, ${opts.seconds} s per phase, content ${opts.size} B`)
      results.isolation = await isolation.benchIsolation({ seconds: opts.seconds, size: opts.size }, say)
    }
    if (rest !== undefined && suites.has('deploy')) {
      heading('deploy: a node process\'s start and first deploys (POST /agents, raw module)')
      progress('starting a node ...')
      const d = results.deploy = await rest.benchDeploy()
      say(`${'start: spawn → ready line'.padEnd(48)} ${d.readyMs} ms`)
      say(`${'first deploy after start (echo)'.padEnd(48)} ${d.firstDeployMs} ms`)
      say(`${'a new module, warm (counter)'.padEnd(48)} ${d.newModuleMs} ms`)
      say(`${'a cached module (echo again as echo-2)'.padEnd(48)} ${d.cachedMs} ms`)
    }
    if (rest !== undefined && suites.has('rest')) {
      heading(`rest: ${opts.connections} connections, ${opts.seconds} s per run, content ${opts.size} B, durable delivery ${opts.durability}; node rate limit raised to ${rest.BENCH_RATE_LIMIT_MAX} per window`)
      results.rest = []
      for (const durable of modes) {
        progress(`measuring the REST API, ${durable ? 'durable' : 'not durable'} ...`)
        results.rest.push(await rest.benchRest({ seconds: opts.seconds, connections: opts.connections, size: opts.size, durable }))
      }
      progress('measuring the REST API alone (a facade that accepts at once) ...')
      results.restApi = await rest.benchRestApi({ seconds: opts.seconds, connections: opts.connections, size: opts.size })
      if (human) printRestTable(results.rest, results.restApi)
    }
    if (suites.has('baseline')) {
      const options = { messages: opts.messages, size: opts.size, window: window.messages }
      heading(`messages: ${opts.messages} round trips, content ${opts.size} B, window ${window.messages}, durable delivery ${opts.durability}`)
      progress('measuring raw node:net baseline ...')
      const { measureBaseline } = await import('./baseline.js')
      results.baseline = await measureBaseline(options)
      if (suites.has('oneway') && modes.includes(true)) {
        progress('measuring the durable floor (libp2p + LevelDB, no Caxton) ...')
        const { measureDurableFloor } = await import('./floor.js')
        results.durableFloor = await measureDurableFloor({ messages: Math.max(opts.messages, FLOOR.minMessages), size: opts.size, window: FLOOR.window })
      }
      for (const durable of modes) {
        const into: MessageResults = durable ? results : (results.nonDurable = {})
        const mode = durable ? 'durable' : 'not durable'
        const o = { ...options, durable }
        if (suites.has('local')) { progress(`measuring local routing, ${mode} (router → echo agent → router) ...`); into.local = await caxton?.benchLocal(o) }
        if (suites.has('remote')) { progress(`measuring remote delivery, ${mode} (node A → node B echo → node A) ...`); into.remote = await caxton?.benchRemote(o) }
        if (suites.has('oneway')) { progress(`measuring one-way delivery, ${mode} (node A → node B sink) ...`); into.oneway = await caxton?.benchOneWay(o) }
        if (suites.has('agents')) { progress(`measuring agent to agent, ${mode} (ping on node A ↔ echo on node B) ...`); into.agents = await agents?.benchAgents(o) }
      }
      if (human) printTable(results)
      const f = results.durableFloor
      if (f != null) say(`floor: ${f.messages} messages measured per variant after ${f.warmUp} to warm up, at most ${f.window} unacked, content ${f.size} B; A this process, B a child process`)
    }
    results.machine = { cores: availableParallelism(), loadAverageBefore: loadBefore, loadAverageAfter: loadavg()[0] }
    say(`\nmachine: ${results.machine.cores} cores; load average (1 min) ${loadBefore.toFixed(2)} before, ${results.machine.loadAverageAfter.toFixed(2)} after`)
    if (!human) process.stdout.write(JSON.stringify(results, null, 2) + '\n')
  })

function printRestTable (runs: RestResult[], apiAlone: HttpFigures): void {
  const rows: string[][] = [['what', 'rate', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx', 'errors', 'server CPU µs/req', 'main thread µs/req']]
  const add = (what: string, f: HttpFigures): void => { rows.push([what, fmtRate(f.rate), String(f.p50), String(f.p99), String(f.max), String(f.non2xx), String(f.errors), String(f.cpuUsPerRequest ?? '-'), String(f.mainThreadUsPerRequest ?? '-')]) }
  for (const r of runs) add(`POST /agents/echo/messages (INFORM, 202), ${r.durable ? 'durable' : 'not durable'}`, r.post)
  add('the same POST, API alone (no message path)', apiAlone)
  for (const r of runs) add(`GET /health, ${r.durable ? 'durable' : 'not durable'}`, r.health)
  printRows(rows)
}

function printRows (rows: string[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map(row => row[i].length)))
  for (const row of rows) process.stdout.write(row.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join('  ') + '\n')
}

function printTable (r: Results): void {
  const rows: string[][] = [['what', 'rate', 'p50 ms', 'p99 ms']]
  const b = r.baseline
  if (b != null) {
    rows.push(['node:net one-way, 1 frame/write', fmtRate(b.oneWritePerMessage), '', ''])
    rows.push(['node:net one-way, 64 frames/write', fmtRate(b.batched64), '', ''])
    rows.push(['node:net round trips (window)', fmtRate(b.roundTrips), '', ''])
    rows.push(['node:net round trip, 1 in flight', '', b.latency.p50.toFixed(3), b.latency.p99.toFixed(3)])
  }
  const f = r.durableFloor
  if (f != null) {
    for (const [what, x] of [['a message', f.perMessage], ['a batch', f.perBatch]] as const) {
      rows.push([`floor: libp2p + LevelDB one-way, a row and an ack ${what}`, fmtRate(x.rate), '', ''])
      rows.push([`floor: CPU µs per message, A / B, a row and an ack ${what}`, `${x.cpuUsPerMessage.a.toFixed(1)} / ${x.cpuUsPerMessage.b.toFixed(1)}`, '', ''])
    }
  }
  const runs = [['durable', r], ['not durable', r.nonDurable]] as const
  for (const [mode, set] of runs) {
    if (set == null) continue
    for (const [name, x] of [['local', set.local], ['remote', set.remote]] as const) {
      if (x == null) continue
      rows.push([`caxton ${name} round trips (window), ${mode}`, fmtRate(x.roundTrips), x.loaded.p50.toFixed(3), x.loaded.p99.toFixed(3)])
      rows.push([`caxton ${name} messages delivered, ${mode}`, fmtRate(x.messages), '', ''])
      rows.push([`caxton ${name} round trip, 1 in flight, ${mode}`, '', x.latency.p50.toFixed(3), x.latency.p99.toFixed(3)])
    }
    const o = set.oneway
    if (o != null) {
      rows.push([`caxton one-way A → B handled, ${mode}`, fmtRate(o.handled), '', ''])
      rows.push([`caxton one-way accepted on A, ${mode}`, fmtRate(o.accepted), '', ''])
      rows.push([`caxton one-way CPU µs per message, A / B, ${mode}`, `${o.cpuUsPerMessage.a.toFixed(1)} / ${o.cpuUsPerMessage.b.toFixed(1)}`, '', ''])
    }
    const g = set.agents
    if (g != null) {
      rows.push([`caxton agents ping A ↔ echo B messages (2 per round trip), ${mode}`, fmtRate(g.messages), '', ''])
      rows.push([`caxton agents ping A ↔ echo B round trips, ${mode}`, fmtRate(g.roundTrips), '', ''])
      rows.push([`caxton agents CPU µs per message, A (ping) / B (echo), ${mode}`, `${g.cpuUsPerMessage.a.toFixed(1)} / ${g.cpuUsPerMessage.b.toFixed(1)}`, '', ''])
    }
  }
  printRows(rows)
}

await program.parseAsync()
