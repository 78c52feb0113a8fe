import assert from 'node:assert/strict'
import { MemberList } from '../../../protocols/swim/index.js'
import type { MemberState, MemberUpdate, Transition } from '../../../protocols/swim/index.js'

/** A table with `self` and member `m` at incarnation 5 in `state` (or unknown). */
function table (state: MemberState | undefined): MemberList {
  const list = new MemberList({ id: 'self', addrs: [], incarnation: 5 }, 0)
  if (state !== undefined) list.restore({ id: 'm', incarnation: 5, state: 'alive', addrs: ['/a'] }, 0)
  if (state === 'suspect') list.apply({ kind: 'suspect', id: 'm', incarnation: 5, from: 'x' }, 0)
  if (state === 'dead') list.apply({ kind: 'dead', id: 'm', incarnation: 5, from: 'x' }, 0)
  if (state === 'left') list.apply({ kind: 'left', id: 'm', incarnation: 5 }, 0)
  return list
}

function update (kind: MemberUpdate['kind'], incarnation: number, id = 'm'): MemberUpdate {
  switch (kind) {
    case 'alive': return { kind, id, incarnation, addrs: ['/a'] }
    case 'suspect': return { kind, id, incarnation, from: 'y' }
    case 'dead': return { kind, id, incarnation, from: 'y' }
    case 'left': return { kind, id, incarnation }
  }
}

