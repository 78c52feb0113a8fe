/**
 * The kv-store agent under the test kit: put, get, delete and list answered from its
 * durable store, refusals named, the quota enforced.
 */
import assert from 'node:assert/strict'
import { TestAgent } from '../../testkit/index.js'

describe('example agent: kv-store', function () {
  this.timeout(60_000)
  const source = new URL('./index.ts', import.meta.url)
  let store: TestAgent

  beforeEach(async () => {
    store = await TestAgent.fromSource(source, { id: 'store' })
  })

  const answer = (text: string): [string, unknown] => {
    const m = store.request(text).sent[0]
    return [m.performative, m.content]
  }

  it('puts, gets, lists by prefix in byte order, and deletes', () => {
    assert.deepEqual(answer('put fruit/pear green and ripe'), ['INFORM', 'ok'])
    assert.deepEqual(answer('put fruit/apple red'), ['INFORM', 'ok'])
    assert.deepEqual(answer('put veg/leek long'), ['INFORM', 'ok'])
    assert.deepEqual(answer('get fruit/pear'), ['INFORM', 'green and ripe'])
    assert.deepEqual(answer('list fruit/'), ['INFORM', 'fruit/apple\nfruit/pear'])
    assert.deepEqual(answer('list'), ['INFORM', 'fruit/apple\nfruit/pear\nveg/leek'])
    assert.deepEqual(answer('delete fruit/apple'), ['INFORM', 'deleted'])
    assert.deepEqual(answer('get fruit/apple'), ['FAILURE', 'no key "fruit/apple"'])
    assert.deepEqual(answer('delete fruit/apple'), ['FAILURE', 'no key "fruit/apple"'])
    assert.deepEqual(store.kv.keys(), ['fruit/pear', 'veg/leek'])
    assert.equal(store.kv.getString('veg/leek'), 'long')
  })

  it('keeps its entries across a restart', () => {
    answer('put é ü')
    store.restart()
    assert.deepEqual(answer('get é'), ['INFORM', 'ü'])
    assert.deepEqual(store.kv.keys(), ['é'])
  })

  it('refuses a key over 1024 bytes, and a value past its quota, writing nothing', async () => {
    assert.deepEqual(answer(`put ${'k'.repeat(1025)} v`), ['FAILURE', 'bad key: 1 to 1024 bytes'])
    const small = await TestAgent.fromSource(source, { id: 'small', kvQuotaBytes: 100 })
    const put = (text: string): unknown => small.request(text).sent[0].content
    // An entry counts its key, its value and 32 bytes.
    assert.equal(put(`put a ${'x'.repeat(60)}`), 'ok')
    assert.equal(put('put b 12345678'), 'store full: the value does not fit in the quota')
    assert.equal(put(`put a ${'y'.repeat(67)}`), 'ok')
    assert.equal(put(`put a ${'y'.repeat(68)}`), 'store full: the value does not fit in the quota')
    assert.deepEqual(small.kv.keys(), ['a'])
    assert.equal(small.kv.getString('a'), 'y'.repeat(67))
  })

  it('answers what it does not know with FAILURE or NOT-UNDERSTOOD, and reports with nothing', () => {
    assert.equal(answer('dance')[0], 'FAILURE')
    assert.equal(store.deliver({ performative: 'QUERY-IF', content: 'x' }).sent[0].performative, 'NOT-UNDERSTOOD')
    assert.deepEqual(store.deliver({ performative: 'NOT-UNDERSTOOD', sender: 'ams' }).sent, [])
  })
})
