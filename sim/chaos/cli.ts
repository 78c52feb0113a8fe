/**
 * Chaos runs on real node processes, all on 127.0.0.1 (needs `npm run build`):
 *
 *   npm run chaos -- detect --nodes 20 --trials 5          # kill -9, time to dead at every survivor
 *   npm run chaos -- busy --nodes 5 --minutes 10           # false positives with the CPU kept busy
 *
 * Progress on stderr; the result as a table, or JSON with `--json`, on stdout.
 */
import '../../src/polyfill.js'
import { Command, InvalidArgumentError, Option } from 'commander'
import { runBusy } from './busy.js'
import { runDetect } from './detect.js'

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

await program.parseAsync(process.argv)
