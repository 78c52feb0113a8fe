/**
 * The registry simulator's commands, mounted by `sim/cli.ts`:
 *
 *   npm run sim -- registry heal  [--nodes 10] [--agents 10000] [--deploys 500] [--removals 500] ...
 *   npm run sim -- registry scale [--nodes 1000] [--agents 1000] ...
 *   npm run sim -- registry calibrate
 *
 * A table on stdout (or the JSON report with `--json`), a progress bar on stderr.
 */
import { Command, InvalidArgumentError } from 'commander'
import cliProgress from 'cli-progress'
import Table from 'cli-table3'
import { performance } from 'node:perf_hooks'
import { REGISTRY_TIMING, Registry, decodeGossip, encodeDelta, decodeDelta, encodeGossip } from '../../protocols/registry/index.js'
import { defaultOptions, runRegistrySim, type RegistrySimOptions, type RegistrySimReport } from './runner.js'
import { measureEd25519, simSigning } from './signing.js'

function int (name: string, min: number) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`)
    return n
  }
}

function positive (name: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`)
    return n
  }
}

interface Common {
  nodes?: number
  agents?: number
  seed: number
  preset: 'local' | 'lan' | 'wan'
  antiEntropyMs?: number
  links?: number
  mesh?: number
  bandwidthMbps?: number
  latencyMs?: number
  detectMs?: number
  reconnectMs?: number
  steadyMs?: number
  settleMs?: number
  perByteUs?: number
  perMessageUs?: number
  signUs?: number
  verifyUs?: number
  shortIds?: boolean
  buckets?: number
  convergeTimeoutMs?: number
  json?: boolean
  progress: boolean
}

function withCommon (cmd: Command): Command {
  return cmd
    .option('-n, --nodes <n>', 'cluster size', int('nodes', 2))
    .option('-a, --agents <n>', 'agents live at the start, spread over the nodes', int('agents', 0))
    .option('--seed <n>', 'random seed (same seed → same run)', int('seed', 0), 1)
    .option('--preset <name>', 'registry timing preset: local, lan or wan', 'lan')
    .option('--anti-entropy-ms <ms>', 'anti-entropy period (overrides the preset)', int('anti-entropy-ms', 0))
    .option('--links <n>', 'connections per node (random graph; ≥ nodes-1 is a full mesh)', int('links', 1))
    .option('--mesh <n>', 'gossip mesh degree (gossipsub D)', int('mesh', 1))
    .option('--bandwidth-mbps <n>', 'egress bandwidth per node, Mbit/s (default 1000)', positive('bandwidth-mbps'))
    .option('--latency-ms <ms>', 'median one-way latency, ms (lognormal, sigma 0.5; default 0.5)', positive('latency-ms'))
    .option('--detect-ms <ms>', 'delay until a cut is noticed (connections closed), ms (default 2000)', int('detect-ms', 0))
    .option('--reconnect-ms <ms>', 'delay from the heal until connections are back, ms (default 500)', int('reconnect-ms', 0))
    .option('--steady-ms <ms>', 'virtual time measured in steady state at the end, ms (default 60000)', int('steady-ms', 0))
    .option('--settle-ms <ms>', 'virtual time run unmeasured before the steady state, ms (default 2 anti-entropy intervals)', int('settle-ms', 0))
    .option('--per-byte-us <us>', 'CPU cost per received byte, µs (default 0.2, see calibrate)', positive('per-byte-us'))
    .option('--per-message-us <us>', 'CPU cost per received message, µs (default 10)', positive('per-message-us'))
    .option('--sign-us <us>', 'CPU cost of signing a write, µs (default 27, Ed25519: see calibrate)', positive('sign-us'))
    .option('--verify-us <us>', 'CPU cost of checking a version\'s signature, µs (default 71, Ed25519: see calibrate)', positive('verify-us'))
    .option('--short-ids', 'node ids n0, n1… instead of 52-character PeerIds (smaller clocks and frames)')
    .option('--converge-timeout-ms <ms>', 'give up waiting for identical digests after this long, virtual ms (default 300000)', int('converge-timeout-ms', 1))
    .option('--buckets <n>', 'digest buckets, cluster-wide (default 256, the CRDT\'s default)', int('buckets', 1))
    .option('--json', 'print the JSON report on stdout instead of the table')
    .option('--no-progress', 'no progress bar on stderr')
}

