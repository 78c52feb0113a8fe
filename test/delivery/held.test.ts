import assert from 'node:assert/strict'
import { waitFor } from '../../sim/cluster/index.js'
import { HeldEntries } from '../../src/delivery/held.js'

describe('delivery: held entries', () => {
  it('releases each entry once it has been held holdMs, oldest first, and never one taken before', async () => {
    let t = 0
    const released: string[] = []
    const held = new HeldEntries<string>(10, (key, value) => { released.push(`${key}=${value}`) }, () => t)
    held.hold('a', '1')
    t = 4
    held.hold('b', '2')
    held.hold('c', '3')
    assert.equal(held.take('c'), '3')
    assert.equal(held.take('c'), undefined, 'taken once')
    t = 10 // a is due, b is not
    await waitFor('a released', () => released.length === 1 ? true : undefined, 2000, 1)
    assert.deepEqual(released, ['a=1'])
    assert.ok(held.has('b'))
    t = 14
    await waitFor('b released', () => released.length === 2 ? true : undefined, 2000, 1)
    assert.deepEqual(released, ['a=1', 'b=2'])
    assert.equal(held.size, 0)
  })

  it('releaseAll and releaseOne release at once, and leave nothing for the timer', async () => {
    let t = 0
    const released: string[] = []
    const held = new HeldEntries<number>(5, (key) => { released.push(key) }, () => t)
    held.hold('x', 1)
    held.hold('y', 2)
    held.hold('z', 3)
    held.releaseOne('y')
    held.releaseOne('missing')
    assert.deepEqual(released, ['y'])
    held.releaseAll()
    assert.deepEqual(released, ['y', 'x', 'z'])
    t = 100
    await new Promise(resolve => setTimeout(resolve, 20))
    assert.deepEqual(released, ['y', 'x', 'z'], 'nothing released twice')
  })
})
