import assert from 'node:assert/strict'
import { ownCopy, StringPool } from '../../../protocols/fipa/kept-strings.js'

describe('fipa: kept strings', () => {
  it('ownCopy gives an equal string, short or long', () => {
    for (const s of ['', 'echo', 'exactly-12ch', '0f8fad5b-d9cb-469f-a165-70867728950e', 'x'.repeat(1000)]) assert.equal(ownCopy(s), s)
  })

  it('a pool answers each string with an equal one, also a value it saw before in another string', () => {
    const pool = new StringPool(8)
    const a = pool.get('agent-' + 'with-a-long-name')
    assert.equal(a, 'agent-with-a-long-name')
    // the same value from another string: the pool's copy is handed out again
    const again = pool.get(['agent', 'with', 'a', 'long', 'name'].join('-'))
    assert.equal(again, a)
    assert.equal(pool.get('other'), 'other')
  })

  it('starts again past its bound, and still answers equal strings', () => {
    const pool = new StringPool(3)
    const names = Array.from({ length: 10 }, (_, i) => `participant-number-${i}`)
    for (const n of names) assert.equal(pool.get(n), n)
    for (const n of names) assert.equal(pool.get(n), n)
  })

  it('refuses a bound below 1', () => {
    assert.throws(() => new StringPool(0), RangeError)
  })
})
