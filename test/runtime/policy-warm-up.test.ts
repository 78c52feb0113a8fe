/**
 * The policy warm-up module: exactly its WAT assembled with the sandbox's features, and a
 * module the policy accepts (checked, instrumented, deployed, handling a message), so that
 * warming the policy worker up can never fail on the module itself.
 */
import assert from 'node:assert/strict'
import type { AgentRuntime } from '../../src/runtime/index.js'
import { POLICY_WARM_UP_WAT, policyWarmUpModule } from '../../src/runtime/policy-warm-up.js'
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

  it('is a fresh copy each time', () => {
    const a = policyWarmUpModule()
    a[0] = 0xff
    assert.equal(policyWarmUpModule()[0], 0)
  })
})
