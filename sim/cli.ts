/**
 * The simulator's command line: `npm run sim -- swim --scenario crash --nodes 1000 --seed 7`,
 * `npm run sim -- registry heal --nodes 10 --agents 10000` (sim/registry/command.ts).
 * Human output (a table) on stdout, or the JSON report with `--json`; a progress bar on
 * stderr; `--out dir` writes the JSON report and SVG plots.
 */
import '../src/polyfill.js'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command, InvalidArgumentError } from 'commander'
import cliProgress from 'cli-progress'
import Table from 'cli-table3'
import { registryCommand } from './registry/command.js'
import { sweepSvg, trialSvg } from './swim/plots.js'
import { summarize } from './swim/report.js'
import type { RunReport } from './swim/report.js'
import { runTrial } from './swim/runner.js'
import type { RunProgress, TrialResult } from './swim/runner.js'
import { ScenarioError, loadScenario, parseScenario } from './swim/scenario.js'
import type { Scenario } from './swim/scenario.js'

const SCENARIO_DIR = fileURLToPath(new URL('./scenarios/', import.meta.url))

function int (name: string, min: number) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`)
    return n
  }
}

function fraction (value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a number in [0, 1]')
  return n
}

function sizes (value: string): number[] {
  const list = value.split(',').map((s) => Number(s.trim()))
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 2)) throw new InvalidArgumentError('expected a comma-separated list of integers ≥ 2')
  return list
}

async function scenarioNames (): Promise<string[]> {
  const files = await readdir(SCENARIO_DIR)
  return files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort()
}

async function resolveScenario (nameOrPath: string): Promise<Scenario> {
  const names = await scenarioNames()
  if (names.includes(nameOrPath)) return await loadScenario(join(SCENARIO_DIR, `${nameOrPath}.json`))
  if (nameOrPath.endsWith('.json')) return await loadScenario(resolve(nameOrPath))
  throw new ScenarioError(nameOrPath, `no such scenario; known: ${names.join(', ')} (or pass a .json file)`)
}

interface SwimOptions {
  scenario: string
  nodes?: number
  seed?: number
  trials?: number
  duration?: number
  loss?: number
  preset?: 'lan' | 'wan' | 'local'
  sweep?: number[]
  snapshot?: boolean
  shortIds?: boolean
  json?: boolean
  out?: string
  progress: boolean
}

function applyOverrides (base: Scenario, o: SwimOptions): Scenario {
  const raw: Record<string, unknown> = structuredClone(base)
  if (o.nodes !== undefined) { raw.nodes = o.nodes; delete raw.sweep }
  if (o.seed !== undefined) raw.seed = o.seed
  if (o.trials !== undefined) raw.trials = o.trials
  if (o.duration !== undefined) raw.durationMs = o.duration
  if (o.preset !== undefined) raw.preset = o.preset
  if (o.loss !== undefined) (raw.network as Record<string, unknown>).loss = o.loss
  if (o.sweep !== undefined) raw.sweep = { nodes: o.sweep }
  if (o.snapshot === true) (raw.join as Record<string, unknown>).mode = 'snapshot'
  if (o.shortIds === true) raw.ids = 'short'
  return parseScenario(raw, `${base.name} (with command-line overrides)`)
}

function fmt (x: number | null, unit = ''): string {
  return x === null ? '-' : `${Number(x.toPrecision(4))}${unit}`
}

function printSummary (report: RunReport): void {
  const table = new Table({
    head: ['N', 'trials', 'join conv. p50', 'detect p50', 'detect p99', 'heal p50', 'false pos.', 'dead while stalled', 'false accus.', 'msgs/member/s', 'B/member/s', 'wall/trial'],
    style: { head: [], border: [] }
  })
  for (const r of report.runs) {
    const s = r.summary
    table.push([
      r.nodes,
      s.trials,
      fmt(s.joinConvergenceMs.p50 === null ? null : s.joinConvergenceMs.p50 / 1000, ' s') + (s.joinConvergenceMs.failed > 0 ? ` (${s.joinConvergenceMs.failed} failed)` : ''),
      fmt(s.detectionMs.p50 === null ? null : s.detectionMs.p50 / 1000, ' s'),
      fmt(s.detectionMs.p99 === null ? null : s.detectionMs.p99 / 1000, ' s') + (s.detectionMs.undetected > 0 ? ` (${s.detectionMs.undetected} undetected)` : ''),
      fmt(s.healMs.p50 === null ? null : s.healMs.p50 / 1000, ' s'),
      s.falsePositives,
      s.deathsWhilePaused,
      s.falseAccusations,
      fmt(s.msgsPerMemberPerSec),
      fmt(s.bytesPerMemberPerSec),
      fmt(s.wallMs.mean === null ? null : s.wallMs.mean / 1000, ' s')
    ])
  }
  process.stdout.write(`scenario ${report.scenario.name} (seed ${report.scenario.seed}, preset ${report.scenario.preset})\n${table.toString()}\n`)
}

async function runSwim (o: SwimOptions): Promise<void> {
  const scenario = applyOverrides(await resolveScenario(o.scenario), o)
  const sizesToRun = scenario.sweep?.nodes ?? [scenario.nodes]
  const bar = o.progress
    ? new cliProgress.SingleBar({
      stream: process.stderr,
      format: '{label} |{bar}| {percentage}% | {phase} t={vt}s',
      hideCursor: true,
      clearOnComplete: true
    }, cliProgress.Presets.shades_classic)
    : undefined
  const report: RunReport = { scenario, runs: [] }
  for (const nodes of sizesToRun) {
    const sized = parseScenario({ ...scenario, nodes, sweep: undefined }, scenario.name)
    const trials: TrialResult[] = []
    for (let t = 0; t < sized.trials; t++) {
      const label = `N=${nodes} trial ${t + 1}/${sized.trials}`
      bar?.start(1, 0, { label, phase: 'joining', vt: 0 })
      const onProgress = bar === undefined
        ? undefined
        : (p: RunProgress): void => {
            bar.setTotal(Math.max(1, Math.round(p.total / 1000)))
            bar.update(Math.round(p.now / 1000), { label, phase: p.phase, vt: Math.round(p.now / 1000) })
          }
      trials.push(runTrial(sized, t, { onProgress }))
      bar?.stop()
    }
    report.runs.push({ nodes, summary: summarize(trials), trials })
  }
  if (o.out !== undefined) {
    const dir = resolve(o.out)
    await mkdir(dir, { recursive: true })
    const base = `${scenario.name}-seed${scenario.seed}`
    await writeFile(join(dir, `${base}.json`), JSON.stringify(report, null, 2))
    for (const r of report.runs) {
      const first = r.trials[0]
      if (first !== undefined) await writeFile(join(dir, `${base}-n${r.nodes}.svg`), trialSvg(`${scenario.name} N=${r.nodes}`, first))
    }
    if (report.runs.length > 1) await writeFile(join(dir, `${base}-sweep.svg`), sweepSvg(report))
    process.stderr.write(`wrote ${dir}/${base}.json and plots\n`)
  }
  if (o.json === true) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n')
  } else {
    printSummary(report)
  }
}

const program = new Command()
  .name('npm run sim --')
  .description('Discrete-event simulations of Caxton protocols in virtual time (seeded, replayable).')
  .showHelpAfterError()

program.command('swim')
  .description('Run the real protocols/swim code for N members on a simulated network.')
  .option('-s, --scenario <name|file>', 'a scenario of sim/scenarios (see `list`) or a JSON file', 'crash')
  .option('-n, --nodes <n>', 'cluster size (overrides the scenario, disables its sweep)', int('nodes', 2))
  .option('--seed <n>', 'random seed (same seed → same run)', int('seed', 0))
  .option('-t, --trials <n>', 'independent trials with derived seeds', int('trials', 1))
  .option('-d, --duration <ms>', 'virtual time to run after join convergence, ms', int('duration', 1))
  .option('--loss <p>', 'datagram loss probability', fraction)
  .option('--preset <name>', 'protocols/swim config preset: lan, wan or local')
  .option('--sweep <sizes>', 'run once per cluster size, e.g. 100,250,500,1000', sizes)
  .option('--snapshot', 'start every node with the full member list (skip the join storm; for large N)')
  .option('--short-ids', 'member ids n0, n1... without addresses (less memory than PeerId-sized ids)')
  .option('--json', 'print the JSON report on stdout instead of the table')
  .option('-o, --out <dir>', 'write the JSON report and SVG plots to this directory')
  .option('--no-progress', 'no progress bar on stderr')
  .addHelpText('after', `
Examples:
  npm run sim -- swim --scenario crash --nodes 1000 --seed 7
  npm run sim -- swim --scenario scale-sweep --out sim-out
  npm run -s sim -- swim --scenario lossy-10pct --trials 5 --json > lossy.json`)
  .action(async (o: SwimOptions) => {
    if (o.preset !== undefined && !['lan', 'wan', 'local'].includes(o.preset)) throw new InvalidArgumentError('--preset must be lan, wan or local')
    await runSwim(o)
  })

program.addCommand(registryCommand())

program.command('list')
  .description('List the scenarios in sim/scenarios.')
  .action(async () => {
    for (const name of await scenarioNames()) {
      const s = await loadScenario(join(SCENARIO_DIR, `${name}.json`))
      process.stdout.write(`${name.padEnd(16)} ${s.description ?? ''}\n`)
    }
  })

try {
  await program.parseAsync(process.argv)
} catch (err) {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  process.stderr.write(`${message}\n`)
  process.exitCode = 1
}
