/**
 * The policy client and its worker: an instrumented module comes back compiled as well
 * (the worker compiles it, synchronously, so that the main thread's deploy does not wait
 * behind V8's background compile jobs), and a refused module is still refused.
 */
import assert from 'node:assert/strict'
import { InvalidModuleError } from '../../src/runtime/index.js'
import { REFUEL_IMPORT } from '../../src/runtime/fuel.js'
import { PolicyClient } from '../../src/runtime/policy-client.js'
import { silentLogger } from '../../src/observability/logger.js'
// (Its .mjs import also makes mocha load this file as ESM, which spawning workers needs.)
import { exampleAgent } from './helpers/agents.js'

describe('runtime: policy client', function () {
  this.timeout(30_000)
  const policy = new PolicyClient({ logger: silentLogger() })
  after(async () => { await policy.stop() })

  it('returns the instrumented module compiled, exporting what the agent exports', async () => {
    const result = await policy.check(await exampleAgent('echo'), true)
    assert.ok(result.instrumented !== undefined)
    assert.ok(result.module instanceof WebAssembly.Module)
    const exports = WebAssembly.Module.exports(result.module).map(e => e.name)
    assert.ok(exports.includes('alloc') && exports.includes('handle_message'), exports.join(', '))
    // the agent's own imports, plus the refuel function the fuel metering adds (src/runtime/fuel.ts)
    assert.deepEqual(WebAssembly.Module.imports(result.module).map(i => `${i.module}.${i.name}`).sort(), [...result.report.imports, `env.${REFUEL_IMPORT}`].sort())
  })

  it('compiles nothing when only asked to check, and still refuses what breaks the policy', async () => {
    const result = await policy.check(await exampleAgent('echo'), false)
    assert.equal(result.module, undefined)
    assert.equal(result.instrumented, undefined)
    await assert.rejects(policy.check(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0), true), InvalidModuleError)
  })
})
