/**
 * Resolution order (registry, learned routes, DHT), contradicted registry answers, and a
 * DHT provider skipped when the registry knows it removed the agent.
 */
import assert from 'node:assert/strict'
import { RegistryLocator, type RegistryAnswer } from '../../src/routing/index.js'

const SELF = 'peer-self'

function setup (table: Record<string, RegistryAnswer> = {}, providers: Record<string, string[]> = {}): { locator: RegistryLocator, table: Record<string, RegistryAnswer>, asked: string[] } {
  const asked: string[] = []
  const locator = new RegistryLocator({
    self: SELF,
    registry: { lookup: id => table[id] },
    providers: {
      find: async (id, accept) => {
        asked.push(id)
        return (providers[id] ?? []).filter(p => p !== SELF).find(accept)
      }
    }
  })
  return { locator, table, asked }
}

describe('RegistryLocator', () => {
  it('answers from the registry first, without asking the DHT', async () => {
    const { locator, asked } = setup({ echo: { node: 'peer-b', version: 'peer-b/1' } }, { echo: ['peer-c'] })
    assert.equal(locator.lookup('echo'), 'peer-b')
    assert.equal(await locator.resolve('echo'), 'peer-b')
    assert.deepEqual(asked, [])
  })

  it('falls back to learned routes (API clients), then to DHT providers, and remembers the DHT answer', async () => {
    const { locator, asked } = setup({}, { planner: ['peer-c'] })
    locator.learn('client-1', 'peer-b')
    assert.equal(locator.lookup('client-1'), 'peer-b')
    assert.equal(locator.lookup('planner'), undefined)
    assert.equal(await locator.resolve('planner'), 'peer-c')
    assert.deepEqual(asked, ['planner'])
    assert.equal(locator.lookup('planner'), 'peer-c')
    assert.equal(await locator.resolve('nobody'), undefined)
  })

  it('skips a registry answer a peer contradicted until the registry says something new', async () => {
    const { locator, table } = setup({ echo: { node: 'peer-b', version: 'peer-b/1' } }, { echo: ['peer-b', 'peer-c'] })
    locator.forget('echo', 'peer-b')
    assert.equal(locator.lookup('echo'), undefined)
    assert.equal(await locator.resolve('echo', { exclude: 'peer-b' }), 'peer-c', 'the DHT, excluding the peer that said no')
    table.echo = { node: 'peer-b', version: 'peer-b/7' } // redeployed there: a newer version
    assert.equal(locator.lookup('echo'), 'peer-b')
  })

  it('ignores DHT providers that the registry knows removed the agent', async () => {
    const { locator } = setup({ old: { removedBy: 'peer-b' } }, { old: ['peer-b'], moved: ['peer-b', 'peer-d'] })
    assert.equal(await locator.resolve('old'), undefined, 'peer-b\'s record outlives the removal; it is not an answer')
    const withMove = setup({ moved: { removedBy: 'peer-b' } }, { moved: ['peer-b', 'peer-d'] })
    assert.equal(await withMove.locator.resolve('moved'), 'peer-d', 'another node providing it is one (redeployed there)')
  })

  it('keeps at most maxLearned routes, forgetting the oldest', () => {
    const locator = new RegistryLocator({ self: SELF, registry: { lookup: () => undefined }, providers: { find: async () => undefined }, maxLearned: 2 })
    locator.learn('c1', 'p1')
    locator.learn('c2', 'p2')
    locator.learn('c1', 'p3')
    locator.learn('c3', 'p4')
    assert.equal(locator.lookup('c2'), undefined)
    assert.equal(locator.lookup('c1'), 'p3')
    assert.equal(locator.lookup('c3'), 'p4')
  })
})
