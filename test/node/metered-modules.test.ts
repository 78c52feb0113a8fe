/**
 * The runtime's metered modules kept in the node's LevelDB: a restart compiles them
 * instead of checking and metering the modules again (no policy worker), falls back to
 * the policy worker for a row it cannot use, and a row goes with its module.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/index.js'
import { startNode, type CaxtonNode } from '../../src/node/index.js'
import { meteringFingerprint } from '../../src/runtime/metering-fingerprint.js'
import { MeteredModuleRows, openStorage } from '../../src/storage/index.js'
import { ROOT } from '../../sim/cluster/index.js'

const ECHO = readFileSync(join(ROOT, 'dist', 'agents', 'echo.wasm'))
const COUNTER = readFileSync(join(ROOT, 'dist', 'agents', 'counter.wasm'))
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

async function start (dataDir: string): Promise<CaxtonNode> {
  const config = loadConfig({ env: {}, flags: { preset: 'local', name: 'metered', dataDir, listen: ['/ip4/127.0.0.1/tcp/0'] } })
  return await startNode(config, { api: false, processMetrics: false })
}

/** `caxton_runtime_modules_metered_total` by source. */
async function metered (node: CaxtonNode): Promise<{ policy: number, kept: number }> {
  const body = (await node.metrics()).body
  const count = (source: string): number => Number(new RegExp(`^caxton_runtime_modules_metered_total\\{source="${source}"\\} (\\S+)$`, 'm').exec(body)?.[1] ?? 0)
  return { policy: count('policy'), kept: count('kept') }
}

/** Runs `f` on the `metered-modules` rows of a stopped node's data folder. */
async function withRows<T> (dataDir: string, f: (rows: MeteredModuleRows) => Promise<T>): Promise<T> {
  const storage = await openStorage(dataDir)
  try {
    return await f(new MeteredModuleRows(storage))
  } finally {
    await storage.close()
  }
}

/** The fingerprints of the rows kept for `hashes` (undefined: no row). */
async function rowsIn (dataDir: string, hashes: string[]): Promise<Array<string | undefined>> {
  return await withRows(dataDir, async rows => await Promise.all(hashes.map(async h => (await rows.get(h))?.fingerprint)))
}

describe('metered modules kept across restarts', function () {
  this.timeout(60_000)
  let node: CaxtonNode | undefined
  afterEach(async () => { await node?.stop(); node = undefined })

  it('a restart compiles the kept metered modules (no policy check), and its agents work', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'caxton-metered-'))
    node = await start(dataDir)
    await node.deployAgent({ id: 'echo', wasm: ECHO })
    await node.deployAgent({ id: 'counter', wasm: COUNTER })
    assert.deepEqual(await metered(node), { policy: 2, kept: 0 })
    await node.stop()
    node = undefined
    assert.deepEqual(await rowsIn(dataDir, [sha256(ECHO), sha256(COUNTER)]), [meteringFingerprint(), meteringFingerprint()])

    node = await start(dataDir)
    assert.deepEqual(await metered(node), { policy: 0, kept: 2 })
    assert.deepEqual(node.listAgents().map(a => [a.id, a.state]), [['counter', 'running'], ['echo', 'running']])
    const reply = await node.sendMessage({ to: 'counter', draft: { performative: 'REQUEST', content: 'add 3' }, waitMs: 5000 })
    assert.equal(reply.reply?.content, '3')
    const echoed = await node.sendMessage({ to: 'echo', draft: { performative: 'REQUEST', content: 'hi' }, waitMs: 5000 })
    assert.equal(echoed.reply?.content, 'hi')
  })

  it('checks a module again when its row is from another build or does not compile, and keeps it anew', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'caxton-metered-'))
    node = await start(dataDir)
    await node.deployAgent({ id: 'echo', wasm: ECHO })
    await node.deployAgent({ id: 'counter', wasm: COUNTER })
    await node.stop()
    node = undefined
    await withRows(dataDir, async rows => {
      const echo = await rows.get(sha256(ECHO))
      const counter = await rows.get(sha256(COUNTER))
      assert.ok(echo !== undefined && counter !== undefined)
      await rows.put(sha256(ECHO), { ...echo, fingerprint: 'another build' })
      await rows.put(sha256(COUNTER), { ...counter, instrumented: Uint8Array.of(0, 97, 115, 109, 1) })
    })

    node = await start(dataDir)
    assert.deepEqual(await metered(node), { policy: 2, kept: 0 })
    const reply = await node.sendMessage({ to: 'counter', draft: { performative: 'REQUEST', content: 'add 2' }, waitMs: 5000 })
    assert.equal(reply.reply?.content, '2')
    await node.stop()
    node = undefined
    // Both rows were written again by this build: the next restart uses them.
    node = await start(dataDir)
    assert.deepEqual(await metered(node), { policy: 0, kept: 2 })
  })

  it('a module\'s row goes with it, and rows of modules no agent keeps are pruned at start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'caxton-metered-'))
    node = await start(dataDir)
    await node.deployAgent({ id: 'echo', wasm: ECHO })
    await node.deployAgent({ id: 'counter', wasm: COUNTER })
    await node.removeAgent('counter')
    await node.stop()
    node = undefined
    assert.deepEqual(await rowsIn(dataDir, [sha256(ECHO), sha256(COUNTER)]), [meteringFingerprint(), undefined])

    // A row no agent's module needs (e.g. of a deploy that failed after the check).
    await withRows(dataDir, async rows => {
      const echo = await rows.get(sha256(ECHO))
      assert.ok(echo !== undefined)
      await rows.put('0'.repeat(64), echo)
    })
    node = await start(dataDir)
    await node.stop()
    node = undefined
    assert.deepEqual(await rowsIn(dataDir, [sha256(ECHO), '0'.repeat(64)]), [meteringFingerprint(), undefined])
  })
})
