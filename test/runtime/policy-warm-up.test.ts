/**
 * The policy warm-up module: exactly its WAT assembled with the sandbox's features, and a
 * module the policy accepts (checked, instrumented, deployed, handling a message), so that
 * warming the policy worker up can never fail on the module itself; the same for the
 * generated agent-sized modules of the warm-up's rounds.
 */
import assert from 'node:assert/strict'
import type { AgentRuntime } from '../../src/runtime/index.js'
import { POLICY_WARM_UP_WAT, policyWarmUpAgent, policyWarmUpModule } from '../../src/runtime/policy-warm-up.js'
// (Its .mjs import also makes mocha load this file as ESM, which spawning workers needs.)
import { exampleAgent } from './helpers/agents.js'
import { HostRecorder } from './helpers/host.js'
import { runtimeForSuite } from './helpers/suite-runtime.js'
import { wat } from './helpers/wat.js'

describe('runtime: policy warm-up module', function () {
  this.timeout(30_000)
  const host = new HostRecorder()
  let runtime: AgentRuntime
  runtimeForSuite(host, r => { runtime = r })

  it('is its WAT, assembled', async () => {
    assert.deepEqual(Buffer.from(policyWarmUpModule()), Buffer.from(await wat(POLICY_WARM_UP_WAT)))
  })

  it('passes the policy as an agent: inspected, then instrumented and deployed', async () => {
    const report = await runtime.inspect(policyWarmUpModule())
    assert.deepEqual(report.imports, ['env.memory'])
    assert.deepEqual([...report.exports].sort(), ['alloc', 'handle_message'])
    const info = await runtime.deploy('warm-up', policyWarmUpModule())
    assert.equal(info.state, 'running')
  })

  it('leaves the policy worker able to check real agents (the worker checked it before its first request)', async () => {
    const info = await runtime.deploy('echo', await exampleAgent('echo'))
    assert.equal(info.state, 'running')
  })

  it('generates agent-sized modules the policy accepts, the same for the same seed', async () => {
    for (const seed of [1, 2, 3]) {
      const bytes = policyWarmUpAgent(seed)
      assert.ok(bytes.length > 12 * 1024 && bytes.length < 24 * 1024, `${bytes.length} bytes`)
      assert.deepEqual(Buffer.from(policyWarmUpAgent(seed)), Buffer.from(bytes))
      const report = await runtime.inspect(bytes)
      assert.deepEqual([...report.exports].sort(), ['alloc', 'handle_message'])
      assert.ok(report.imports.includes('env.memory') && report.imports.includes('env.send'), report.imports.join(', '))
    }
    assert.notDeepEqual(Buffer.from(policyWarmUpAgent(1)), Buffer.from(policyWarmUpAgent(2)))
    // Instrumented (fuel, start function exported) and instantiated in an agent worker too.
    const info = await runtime.deploy('generated', policyWarmUpAgent(1), { fuelPerMessage: 1_000_000 })
    assert.equal(info.state, 'running')
  })

  it('is a fresh copy each time', () => {
    const a = policyWarmUpModule()
    a[0] = 0xff
    assert.equal(policyWarmUpModule()[0], 0)
  })
})
