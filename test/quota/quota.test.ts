import assert from 'node:assert/strict'
import { AgentQuota, AgentQuotaExceededError, LimitTooHighError } from '../../src/quota/index.js'

const DEFAULTS = { maxMemoryPages: 256, mailboxCapacity: 1024, fuelPerMessage: 50_000_000, handlerTimeoutMs: 5000, sendsPerSecond: 1000, sendBurst: 1000, sendBytesPerSecond: 1 << 22 }
const CONFIG = {
  maxAgents: 3,
  maxTotalMemoryPages: 1000,
  maxMemoryPages: 512,
  maxMailboxCapacity: 10_000,
  maxFuelPerMessage: 100_000_000,
  maxHandlerTimeoutMs: 60_000,
  maxSendsPerSecond: 5000,
  maxSendBurst: 2000,
  maxSendBytesPerSecond: 1 << 24
}
const agent = (pages: number): { limits: typeof DEFAULTS } => ({ limits: { ...DEFAULTS, maxMemoryPages: pages } })

describe('quota: node-wide bounds on deploys', () => {
  it('refuses a limit above its maximum, naming the field and the config key', () => {
    const quota = new AgentQuota(CONFIG, DEFAULTS)
    const cases: Array<[Record<string, number>, string, number]> = [
      [{ maxMemoryPages: 65536 }, 'maxMemoryPages', 512],
      [{ handlerTimeoutMs: 600_000 }, 'handlerTimeoutMs', 60_000],
      [{ fuelPerMessage: 2_000_000_000 }, 'fuelPerMessage', 100_000_000],
      [{ mailboxCapacity: 1_000_000 }, 'mailboxCapacity', 10_000],
      [{ sendsPerSecond: 5001 }, 'sendsPerSecond', 5000],
      [{ sendBurst: 100_000 }, 'sendBurst', 2000],
      [{ sendBytesPerSecond: 1 << 30 }, 'sendBytesPerSecond', 1 << 24]
    ]
    for (const [asked, field, max] of cases) {
      assert.throws(() => quota.reserve(asked, []), (e: unknown) => e instanceof LimitTooHighError && e.field === field && e.max === max && /config quota\./.test(e.message), field)
    }
    quota.reserve({ maxMemoryPages: 512, handlerTimeoutMs: 60_000, sendsPerSecond: 5000, sendBurst: 2000 }, [])()
  })

  it('counts agents and their memory caps, deploys in progress included, until released', () => {
    const quota = new AgentQuota(CONFIG, DEFAULTS)
    assert.throws(() => quota.reserve(undefined, [agent(1), agent(1), agent(1)]), (e: unknown) => e instanceof AgentQuotaExceededError && e.quota === 'agents' && e.used === 3)
    assert.throws(() => quota.reserve({ maxMemoryPages: 300 }, [agent(500), agent(250)]), (e: unknown) => e instanceof AgentQuotaExceededError && e.quota === 'memoryPages' && e.used === 750 && e.asked === 300)
    // the node's default (256) counts when the deploy asks nothing
    const release = quota.reserve(undefined, [agent(500)])
    assert.throws(() => quota.reserve(undefined, [agent(500)]), AgentQuotaExceededError, '500 + 256 held + 256 > 1000')
    release()
    quota.reserve(undefined, [agent(500)])()
  })
})
