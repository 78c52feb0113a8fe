/**
 * Launches real `caxton node start` processes (end-to-end tests, benchmarks, chaos runs), from the built CLI
 * (`dist/`, produced by `npm run build`, which `npm test` runs first).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'

const up2 = resolve(import.meta.dirname, '..', '..')
/** The repository root, whether this file runs from `sim/cluster/` (tsx) or `dist/sim/cluster/`. */
export const ROOT = basename(up2) === 'dist' ? resolve(up2, '..') : up2
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js')

export interface NodeReady {
  peerId: string
  multiaddrs: string[]
  api: string
}

export interface NodeProcess extends NodeReady {
  name: string
  dataDir: string
  /** The node's admin token (from `<dataDir>/admin.token`). */
  token: string
  child: ChildProcess
  /** stderr lines so far (JSON logs), for failure messages. */
  logs: string[]
  /** SIGTERM, then wait for the exit (bounded); returns the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
}

export function assertBuilt (): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does it)`)
}

export function tempDataDir (name: string): string {
  return join(mkdtempSync(join(tmpdir(), 'caxton-e2e-')), name)
}

export interface StartNodeProcessOptions { name: string, dataDir?: string, join?: string[], args?: string[], timeoutMs?: number, env?: Record<string, string>, nodeArgs?: string[] }

/**
 * How long a node may take to print its ready line, ms: a cold start alone takes 3.5-4.5 s
 * on the 2-core machine, four at once 10.4-13.6 s.
 */
const READY_TIMEOUT_MS = 30_000

/**
 * Starts a node on loopback (libp2p and API on free ports) and resolves when it prints its
 * ready line (within `timeoutMs`, default {@link READY_TIMEOUT_MS}; the process is killed otherwise).
 */
export async function startNodeProcess (opts: StartNodeProcessOptions): Promise<NodeProcess> {
  assertBuilt()
  const dataDir = opts.dataDir ?? tempDataDir(opts.name)
  const args = [...(opts.nodeArgs ?? []), CLI, 'node', 'start', '--json', '--preset', 'local', '--name', opts.name, '--data', dataDir,
    '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--log-level', 'info',
    ...(opts.join ?? []).flatMap(a => ['--join', a]), ...(opts.args ?? [])]
  // Load generators share one token per node: the default rate limit would throttle them.
  const env = { ...process.env, CAXTON_API_RATE_LIMIT_MAX: '100000000', ...opts.env }
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env })
  const logs: string[] = []
  createInterface({ input: child.stderr! }).on('line', l => { logs.push(l) })
  const exited = new Promise<number | null>(resolve => { child.once('exit', code => { resolve(code) }) })
  const ready = await new Promise<NodeReady>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`node ${opts.name} did not become ready within ${opts.timeoutMs ?? READY_TIMEOUT_MS} ms; logs:\n${logs.join('\n')}`))
    }, opts.timeoutMs ?? READY_TIMEOUT_MS)
    createInterface({ input: child.stdout! }).once('line', line => {
      clearTimeout(timer)
      try {
        resolve(JSON.parse(line) as NodeReady)
      } catch {
        reject(new Error(`node ${opts.name} printed a non-JSON ready line: ${line}`))
      }
    })
    void exited.then(code => {
      clearTimeout(timer)
      reject(new Error(`node ${opts.name} exited with code ${code} before it was ready; logs:\n${logs.join('\n')}`))
    })
  })
  return {
    ...ready,
    name: opts.name,
    dataDir,
    token: readFileSync(join(dataDir, 'admin.token'), 'utf8').trim(),
    child,
    logs,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode != null || child.signalCode != null) return child.exitCode
      child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      try {
        return await exited
      } finally {
        clearTimeout(timer)
      }
    }
  }
}

/**
 * Starts several nodes at once. If one does not become ready, the others that did are
 * killed (none is left running outside the caller's reach) and the first failure is thrown.
 */
export async function startNodeProcesses (list: StartNodeProcessOptions[]): Promise<NodeProcess[]> {
  const settled = await Promise.allSettled(list.map(async opts => await startNodeProcess(opts)))
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  const started = settled.flatMap(r => r.status === 'fulfilled' ? [r.value] : [])
  if (failed === undefined) return started
  await Promise.all(started.map(async n => await n.stop('SIGKILL')))
  throw failed.reason
}

/** `fetch(node.api + path)` with the node's admin token. */
export async function apiFetch (node: Pick<NodeProcess, 'api' | 'token'>, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers)
  headers.set('authorization', `Bearer ${node.token}`)
  return await fetch(node.api + path, { ...init, headers })
}

/** Runs the CLI to completion; resolves with its exit code and output. */
export async function runCli (args: string[], env: Record<string, string> = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  assertBuilt()
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const code = await new Promise<number | null>(resolve => { child.once('exit', c => { resolve(c) }) })
  return { code, stdout, stderr }
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T> (what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await check()
      if (v !== undefined) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last != null ? `: ${String(last)}` : ''}`)
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}
