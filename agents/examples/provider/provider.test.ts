/**
 * The provider agent under the test kit: capabilities declared and withdrawn at run time,
 * committed with the message, kept across a restart.
 */
import assert from 'node:assert/strict'
import { TestAgent } from '../../testkit/index.js'

describe('example agent: provider', function () {
  this.timeout(60_000)
  let provider: TestAgent

  beforeEach(async () => {
    provider = await TestAgent.fromSource(new URL('./index.ts', import.meta.url), { id: 'provider', capabilities: [{ name: 'base' }] })
  })

  const answer = (text: string): [string, unknown] => {
    const [m] = provider.request(text).sent
    return [m.performative, m.content]
  }

  it('offers capabilities beside those it was deployed with, replacing one of the same name and version', () => {
    assert.deepEqual(answer('offer translate 1.0.0'), ['INFORM', 'offering translate@1.0.0'])
    assert.deepEqual(answer('offer translate'), ['INFORM', 'offering translate'])
    assert.deepEqual(answer('offer translate 1.0.0'), ['INFORM', 'offering translate@1.0.0'])
    assert.deepEqual(provider.capabilities(), [{ name: 'base' }, { name: 'translate', version: '1.0.0' }, { name: 'translate' }])
  })

  it('withdraws one by name and version, the deployed ones too; a second withdraw fails', () => {
    answer('offer translate 1.0.0')
    assert.deepEqual(answer('withdraw translate'), ['FAILURE', 'not offering translate'])
    assert.deepEqual(answer('withdraw translate 1.0.0'), ['INFORM', 'withdrew translate@1.0.0'])
    assert.deepEqual(answer('withdraw base'), ['INFORM', 'withdrew base'])
    assert.deepEqual(provider.capabilities(), [])
    assert.deepEqual(answer('withdraw base'), ['FAILURE', 'not offering base'])
  })

  it('refuses a capability the registry would not take, changing nothing', () => {
    assert.deepEqual(answer(`offer ${'n'.repeat(101)}`), ['FAILURE', `not a valid capability: ${'n'.repeat(101)}`])
    assert.deepEqual(answer(`offer ok ${'v'.repeat(65)}`), ['FAILURE', `not a valid capability: ok@${'v'.repeat(65)}`])
    assert.deepEqual(provider.capabilities(), [{ name: 'base' }])
  })

  it('refuses the 65th capability', () => {
    for (let i = 1; i < 64; i++) assert.equal(answer(`offer c${i}`)[0], 'INFORM')
    assert.deepEqual(answer('offer c64'), ['FAILURE', 'offering 64 capabilities already'])
    assert.equal(provider.capabilities().length, 64)
  })

  it('keeps what it offers across a restart', () => {
    answer('offer translate 2.0.0')
    provider.restart()
    assert.deepEqual(provider.capabilities(), [{ name: 'base' }, { name: 'translate', version: '2.0.0' }])
    assert.deepEqual(answer('withdraw translate 2.0.0'), ['INFORM', 'withdrew translate@2.0.0'])
    assert.deepEqual(provider.capabilities(), [{ name: 'base' }])
  })
})