function build (c: Common, extra: Partial<RegistrySimOptions>): RegistrySimOptions {
  if (!['local', 'lan', 'wan'].includes(c.preset)) throw new InvalidArgumentError('--preset must be local, lan or wan')
  const o = { ...defaultOptions(), ...extra }
  o.timing = { ...REGISTRY_TIMING[c.preset] }
  if (c.antiEntropyMs !== undefined) o.timing.antiEntropyIntervalMs = c.antiEntropyMs
  if (c.nodes !== undefined) o.nodes = c.nodes
  if (c.agents !== undefined) o.agents = c.agents
  o.seed = c.seed
  if (c.links !== undefined) o.links = c.links
  if (c.mesh !== undefined) o.gossip = { ...o.gossip, meshDegree: c.mesh }
  if (c.bandwidthMbps !== undefined) o.model = { ...o.model, bandwidthBytesPerMs: c.bandwidthMbps * 125 }
  if (c.latencyMs !== undefined) o.latency = { type: 'lognormal', medianMs: c.latencyMs, sigma: 0.5 }
  if (c.detectMs !== undefined) o.detectMs = c.detectMs
  if (c.reconnectMs !== undefined) o.reconnectMs = c.reconnectMs
  if (c.steadyMs !== undefined) o.steadyMs = c.steadyMs
  if (c.settleMs !== undefined) o.settleMs = c.settleMs
  if (c.perByteUs !== undefined) o.model = { ...o.model, perByteUs: c.perByteUs }
  if (c.perMessageUs !== undefined) o.model = { ...o.model, perMessageUs: c.perMessageUs }
  if (c.signUs !== undefined) o.model = { ...o.model, signUs: c.signUs }
  if (c.verifyUs !== undefined) o.model = { ...o.model, verifyUs: c.verifyUs }
  if (c.shortIds === true) o.ids = 'short'
  if (c.buckets !== undefined) o.bucketCount = c.buckets
  if (c.convergeTimeoutMs !== undefined) o.convergeTimeoutMs = c.convergeTimeoutMs
  return o
}

