import assert from 'node:assert/strict'
import { Registry } from '../../protocols/registry/index.js'
import { testSigning } from '../protocols/registry/keys.js'
import { formatCapability, InvalidCapabilityError, parseCapabilities, parseCapabilityRef } from '../../src/registry/index.js'

describe('registry capabilities (deploy-time declarations)', () => {
  it('accepts names, versions, descriptions and JSON Schemas, and the replica takes what it accepts', () => {
    const caps = parseCapabilities([
      { name: 'echo', version: '1.0.0', description: 'repeats what it is told' },
      { name: 'plan', schema: { type: 'object', required: ['goal'], properties: { goal: { type: 'string' } } } },
      { name: 'anything', schema: true }
    ])
    assert.equal(caps.length, 3)
    const reg = new Registry({ nodeId: 'n1', signing: testSigning('n1') })
    reg.apply({ type: 'put', agentId: 'a', node: 'n1', state: 'running', capabilities: caps }, 1)
    assert.deepEqual(reg.findByCapability('plan').map(a => a.agentId), ['a'])
  })

  it('names the element and the reason of every refusal', () => {
    const cases: Array<[unknown, RegExp]> = [
      ['echo', /capabilities: must be an array/],
      [[{}], /capabilities\[0\]\.name/],
      [[{ name: '' }], /capabilities\[0\]\.name: must be 1-100/],
      [[{ name: 'x'.repeat(101) }], /capabilities\[0\]\.name/],
      [[{ name: 'a\nb' }], /control characters/],
      [[{ name: 'a', version: '' }], /capabilities\[0\]\.version/],
      [[{ name: 'a', colour: 'red' }], /unknown field colour/],
      [[{ name: 'a' }, { name: 'a' }], /capabilities\[1\]: "a" is listed twice/],
      [[{ name: 'a', version: '1' }, { name: 'a', version: '1' }], /"a"@1 is listed twice/],
      [[{ name: 'a', schema: { type: 'strnig' } }], /capabilities\[0\]\.schema\.type: is not a valid JSON Schema/],
      [[{ name: 'a', schema: { properties: { x: { minimum: 'low' } } } }], /schema\.properties\.x\.minimum/],
      [[{ name: 'a', schema: 42 }], /must be a JSON Schema: an object or a boolean/],
      [Array.from({ length: 65 }, (_, i) => ({ name: `c${i}` })), /at most 64/]
    ]
    for (const [input, message] of cases) {
      assert.throws(() => parseCapabilities(input), (err: unknown) => {
        assert.ok(err instanceof InvalidCapabilityError, String(err))
        assert.equal(err.code, 'CAPABILITY_INVALID')
        assert.match(err.message, message)
        return true
      }, JSON.stringify(input).slice(0, 60))
    }
  })

  it('refuses schemas nested deeper than the registry stores', () => {
    let deep: Record<string, unknown> = { type: 'string' }
    for (let i = 0; i < 40; i++) deep = { items: deep }
    assert.throws(() => parseCapabilities([{ name: 'a', schema: deep }]), /nested deeper than 32/)
  })

  it('parses name@version references, the version after the last @', () => {
    assert.deepEqual(parseCapabilityRef('echo'), { name: 'echo' })
    assert.deepEqual(parseCapabilityRef('echo@1.2.3'), { name: 'echo', version: '1.2.3' })
    assert.deepEqual(parseCapabilityRef('mail@home@2'), { name: 'mail@home', version: '2' })
    assert.deepEqual(parseCapabilityRef('@scoped'), { name: '@scoped' })
    assert.throws(() => parseCapabilityRef('echo@', '--capability #1'), /--capability #1\.version/)
    assert.equal(formatCapability({ name: 'echo', version: '1' }), 'echo@1')
    assert.equal(formatCapability({ name: 'echo' }), 'echo')
  })
})
