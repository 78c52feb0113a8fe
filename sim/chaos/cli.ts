/**
 * Chaos runs on real node processes, all on 127.0.0.1 (needs `npm run build`):
 *
 *   npm run chaos -- detect --nodes 20 --trials 5          # kill -9, time to dead at every survivor
 *   npm run chaos -- busy --nodes 5 --minutes 10           # false positives with the CPU kept busy
 *   npm run chaos -- delivery --nodes 5 --messages 100000 --faults kill,pause,partition --seed 1
 *                                                          # every message accounted for under faults
 *   npm run chaos -- requests --fault kill                  # 3 nodes, REQUESTs with ?wait= while echo's node is killed
 *
 * Progress on stderr; the result as a table, or JSON with `--json`, on stdout.
 */
import '../../src/polyfill.js'
import { Command, InvalidArgumentError, Option } from 'commander'
import { runBusy } from './busy.js'
import { runDetect } from './detect.js'
import { FAULT_KINDS, runDeliveryChaos, type FaultKind, type Tally } from './delivery.js'
import { runRequests } from './requests.js'

const positive = (name: string, min = 1) => (value: string): number => {
  const n = Number(value)
  if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${name} must be a number ≥ ${min}`)
  return n
}

const progress = (line: string): void => { process.stderr.write(line + '\n') }
const preset = new Option('--preset <preset>', 'node preset (membership timings)').choices(['local', 'lan', 'wan']).default('lan')

const program = new Command('chaos')
  .description('chaos runs of Caxton membership on real node processes (loopback)')

program.command('detect')
  .description('kill -9 one member per trial; time until the first and until every survivor marks it dead')
  .option('--nodes <n>', 'node processes', positive('--nodes', 3), 20)
  .option('--trials <n>', 'crashes, one at a time (the victim is restarted between trials)', positive('--trials'), 5)
  .addOption(preset)
  .option('--json', 'the report as JSON')
  .action(async (opts: { nodes: number, trials: number, preset: 'local' | 'lan' | 'wan', json?: boolean }) => {
    const r = await runDetect({ nodes: opts.nodes, trials: opts.trials, preset: opts.preset, log: progress })
    if (opts.json === true) {
      process.stdout.write(JSON.stringify(r, null, 2) + '\n')
      return
    }
    process.stdout.write([
      `crash detection, ${r.nodes} node processes, preset ${r.preset}, ${r.trials.length} trials (${Math.round(r.wallMs / 1000)} s)`,
      `  dead at every survivor:   p50 ${r.allMs.p50} ms   p99 ${r.allMs.p99} ms   max ${r.allMs.max} ms`,
      `  dead at the first one:    p50 ${r.firstMs.p50} ms   p99 ${r.firstMs.p99} ms`,
      `  back everywhere after a restart: p50 ${r.rejoinMs.p50} ms   max ${r.rejoinMs.max} ms`,
      `  other members declared dead (false positives): ${r.otherDeaths}`,
      ''
    ].join('\n'))
  })

program.command('busy')
  .description('run nodes beside CPU burners; count members declared dead (all are false positives)')
  .option('--nodes <n>', 'node processes', positive('--nodes', 2), 5)
  .option('--minutes <m>', 'how long to watch', positive('--minutes', 0.1), 10)
  .option('--burners <n>', 'busy-looping processes (default: one per core)', positive('--burners', 0))
  .addOption(preset)
  .option('--json', 'the report as JSON')
  .action(async (opts: { nodes: number, minutes: number, burners?: number, preset: 'local' | 'lan' | 'wan', json?: boolean }) => {
    const r = await runBusy({ nodes: opts.nodes, minutes: opts.minutes, burners: opts.burners, preset: opts.preset, log: progress })
    if (opts.json === true) {
      process.stdout.write(JSON.stringify(r, null, 2) + '\n')
      return
    }
    process.stdout.write([
      `${r.nodes} nodes, preset ${r.preset}, ${r.burners} CPU burners, ${r.minutes} min`,
      `  false positives (members declared dead): ${r.falseDeaths}${r.deaths.map(d => `\n    ${d.node} declared ${d.member} dead at ${Math.round(d.atMs / 1000)} s`).join('')}`,
      `  suspicions raised: ${r.suspicions}, refuted by the member: ${r.falseSuspicions}; refutations: ${r.refutations}`,
      `  probes: ${r.probes}; samples with a member not alive somewhere: ${r.samplesNotAllAlive}/${r.samples}`,
      `  highest local health score: ${r.maxHealthScore}; highest event-loop delay sampled: ${r.maxEventLoopDelayMs} ms`,
      ''
    ].join('\n'))
  })

program.command('requests')
  .description('3 nodes, echo on the third; REQUESTs with ?wait= through the first while the third is killed (restarted 2 s later) or paused')
  .addOption(new Option('--fault <kind>', 'what happens to the third node').choices(['kill', 'pause']).default('kill'))
  .option('--requests <n>', 'REQUESTs sent', positive('--requests'), 3000)
  .option('--window <n>', 'in flight', positive('--window'), 64)
  .option('--wait <ms>', '?wait= of each request', positive('--wait', 100), 30_000)
  .option('--pause <ms>', 'how long a paused node stays stopped', positive('--pause', 100), 10_000)
  .option('--json', 'the report as JSON')
  .action(async (opts: { fault: 'kill' | 'pause', requests: number, window: number, wait: number, pause: number, json?: boolean }) => {
    const r = await runRequests({ fault: opts.fault, requests: opts.requests, window: opts.window, waitMs: opts.wait, pauseMs: opts.pause, log: progress })
    if (opts.json === true) {
      process.stdout.write(JSON.stringify(r, null, 2) + '\n')
    } else {
      process.stdout.write([
        `${r.requests} REQUESTs, ${opts.fault} of the echo node a third of the way in (${Math.round(r.wallMs / 1000)} s)`,
        ...Object.entries(r.answers).sort((x, y) => y[1] - x[1]).map(([k, n]) => `  ${k}: ${n}`),
        `  latency of answered requests: p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms`,
        ''
      ].join('\n'))
    }
    if ((r.answers.INFORM ?? 0) !== r.requests) process.exitCode = 1
  })

const faultList = (value: string): FaultKind[] => {
  const kinds = value.split(',').map(s => s.trim()).filter(s => s !== '' && s !== 'none')
  for (const k of kinds) if (!(FAULT_KINDS as readonly string[]).includes(k)) throw new InvalidArgumentError(`unknown fault "${k}" (use ${FAULT_KINDS.join(', ')} or none)`)
  return kinds as FaultKind[]
}

program.command('delivery')
  .description('send messages between agents on several nodes while nodes are killed, paused and cut off; account for every message')
  .option('--nodes <n>', 'node processes', positive('--nodes', 2), 5)
  .option('--messages <n>', 'message chains to start (REST requests)', positive('--messages'), 10_000)
  .option('--faults <list>', `faults, comma-separated: ${FAULT_KINDS.join(', ')}, or none`, faultList, [...FAULT_KINDS])
  .option('--seed <n>', 'seed of the choices (receivers, victims)', positive('--seed', 0), 1)
  .option('--window <n>', 'REST requests in flight', positive('--window'), 32)
  .option('--fault-every <ms>', 'time between two faults', positive('--fault-every', 100), 4000)
  .option('--pause <ms>', 'how long a paused node stays stopped (longer than the suspicion timeout)', positive('--pause', 100), 8000)
  .option('--json', 'the report as JSON')
  .action(async (opts: { nodes: number, messages: number, faults: FaultKind[], seed: number, window: number, faultEvery: number, pause: number, json?: boolean }) => {
    const r = await runDeliveryChaos({
      nodes: opts.nodes, messages: opts.messages, faults: opts.faults, seed: opts.seed, window: opts.window,
      faultEveryMs: opts.faultEvery, pauseMs: opts.pause, log: progress
    })
    if (opts.json === true) {
      process.stdout.write(JSON.stringify(r, null, 2) + '\n')
    } else {
      const row = (name: string, t: Tally): string =>
        `  ${name.padEnd(22)} ${String(t.sent).padStart(8)} ${String(t.handled).padStart(8)} ${String(t.duplicated).padStart(6)} ${String(t.lost).padStart(6)} ${String(t.deadLettered).padStart(6)} ${String(t.failureDelivered).padStart(8)} ${String(t.handledAndDeadLettered).padStart(6)}`
      process.stdout.write([
        `delivery chaos: ${r.nodes} nodes, seed ${r.seed}, ${r.faults.length} faults (${r.faults.map(f => `${f.kind} ${f.victim}`).join(', ') || 'none'}), ${Math.round(r.wallMs / 1000)} s`,
        `  requests: ${r.requests.made} made, ${r.requests.accepted} accepted (202) at ${r.acceptedPerSec}/s, ${r.requests.unacknowledged} unacknowledged (${r.requests.unacknowledgedButHandled} of them handled anyway)`,
        `  ${'hops'.padEnd(22)} ${'sent'.padStart(8)} ${'handled'.padStart(8)} ${'dup'.padStart(6)} ${'lost'.padStart(6)} ${'dead'.padStart(6)} ${'FAILURE'.padStart(8)} ${'both'.padStart(6)}`,
        row('all', r.total),
        row('REST → agent', r.byHop.rest),
        row('relay → sink', r.byHop.relay),
        ...Object.entries(r.byFault).map(([f, t]) => row(`during ${f}`, t)),
        ...(r.examples.lost.length > 0 ? ['  lost, e.g.:', ...r.examples.lost.map(e => `    ${e}`)] : []),
        ...(r.examples.duplicated.length > 0 ? ['  duplicated, e.g.:', ...r.examples.duplicated.map(e => `    ${e}`)] : []),
        ''
      ].join('\n'))
    }
    if (r.total.lost > 0 || r.total.duplicated > 0) process.exitCode = 1
  })

await program.parseAsync(process.argv)