function run (o: RegistrySimOptions, c: Common, label: string): RegistrySimReport {
  const bar = c.progress
    ? new cliProgress.SingleBar({ stream: process.stderr, format: `${label} | {phase} t={vt}s | {events} events`, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic)
    : undefined
  bar?.start(1, 0, { phase: 'starting', vt: 0, events: 0 })
  let n = 0
  const report = runRegistrySim({ ...o, onProgress: p => { bar?.update(0, { phase: p.phase, vt: Math.round(p.now / 1000), events: ++n }) } })
  bar?.stop()
  return report
}

const kb = (b: number): string => b >= 1e9
  ? `${(b / 1e9).toPrecision(3)} GB`
  : b >= 1e6 ? `${(b / 1e6).toPrecision(3)} MB` : b >= 1e3 ? `${(b / 1e3).toPrecision(3)} kB` : `${Math.round(b)} B`
const secs = (ms: number | null): string => ms === null ? 'did not converge' : `${(ms / 1000).toFixed(3)} s`
const both = (c: RegistrySimReport['healConvergence'], timeoutMs: number): string => c === null
  ? '-'
  : `${secs(c.viewMs)} (identical digests: ${c.digestMs === null ? `not within ${timeoutMs / 1000} s` : secs(c.digestMs)})`

function print (o: RegistrySimOptions, r: RegistrySimReport): void {
  const head = `registry sim: ${r.nodes} nodes, ${r.agentsAtEnd} agents at the end, seed ${r.seed}, anti-entropy every ${o.timing.antiEntropyIntervalMs} ms, ` +
    `${o.links >= o.nodes - 1 ? 'full mesh' : `${o.links} links/node`}, gossip D=${o.gossip.meshDegree}, ${o.model.bandwidthBytesPerMs / 125} Mbit/s, ` +
    `CPU ${o.model.perMessageUs} µs/msg + ${o.model.perByteUs} µs/B, sign ${o.model.signUs} µs, verify ${o.model.verifyUs} µs, ${o.bucketCount} buckets`
  const t = new Table({ style: { head: [], border: [] } })
  if (!o.preload) t.push({ 'same registry on every node, from the last deploy': both(r.initialConvergence, o.convergeTimeoutMs) })
  if (o.partition !== undefined) {
    t.push({ 'same registry on every node, from the heal': both(r.healConvergence, o.convergeTimeoutMs) })
    if (r.healBytes !== null) t.push({ 'bytes moved to converge': `${kb(r.healBytes.total)} in total, busiest node ${kb(r.healBytes.maxNode)}, ${r.healBytes.syncExchanges} exchanges ` +
      `(${r.healBytes.refusedAtCap} refused at the cap, ${r.healBytes.connectRetries} reconnection retries)` })
  }
  for (const [name, p] of Object.entries(r.phases)) {
    t.push({ [`bytes/node/s, ${name} (${(p.ms / 1000).toFixed(1)} s)`]: `${kb(p.bytesPerNodePerSec)}/s (gossip ${kb(p.gossipBytesPerNodePerSec)}, sync ${kb(p.syncBytesPerNodePerSec)}); busiest ${kb(p.maxBytesPerNodePerSec)}/s` })
  }
  t.push({ 'every replica correct (no removed agent back)': r.correct ? 'yes' : `NO: ${r.mismatches.join('; ')}` })
  t.push({ 'tombstones held at the end (all nodes)': String(r.tombstonesAtEnd) })
  t.push({ 'wall time, events, trace': `${(r.wallMs / 1000).toFixed(1)} s, ${r.events}, ${r.traceHash}` })
  process.stdout.write(`${head}\n${t.toString()}\n`)
}

/** `registry heal|scale|calibrate`, for `sim/cli.ts` to mount. */
export function registryCommand (): Command {
  const program = new Command('registry')
    .description('The cluster registry (the CRDT, the replica and sessions of src/registry, the sync policy of protocols/registry) on the simulated network, in virtual time.')
    .showHelpAfterError()

  withCommon(program.command('heal'))
    .description('Partition the cluster in two halves, change both sides, heal; time until every replica is equal.')
    .option('--deploys <n>', 'agents deployed on each side during the partition', int('deploys', 0), 500)
    .option('--removals <n>', 'agents removed on each side during the partition', int('removals', 0), 500)
    .option('--updates <n>', 'state changes on each side during the partition', int('updates', 0), 500)
    .option('--partition-ms <ms>', 'how long the partition lasts', int('partition-ms', 1), 30_000)
    .addHelpText('after', `
Examples:
  npm run sim -- registry heal --nodes 10 --agents 10000
  npm run sim -- registry heal --nodes 10 --agents 0 --deploys 5000 --removals 0 --updates 0   # 10,000 agents all new on heal
  npm run sim -- registry heal --nodes 100 --agents 10000 --links 20 --json`)
    .action((c: Common & { deploys: number, removals: number, updates: number, partitionMs: number }) => {
      const o = build(c, {})
      o.partition = { atMs: 1000, durationMs: c.partitionMs, deploys: c.deploys, removals: c.removals, updates: c.updates }
      const r = run(o, c, `heal N=${o.nodes}`)
      if (c.json === true) process.stdout.write(JSON.stringify({ options: { ...o, onProgress: undefined }, report: r }, null, 2) + '\n')
      else print(o, r)
      if (!r.correct || r.healConvergence?.viewMs == null) process.exitCode = 1
    })

  withCommon(program.command('scale'))
    .description('Start N empty nodes, deploy agents over a window, time until every replica holds all of them; then steady state.')
    .option('--spread-ms <ms>', 'window over which the agents are deployed', int('spread-ms', 0), 5000)
    .option('--partition', 'then also cut the cluster in half, change both sides (1% of the agents each) and heal')
    .addHelpText('after', `
Examples:
  npm run sim -- registry scale --nodes 1000 --agents 1000
  npm run sim -- registry scale --nodes 1000 --agents 2000 --partition --short-ids`)
    .action((c: Common & { spreadMs: number, partition?: boolean }) => {
      const o = build(c, { preload: false, agents: 1000, nodes: 1000 })
      if (c.nodes !== undefined) o.nodes = c.nodes
      if (c.agents !== undefined) o.agents = c.agents
      o.deploySpreadMs = c.spreadMs
      if (c.partition === true) {
        const k = Math.max(1, Math.round(o.agents / 100))
        o.partition = { atMs: 1000, durationMs: 30_000, deploys: k, removals: k, updates: k }
      }
      const r = run(o, c, `scale N=${o.nodes}`)
      if (c.json === true) process.stdout.write(JSON.stringify({ options: { ...o, onProgress: undefined }, report: r }, null, 2) + '\n')
      else print(o, r)
      if (!r.correct || r.initialConvergence?.viewMs == null) process.exitCode = 1
    })

  program.command('calibrate')
    .description('Measure this machine\'s CPU cost of decoding and merging registry messages, and of Ed25519 signing and checking (the model\'s --per-byte-us, --per-message-us, --sign-us, --verify-us).')
    .action(async () => {
      const N = 5000
      let result = { perByte: 0, perMessage: 0, gossipMs: 0, bulkMs: 0, small: 0, bulk: 0 }
      // the first round warms the JIT up; the second is reported
      for (let round = 0; round < 2; round++) {
        const writerId = `12D3KooWCalibrationWriter${round}xxxxxxxxxxxxxxxxxxxxxxxxx`
        const writer = new Registry({ nodeId: writerId, signing: simSigning(writerId) })
        const deltas: Uint8Array[] = []
        for (let i = 0; i < N; i++) {
          const u = writer.apply({ type: 'put', agentId: `agent-${i}`, node: writer.nodeId, state: 'running', capabilities: [{ name: `cap-${i % 10}` }] }, 1_700_000_000_000 + i)
          deltas.push(encodeGossip({ type: 'delta', delta: u.delta! }))
        }
        const small = deltas.reduce((n, d) => n + d.byteLength, 0)
        let t0 = performance.now()
        const r1 = new Registry({ nodeId: 'r1', signing: simSigning('r1') })
        for (const d of deltas) {
          const m = decodeGossip(d)
          if (m.type === 'delta') r1.merge(m.delta, { now: 1_700_000_010_000, from: writer.nodeId })
        }
        const gossipMs = performance.now() - t0
        const snap = encodeDelta(writer.snapshot())
        t0 = performance.now()
        const r2 = new Registry({ nodeId: 'r2', signing: simSigning('r2') })
        r2.merge(decodeDelta(snap), { now: 1_700_000_010_000, from: writer.nodeId })
        const bulkMs = performance.now() - t0
        const perByte = bulkMs * 1000 / snap.byteLength
        result = { perByte, perMessage: Math.max(0, (gossipMs * 1000 - perByte * small) / N), gossipMs, bulkMs, small, bulk: snap.byteLength }
      }
      const r = result
      process.stdout.write(`gossip: ${N} deltas of ${(r.small / N).toFixed(0)} B, decoded and merged in ${r.gossipMs.toFixed(0)} ms (${(r.gossipMs * 1000 / N).toFixed(1)} µs each)\n`)
      process.stdout.write(`bulk: one ${(r.bulk / 1e6).toFixed(2)} MB reply of ${N} entries, decoded and merged in ${r.bulkMs.toFixed(0)} ms\n`)
      const ed = await measureEd25519()
      process.stdout.write(`Ed25519 (node:crypto): sign ${ed.signUs.toFixed(1)} µs, verify ${ed.verifyUs.toFixed(1)} µs (${ed.verifyColdUs.toFixed(1)} µs with the writer's key not cached)\n`)
      process.stdout.write(`model: --per-byte-us ${r.perByte.toFixed(3)} --per-message-us ${r.perMessage.toFixed(1)} --sign-us ${ed.signUs.toFixed(0)} --verify-us ${ed.verifyUs.toFixed(0)}\n`)
    })
  return program
}
