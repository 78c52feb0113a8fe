/**
 * A node warms its policy worker up at start: binaryen is loaded before the first deploy
 * asks for it, and that deploy uses the same worker.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadConfig } from '../../src/config/index.js'
import { startNode, type CaxtonNode } from '../../src/node/index.js'
import { ROOT, waitFor } from '../../sim/cluster/index.js'

const ECHO = readFileSync(join(ROOT, 'dist', 'agents', 'echo.wasm'))
const WORKER_READY = 'policy worker ready (binaryen loaded)'

describe('node: policy worker warm-up', function () {
  this.timeout(60_000)
  let node: CaxtonNode | undefined
  afterEach(async () => { await node?.stop() })

  it('loads binaryen at start, without a deploy, and the first deploy uses that worker', async () => {
    const lines: Array<{ component?: string, msg?: string }> = []
    const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as { component?: string, msg?: string }) } })
    const dataDir = mkdtempSync(join(tmpdir(), 'caxton-warm-up-'))
    const config = loadConfig({ env: {}, flags: { preset: 'local', name: 'warm', dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], api: { port: 0 } } })
    node = await startNode(config, { processMetrics: false, logger })
    const readyLines = (): number => lines.filter(l => l.component === 'caxton:runtime:policy' && l.msg === WORKER_READY).length
    await waitFor('the policy worker to load binaryen', () => readyLines() === 1 ? true : undefined, 20_000, 20)
    assert.deepEqual(node.listAgents(), [])
    await node.deployAgent({ id: 'echo', wasm: ECHO })
    assert.equal(readyLines(), 1)
  })
})
