import assert from 'node:assert/strict'
import { clientTag, clientTagIn, newClientId, senderProblem, type SenderFacts } from '../../../protocols/delivery/index.js'

const P = '12D3KooWPeerPPPPPPPPPPPPPPzzTag5SeXz'
const Q = '12D3KooWPeerQQQQQQQQQQQQQQzzXyz23456'

describe('protocols/delivery senders', () => {
  it('client ids carry their node\'s tag', () => {
    assert.equal(clientTag(P), 'Tag5SeXz')
    const id = newClientId(P, '0123abcd')
    assert.equal(id, 'client-Tag5SeXz-0123abcd')
    assert.equal(clientTagIn(id), 'Tag5SeXz')
    for (const other of ['client-0123abcd', 'client-Tag5SeXz-XYZ', 'bench', 'client-Tag5Se0z-0123abcd']) assert.equal(clientTagIn(other), undefined, other)
  })

  const table: Array<[string, string, SenderFacts, string | undefined]> = [
    ['ams', Q, {}, undefined],
    ['echo', P, { registeredOn: P }, undefined],
    ['echo', Q, { registeredOn: P }, `sender echo is an agent of node ${P}, not of node ${Q}`],
    [newClientId(P, '0123abcd'), P, {}, undefined],
    [newClientId(P, '0123abcd'), Q, {}, `sender client-Tag5SeXz-0123abcd is an API client of another node than ${Q}`],
    ['alice', Q, {}, undefined],
    ['alice', Q, { boundTo: Q }, undefined],
    ['alice', Q, { boundTo: P }, `sender alice writes from node ${P}, not from node ${Q}`]
  ]
  for (const [sender, from, facts, problem] of table) {
    it(`${sender} from ${from.slice(-8)} (${JSON.stringify(facts).replace(/12D3KooW\w+(\w{8})/g, '…$1')}): ${problem === undefined ? 'accepted' : 'refused'}`, () => {
      assert.equal(senderProblem(sender, from, facts, 'ams'), problem)
    })
  }
})
