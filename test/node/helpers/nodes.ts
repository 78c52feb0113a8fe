/**
 * Real nodes with a data folder for the node tests: started in-process on loopback, with
 * the example agents the build compiles, and restarted on the same folder.
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, type ConfigInput } from '../../../src/config/index.js'
import { startNode, type CaxtonNode } from '../../../src/node/index.js'
import { ROOT } from '../../../sim/cluster/index.js'

/** An example agent's module, as `npm run build` compiled it (`dist/agents/<name>.wasm`). */
export const agent = (name: string): Uint8Array => readFileSync(join(ROOT, 'dist', 'agents', `${name}.wasm`))

/** Starts a node (preset `local`) named `name` on `dataDir` (default: a new temporary folder), with `extra` config. */
export async function startTestNode (name: string, dataDir = mkdtempSync(join(tmpdir(), `caxton-node-${name}-`)), extra: ConfigInput = {}): Promise<CaxtonNode> {
  const config = loadConfig({ env: {}, flags: { preset: 'local', name, dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], api: { port: 0 }, ...extra } })
  return await startNode(config, { processMetrics: false })
}

/** Sends a REQUEST from an API client and waits (up to 5 s) for the reply. */
export async function ask (node: CaxtonNode, to: string, content: string, extra: Record<string, unknown> = {}): Promise<{ performative?: string, content?: unknown }> {
  const out = await node.sendMessage({ to, draft: { performative: 'REQUEST', content, ...extra }, waitMs: 5000 })
  return { performative: out.reply?.performative, content: out.reply?.content }
}

/**
 * The nodes a test started (stopped after each test with `stopAll`), and their restart
 * on the same data folder and config.
 */
export class TestNodes {
  private readonly nodes: CaxtonNode[] = []

  async start (name: string, dataDir?: string, extra: ConfigInput = {}): Promise<CaxtonNode> {
    const node = await startTestNode(name, dataDir, extra)
    this.nodes.push(node)
    return node
  }

  /** Stops `node`, then starts a node on its data folder with `extra` config. */
  async restart (node: CaxtonNode, extra: ConfigInput = {}): Promise<CaxtonNode> {
    await node.stop()
    this.nodes.splice(this.nodes.indexOf(node), 1)
    return await this.start(node.config.name, node.config.dataDir, extra)
  }

  async stopAll (): Promise<void> {
    await Promise.all(this.nodes.splice(0).map(async n => { await n.stop() }))
  }
}
