/**
 * `npm run bench -- [all|local|remote|baseline] [--messages N] [--size BYTES] [--window N] [--json]`
 *
 * Prints Caxton's message rates and latencies beside a raw `node:net` baseline measured
 * in the same run (sim/bench/baseline.ts). Needs the build (`npm run build`) for the
 * echo agent and the node binary.
 */
import '../../src/polyfill.js'
import { existsSync } from 'node:fs'
import { Command, Option } from 'commander'
import { measureBaseline, type BaselineResult } from './baseline.js'
import { benchLocal, benchRemote, ECHO_WASM, type RoundTripResult } from './caxton.js'
import { fmtRate } from './stats.js'

interface Options { messages: number, size: number, window: number, json?: boolean }

const program = new Command('bench')
  .description('Caxton message benchmarks, each beside a raw node:net baseline from the same run')
  .addOption(new Option('--messages <n>', 'round trips per measurement').default(20_000).argParser(Number))
  .addOption(new Option('--size <bytes>', 'message content size, bytes').default(200).argParser(Number))
  .addOption(new Option('--window <n>', 'requests in flight').default(256).argParser(Number))
  .option('--json', 'print the results as one JSON object')
  .argument('[which]', 'all | local | remote | baseline', 'all')
  .action(async (which: string, opts: Options) => {
    if (!['all', 'local', 'remote', 'baseline'].includes(which)) program.error(`unknown benchmark "${which}": use all, local, remote or baseline`)
    if (which !== 'baseline' && !existsSync(ECHO_WASM)) program.error(`${ECHO_WASM} is missing: run "npm run build" first`)
    const results: { config: Options, baseline?: BaselineResult, local?: RoundTripResult, remote?: RoundTripResult } = { config: { messages: opts.messages, size: opts.size, window: opts.window } }
    const say = (t: string): void => { if (opts.json !== true) process.stderr.write(t + '\n') }
    say(`messages: ${opts.messages} round trips, content ${opts.size} B, window ${opts.window}`)
    say('measuring raw node:net baseline ...')
    results.baseline = await measureBaseline(opts)
    if (which === 'all' || which === 'local') { say('measuring local routing (router → echo agent → router) ...'); results.local = await benchLocal(opts) }
    if (which === 'all' || which === 'remote') { say('measuring remote delivery (node A → node B echo → node A) ...'); results.remote = await benchRemote(opts) }
    if (opts.json === true) {
      process.stdout.write(JSON.stringify(results, null, 2) + '\n')
    } else {
      printTable(results)
    }
  })

function printTable (r: { baseline?: BaselineResult, local?: RoundTripResult, remote?: RoundTripResult }): void {
  const rows: string[][] = [['what', 'rate', 'p50 ms', 'p99 ms']]
  const b = r.baseline
  if (b != null) {
    rows.push(['node:net one-way, 1 frame/write', fmtRate(b.oneWritePerMessage), '', ''])
    rows.push(['node:net one-way, 64 frames/write', fmtRate(b.batched64), '', ''])
    rows.push(['node:net round trips (window)', fmtRate(b.roundTrips), '', ''])
    rows.push(['node:net round trip, 1 in flight', '', b.latency.p50.toFixed(3), b.latency.p99.toFixed(3)])
  }
  for (const [name, x] of [['local', r.local], ['remote', r.remote]] as const) {
    if (x == null) continue
    rows.push([`caxton ${name} round trips (window)`, fmtRate(x.roundTrips), x.loaded.p50.toFixed(3), x.loaded.p99.toFixed(3)])
    rows.push([`caxton ${name} messages delivered`, fmtRate(x.messages), '', ''])
    rows.push([`caxton ${name} round trip, 1 in flight`, '', x.latency.p50.toFixed(3), x.latency.p99.toFixed(3)])
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map(row => row[i].length)))
  for (const row of rows) process.stdout.write(row.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join('  ') + '\n')
}

await program.parseAsync()
