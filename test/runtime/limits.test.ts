import assert from 'node:assert/strict'
import { DEFAULT_AGENT_LIMITS, InvalidLimitsError, pickLimits, resolveLimits } from '../../src/runtime/index.js'

function fieldOf (fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof InvalidLimitsError)
    return err.field
  }
  assert.fail('expected InvalidLimitsError')
}

describe('agent limits', () => {
  it('defaults every field', () => {
    assert.deepEqual(resolveLimits(DEFAULT_AGENT_LIMITS), {
      maxMemoryPages: 256,
      mailboxCapacity: 1024,
      fuelPerMessage: 50_000_000,
      handlerTimeoutMs: 5000,
      sendsPerSecond: 1000,
      sendBurst: 1000,
      sendBytesPerSecond: 4 * 1024 * 1024
    })
  })

  it('applies overrides over a base', () => {
    assert.deepEqual(resolveLimits(DEFAULT_AGENT_LIMITS, { maxMemoryPages: 16, handlerTimeoutMs: undefined }), {
      ...DEFAULT_AGENT_LIMITS, maxMemoryPages: 16
    })
  })

  it('names the field out of range, unknown, or not an integer', () => {
    assert.equal(fieldOf(() => resolveLimits(DEFAULT_AGENT_LIMITS, { maxMemoryPages: 65537 })), 'maxMemoryPages')
    assert.equal(fieldOf(() => resolveLimits(DEFAULT_AGENT_LIMITS, { fuelPerMessage: 2 ** 31 })), 'fuelPerMessage')
    assert.equal(fieldOf(() => resolveLimits(DEFAULT_AGENT_LIMITS, { mailboxCapacity: 1.5 })), 'mailboxCapacity')
    assert.equal(fieldOf(() => resolveLimits(DEFAULT_AGENT_LIMITS, { handlerTimeoutMs: 0 })), 'handlerTimeoutMs')
    assert.equal(fieldOf(() => resolveLimits(DEFAULT_AGENT_LIMITS, { maxMemoryPages: '8' as unknown as number })), 'maxMemoryPages')
    assert.equal(fieldOf(() => resolveLimits(DEFAULT_AGENT_LIMITS, { sendsPerSecond: 0 })), 'sendsPerSecond')
    assert.equal(fieldOf(() => resolveLimits(DEFAULT_AGENT_LIMITS, { sendBurst: 100_000_001 })), 'sendBurst')
    assert.equal(fieldOf(() => resolveLimits(DEFAULT_AGENT_LIMITS, { sendBytesPerSecond: 2 ** 40 + 1 })), 'sendBytesPerSecond')
    assert.equal(fieldOf(() => resolveLimits(DEFAULT_AGENT_LIMITS, { cpu: 1 } as never)), 'cpu')
  })

  it('picks the limits out of a larger object (the config\'s agents section)', () => {
    assert.deepEqual(pickLimits({ ...DEFAULT_AGENT_LIMITS, workers: 2, drainTimeoutMs: 10 } as never), { ...DEFAULT_AGENT_LIMITS })
  })
})