describe('protocols/swim member state transitions (SWIM §4.2)', () => {
  // [state before (incarnation 5), update, incarnation in update, transition kind (or none), state after, incarnation after]
  type Row = [MemberState | undefined, MemberUpdate['kind'], number, Transition['kind'] | undefined, MemberState | undefined, number | undefined]
  const rows: Row[] = [
    [undefined, 'alive', 0, 'join', 'alive', 0],
    [undefined, 'suspect', 9, undefined, undefined, undefined],
    [undefined, 'dead', 9, undefined, undefined, undefined],
    [undefined, 'left', 9, undefined, undefined, undefined],
    ['alive', 'alive', 4, undefined, 'alive', 5],
    ['alive', 'alive', 5, undefined, 'alive', 5],
    ['alive', 'alive', 6, 'update', 'alive', 6],
    ['alive', 'suspect', 4, undefined, 'alive', 5],
    ['alive', 'suspect', 5, 'suspect', 'suspect', 5],
    ['alive', 'suspect', 7, 'suspect', 'suspect', 7],
    ['alive', 'dead', 4, undefined, 'alive', 5],
    ['alive', 'dead', 5, 'dead', 'dead', 5],
    ['alive', 'left', 5, 'left', 'left', 5],
    ['suspect', 'alive', 5, undefined, 'suspect', 5],
    ['suspect', 'alive', 6, 'alive', 'alive', 6],
    ['suspect', 'suspect', 4, undefined, 'suspect', 5],
    ['suspect', 'suspect', 5, 'confirm', 'suspect', 5],
    ['suspect', 'suspect', 6, 'suspect', 'suspect', 6], // refuted meanwhile, suspected anew
    ['suspect', 'dead', 5, 'dead', 'dead', 5],
    ['suspect', 'left', 5, 'left', 'left', 5],
    ['dead', 'alive', 5, undefined, 'dead', 5],
    ['dead', 'alive', 6, 'join', 'alive', 6],
    ['dead', 'suspect', 9, undefined, 'dead', 5],
    ['dead', 'dead', 9, undefined, 'dead', 5],
    ['dead', 'left', 5, 'left', 'left', 5],
    ['dead', 'left', 4, undefined, 'dead', 5],
    ['left', 'alive', 6, 'join', 'alive', 6],
    ['left', 'dead', 9, undefined, 'left', 5],
    ['left', 'left', 9, undefined, 'left', 5]
  ]
  for (const [before, kind, inc, expected, after, incAfter] of rows) {
    it(`${before ?? 'unknown'} + ${kind}(${inc}) → ${expected ?? 'ignored'}`, () => {
      const list = table(before)
      const tr = list.apply(update(kind, inc), 1000)
      assert.equal(tr?.kind, expected)
      const m = list.get('m')
      assert.equal(m?.state, after)
      assert.equal(m?.incarnation, incAfter)
      if (expected !== undefined && expected !== 'confirm' && expected !== 'update') assert.equal(m?.stateChangedAt, 1000)
    })
  }

  it('keeps the live, dead and left sets in step with the states', () => {
    const list = table('alive')
    assert.equal(list.liveCount, 2)
    list.apply(update('suspect', 5), 1)
    assert.equal(list.liveCount, 2, 'a suspect member is still live')
    list.apply(update('dead', 5), 2)
    assert.equal(list.liveCount, 1)
    assert.equal(list.dead.size, 1)
    list.apply(update('left', 5), 3)
    assert.equal(list.dead.size, 0)
    assert.equal(list.left.size, 1)
    list.apply(update('alive', 6), 4)
    assert.equal(list.left.size, 0)
    assert.equal(list.liveCount, 2)
  })

  it('forgets dead and left members only', () => {
    const list = table('alive')
    assert.equal(list.remove('m'), false)
    assert.equal(list.remove('self'), false)
    list.apply(update('dead', 5), 1)
    assert.equal(list.remove('m'), true)
    assert.equal(list.get('m'), undefined)
    assert.equal(list.size, 1)
  })

  describe('refutation (SWIM §4.2)', () => {
    const refutes: Array<[MemberUpdate['kind'], number, boolean, number]> = [
      ['suspect', 5, true, 6],
      ['suspect', 9, true, 10],
      ['suspect', 4, false, 5],
      ['dead', 5, true, 6],
      ['dead', 4, false, 5],
      ['left', 7, true, 8],
      ['alive', 5, false, 5],
      ['alive', 6, true, 7]
    ]
    for (const [kind, inc, refuted, after] of refutes) {
      it(`${kind}(${inc}) about oneself at incarnation 5 → ${refuted ? `refuted with ${after}` : 'ignored'}`, () => {
        const list = table(undefined)
        const tr = list.apply(update(kind, inc, 'self'), 10)
        assert.equal(tr?.kind, refuted ? 'refute' : undefined)
        assert.equal(list.self.incarnation, after)
        assert.equal(list.self.state, 'alive')
        assert.deepEqual(list.selfAlive(), { kind: 'alive', id: 'self', incarnation: after, addrs: [] })
      })
    }

    it('does not refute once leaving', () => {
      const list = table(undefined)
      list.markLeaving(5)
      assert.equal(list.apply(update('dead', 9, 'self'), 10), undefined)
      assert.equal(list.self.state, 'left')
      assert.equal(list.self.incarnation, 5)
    })
  })

  it('restores a snapshot without transitions: suspect comes back alive, self and known members are skipped', () => {
    const list = new MemberList({ id: 'self', addrs: [], incarnation: 0 }, 0)
    assert.ok(list.restore({ id: 'a', incarnation: 2, state: 'suspect', addrs: [] }, 7))
    assert.ok(list.restore({ id: 'b', incarnation: 1, state: 'dead', addrs: [] }, 7))
    assert.equal(list.restore({ id: 'self', incarnation: 9, state: 'dead', addrs: [] }, 7), undefined)
    assert.equal(list.restore({ id: 'a', incarnation: 9, state: 'alive', addrs: [] }, 7), undefined)
    assert.equal(list.get('a')?.state, 'alive')
    assert.equal(list.get('a')?.incarnation, 2)
    assert.equal(list.get('b')?.state, 'dead')
    assert.equal(list.self.incarnation, 0)
    assert.equal(list.records().length, 3)
  })

  const staleness: Array<[MemberState, MemberUpdate['kind'], number, boolean]> = [
    ['alive', 'alive', 4, true], ['alive', 'alive', 5, false], ['alive', 'suspect', 5, false], ['alive', 'dead', 4, true],
    ['suspect', 'alive', 5, true], ['suspect', 'suspect', 5, false], ['suspect', 'alive', 6, false],
    ['dead', 'alive', 5, true], ['dead', 'suspect', 5, true], ['dead', 'dead', 5, false], ['dead', 'alive', 6, false],
    ['left', 'dead', 5, false], ['left', 'alive', 5, true]
  ]
  for (const [state, kind, inc, stale] of staleness) {
    it(`holding ${state}(5), ${kind}(${inc}) is ${stale ? 'stale' : 'not stale'}`, () => {
      assert.equal(table(state).isStale(update(kind, inc)), stale)
    })
  }

  it('states what it holds as an update', () => {
    const list = table('suspect')
    assert.deepEqual(list.current('m', () => 'x'), { kind: 'suspect', id: 'm', incarnation: 5, from: 'x' })
    assert.deepEqual(table('alive').current('m', () => 'x'), { kind: 'alive', id: 'm', incarnation: 5, addrs: ['/a'] })
    assert.equal(list.current('nobody', () => 'x'), undefined)
  })
})
