/**
 * `npm run fuzz -- [targets...] [--runs N] [--seed S] [--json]`: every decoder of untrusted
 * bytes (sim/fuzz/targets.ts) fed random and mutated inputs; each must return or throw its
 * own named error. `rest` fuzzes the REST API of a node in this process (sim/fuzz/rest.ts;
 * needs `npm run build` for the echo agent), at a tenth of the runs (each is a request). Prints one line per target and exits 1 on any crash, naming the first
 * input that caused it (hex) so that it can be replayed.
 */
import '../../src/polyfill.js'
import { Argument, Command, InvalidArgumentError } from 'commander'
import { fuzzRest } from './rest.js'
import { FUZZ_TARGETS, fuzz, type FuzzResult } from './targets.js'

const positive = (name: string) => (value: string): number => {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`)
  return n
}


const program = new Command('fuzz')
  .description('fuzz every decoder of untrusted bytes: FIPA frames and messages, SWIM frames, registry gossip and sync frames, agent ABI, stored delivery records')
  .addArgument(new Argument('[targets...]', `targets (default: all): ${FUZZ_TARGETS.map(t => t.name).join('; ')}; rest; a word of a name selects it`))
  .option('--runs <n>', 'inputs per target', positive('--runs'), 100_000)
  .option('--seed <n>', 'fast-check seed (each target gets seed + its index)', positive('--seed'), 1)
  .option('--json', 'the results as JSON')
  .action(async (which: string[], opts: { runs: number, seed: number, json?: boolean }) => {
    const targets = which.length === 0 ? FUZZ_TARGETS : FUZZ_TARGETS.filter(t => which.some(w => t.name.includes(w)))
    const rest = which.length === 0 || which.includes('rest')
    if (targets.length === 0 && !rest) program.error(`no target matches ${which.join(', ')}`)
    const results: FuzzResult[] = []
    const report = (r: FuzzResult): void => {
      results.push(r)
      if (opts.json === true) return
      process.stdout.write(`${r.name.padEnd(40)} ${String(r.runs).padStart(9)} inputs  ${String(r.accepted).padStart(8)} accepted  ${String(r.rejected).padStart(9)} rejected by name  ${String(r.crashes).padStart(4)} crashes  ${(r.ms / 1000).toFixed(1)} s\n`)
      if (r.firstCrash !== undefined) process.stdout.write(`  first crash: ${r.firstCrash.error}\n  input: ${r.firstCrash.input}\n`)
    }
    for (const [i, t] of targets.entries()) {
      if (opts.json !== true) process.stderr.write(`fuzzing ${t.name} (${opts.runs} inputs) ...\n`)
      report(fuzz(t, opts.runs, opts.seed + i))
    }
    if (rest) {
      const runs = Math.max(1, Math.round(opts.runs / 10))
      if (opts.json !== true) process.stderr.write(`fuzzing the REST API (${runs} requests) ...\n`)
      report(await fuzzRest(runs, opts.seed + targets.length))
    }
    if (opts.json === true) process.stdout.write(JSON.stringify({ runs: opts.runs, seed: opts.seed, results }, null, 2) + '\n')
    if (results.some(r => r.crashes > 0)) process.exitCode = 1
  })

await program.parseAsync()
