/**
 * Starting workers in a node started with flags a worker refuses (V8's options, such as
 * `--max-semi-space-size=64`): the worker starts without them instead of the node failing
 * with ERR_WORKER_INVALID_EXEC_ARGV.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { Worker } from 'node:worker_threads'
import { refusedFlags, withoutFlags } from '../../src/runtime/worker-spawn.js'
import { ROOT, apiFetch, startNodeProcess, type NodeProcess } from '../../sim/cluster/index.js'

const run = promisify(execFile)

describe('runtime: worker spawn', function () {
  this.timeout(60_000)

  it('reads the refused flags from Node\'s error, and only from that error', () => {
    let err: unknown
    try {
      void new Worker('', { eval: true, execArgv: ['--max-semi-space-size=64', '--conditions', 'x', '--expose-gc'] })
    } catch (e) {
      err = e
    }
    assert.deepEqual(refusedFlags(err), ['--max-semi-space-size=64', '--expose-gc'])
    assert.deepEqual(refusedFlags(new Error('flags: --x')), [])
    assert.deepEqual(refusedFlags(undefined), [])
  })

  it('drops refused flags with their separate value, and keeps the rest', () => {
    assert.deepEqual(
      withoutFlags(['--max-semi-space-size=64', '--conditions', 'x', '--title', 'caxton', '--expose-gc', '--enable-source-maps'], ['--max-semi-space-size=64', '--title', '--expose-gc']),
      ['--conditions', 'x', '--enable-source-maps'])
  })

  it('starts the policy worker from sources in a process started with a V8 flag', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'caxton-worker-spawn-'))
    try {
      const script = join(dir, 'spawn.mts')
      writeFileSync(script, [
        `import { spawnWorker } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src', 'runtime', 'worker-spawn.ts')).href)}`,
        "const w = spawnWorker('policy-worker', {}, { binaryen: true })",
        "w.on('message', m => { if (m.ready === true) { console.log('ready'); void w.terminate() } })",
        "w.on('error', e => { console.error(e); process.exit(1) })"
      ].join('\n'))
      const { stdout } = await run(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', script], { cwd: ROOT })
      assert.equal(stdout.trim(), 'ready')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  describe('a node process started with a V8 flag (the built CLI)', () => {
    let node: NodeProcess | undefined
    after(async () => {
      await node?.stop()
      if (node !== undefined) rmSync(node.dataDir, { recursive: true, force: true })
    })

    it('starts and deploys an agent (its policy worker and agent worker start)', async () => {
      node = await startNodeProcess({ name: 'v8-flag', nodeArgs: ['--max-semi-space-size=64'] })
      const res = await apiFetch(node, '/agents?id=echo', { method: 'POST', headers: { 'content-type': 'application/wasm' }, body: readFileSync(join(ROOT, 'dist', 'agents', 'echo.wasm')) })
      assert.equal(res.status, 201, await res.text())
    })
  })
})
