/**
 * A short fuzzing run of every decoder of untrusted bytes, and of the REST API: each input
 * is decoded or refused with the decoder's own named error, never a crash. The long run is
 * `npm run fuzz -- --runs 1000000`.
 */
import assert from 'node:assert/strict'
import { fuzzRest } from '../../sim/fuzz/rest.js'
import { FUZZ_TARGETS, fuzz } from '../../sim/fuzz/targets.js'

describe('fuzz: untrusted bytes never crash a decoder', function () {
  this.timeout(120_000)
  for (const [i, target] of FUZZ_TARGETS.entries()) {
    it(target.name, () => {
      const r = fuzz(target, 3000, 100 + i)
      assert.equal(r.runs, 3000)
      assert.deepEqual(r.firstCrash, undefined)
      assert.ok(r.rejected > 0, 'some inputs were refused (the fuzzer reached the decoder\'s checks)')
    })
  }

  it('REST API (inject, a real node): no 500, no exception', async () => {
    const r = await fuzzRest(300, 7)
    assert.deepEqual(r.firstCrash, undefined)
    assert.ok(r.rejected > 0 && r.accepted > 0)
  })
})
