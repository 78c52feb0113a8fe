/**
 * The policy client and its worker: an instrumented module comes back compiled as well
 * (the worker compiles it, synchronously, so that the main thread's deploy does not wait
 * behind V8's background compile jobs), a refused module is still refused, and the
 * warm-up (a check of the warm-up module) lets other checks go first.
 */
import assert from 'node:assert/strict'
import { InvalidModuleError } from '../../src/runtime/index.js'
import { REFUEL_IMPORT } from '../../src/runtime/fuel.js'
import { PolicyClient } from '../../src/runtime/policy-client.js'
import { policyWarmUpModule } from '../../src/runtime/policy-warm-up.js'
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

  it('answers a check of the warm-up module after the warm-up, and a check sent meanwhile before it', async () => {
    const fresh = new PolicyClient({ logger: silentLogger() })
    try {
      const order: string[] = []
      const warmUp = fresh.check(policyWarmUpModule(), false).then(r => { order.push('warm-up'); return r })
      const echo = fresh.check(await exampleAgent('echo'), true).then(r => { order.push('echo'); return r })
      const [w, e] = await Promise.all([warmUp, echo])
      assert.deepEqual(order, ['echo', 'warm-up'])
      assert.deepEqual([...w.report.exports].sort(), ['alloc', 'handle_message'])
      assert.ok(e.module instanceof WebAssembly.Module)
      // Once warm, the warm-up module is an ordinary check.
      assert.deepEqual((await fresh.check(policyWarmUpModule(), false)).report, w.report)
    } finally {
      await fresh.stop()
    }
  })

  it('compiles nothing when only asked to check, and still refuses what breaks the policy', async () => {
    const result = await policy.check(await exampleAgent('echo'), false)
    assert.equal(result.module, undefined)
    assert.equal(result.instrumented, undefined)
    await assert.rejects(policy.check(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0), true), InvalidModuleError)
  })
})
