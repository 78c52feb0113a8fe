#!/usr/bin/env node
/**
 * Builds every example agent (agents/examples/<name>/index.ts) with the installed
 * AssemblyScript compiler into dist/agents/<name>.wasm. Run by `npm run build:agents`.
 * Prints one line per agent; on a compiler error, prints it and exits with status 1.
 *
 * Plain Node ESM on purpose (no tsx): it runs before the TypeScript build.
 */
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const EXAMPLES_DIR = join(ROOT, 'agents', 'examples')
export const OUT_DIR = join(ROOT, 'dist', 'agents')

/**
 * Compiler flags of every agent, chosen for the sandbox policy (src/runtime/policy.ts):
 * - `--importMemory --noExportMemory`: the host owns and caps linear memory;
 * - `--disable bulk-memory`: the policy allows MVP + sign-ext + non-trapping float-to-int
 *   + mutable globals, and asc enables bulk memory by default;
 * - `--runtime incremental`: a collector that runs by itself, so an agent's memory stays
 *   flat over millions of messages (`stub` never frees; `minimal` collects only when asked);
 * - `-O3 --noAssert`: release build.
 */
export const AGENT_FLAGS = [
  '-O3', '--noAssert',
  '--runtime', 'incremental',
  '--importMemory', '--noExportMemory',
  '--disable', 'bulk-memory'
]

/** Names of the example agents (folders of agents/examples with an index.ts). */
export async function listExamples () {
  const names = []
  for (const entry of await readdir(EXAMPLES_DIR, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue
    try {
      await stat(join(EXAMPLES_DIR, entry.name, 'index.ts'))
      names.push(entry.name)
    } catch {}
  }
  return names.sort()
}

/**
 * Compiles one AssemblyScript entry file to a module.
 * @param {string} entry path of the entry file
 * @returns {Promise<{ binary: Uint8Array, ms: number }>}
 * @throws Error carrying the compiler's diagnostics
 */
export async function compileAgent (entry) {
  const { default: asc } = await import('assemblyscript/asc')
  const started = performance.now()
  let binary
  let stderr = ''
  const result = await asc.main([relative(ROOT, entry), '-o', 'out.wasm', ...AGENT_FLAGS], {
    writeFile: (name, contents) => { if (name.endsWith('.wasm')) binary = contents },
    stdout: { write: () => true },
    stderr: { write: (s) => { stderr += typeof s === 'string' ? s : new TextDecoder().decode(s); return true } }
  })
  if (result.error !== null || binary === undefined) {
    throw new Error(`${relative(ROOT, entry)}: ${stderr.trim() || result.error?.message || 'no output'}`)
  }
  return { binary, ms: performance.now() - started }
}

/** Builds agents/examples/<name> into dist/agents/<name>.wasm; returns the output path. */
export async function buildExample (name) {
  const { binary, ms } = await compileAgent(join(EXAMPLES_DIR, name, 'index.ts'))
  await mkdir(OUT_DIR, { recursive: true })
  const out = join(OUT_DIR, `${name}.wasm`)
  await writeFile(out, binary)
  return { out, bytes: binary.length, ms }
}

async function main () {
  process.chdir(ROOT)
  const names = await listExamples()
  for (const name of names) {
    try {
      const { out, bytes, ms } = await buildExample(name)
      console.log(`agent ${name.padEnd(12)} → ${relative(ROOT, out)}  ${(bytes / 1024).toFixed(1)} KiB  ${Math.round(ms)} ms`)
    } catch (err) {
      console.error(`agent ${name}: build failed\n${err.message}`)
      process.exit(1)
    }
  }
  if (names.length === 0) console.log('no agents in agents/examples')
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main()
}
