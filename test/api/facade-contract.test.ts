/**
 * The REST API contract (`facade-contract-suite.ts`) against the test fake and against a
 * real node started in-process, so the fake cannot promise what the node does not do.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApiServer, type ApiServer } from '../../src/api/index.js'
import { loadConfig } from '../../src/config/index.js'
import { startNode, type CaxtonNode } from '../../src/node/index.js'
import { adminTokenOf, testAuth } from './auth-fixture.js'
import { apiContractSuite } from './facade-contract-suite.js'
import { FakeFacade, TINY_WASM } from './fake-facade.js'

let server: ApiServer | undefined
apiContractSuite('fake facade', {
  setup: async () => {
    const { auth, admin } = await testAuth()
    server = createApiServer({ facade: new FakeFacade(), host: '127.0.0.1', port: 0, auth })
    const { url } = await server.start()
    return { url, module: TINY_WASM, token: admin }
  },
  teardown: async () => { await server?.stop() }
})

let node: CaxtonNode | undefined
let dataDir: string | undefined
apiContractSuite('in-process node', {
  setup: async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'caxton-contract-'))
    const config = loadConfig({ env: {}, flags: { preset: 'local', name: 'contract', dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], api: { host: '127.0.0.1', port: 0 } } })
    node = await startNode(config, { processMetrics: false })
    // the echo agent the build compiles (`npm test` builds first)
    const module = new Uint8Array(await readFile(new URL('../../dist/agents/echo.wasm', import.meta.url)))
    return { url: node.info().api, module, token: await adminTokenOf(dataDir) }
  },
  teardown: async () => {
    await node?.stop()
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
  }
})
