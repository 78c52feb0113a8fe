import assert from 'node:assert/strict'
import { CaxtonError } from '../../../protocols/errors.js'
import {
  AclDecodeError, AclValidationError, FrameDecodeError, FrameEncodeError, InvalidAclLimitsError, PERFORMATIVES,
  TraceparentError, UnknownPerformativeError
} from '../../../protocols/fipa/index.js'

describe('protocols/fipa errors', () => {
  const cases: Array<[CaxtonError, string, string]> = [
    [new AclValidationError([{ field: 'sender', reason: 'required' }]), 'AclValidationError', 'ACL_INVALID'],
    [new AclDecodeError('no bytes'), 'AclDecodeError', 'ACL_DECODE'],
    [new UnknownPerformativeError('ASK', PERFORMATIVES), 'UnknownPerformativeError', 'PERFORMATIVE_UNKNOWN'],
    [new FrameDecodeError('bad', { seq: 3 }), 'FrameDecodeError', 'FRAME_DECODE'],
    [new FrameEncodeError('bad'), 'FrameEncodeError', 'FRAME_ENCODE'],
    [new TraceparentError('x', 'bad'), 'TraceparentError', 'TRACEPARENT_INVALID'],
    [new InvalidAclLimitsError('maxReceivers', 0), 'InvalidAclLimitsError', 'ACL_LIMITS_INVALID']
  ]
  for (const [err, name, code] of cases) {
    it(`${name} is a CaxtonError with code ${code}`, () => {
      assert.ok(err instanceof CaxtonError)
      assert.ok(err instanceof Error)
      assert.equal(err.name, name)
      assert.equal(err.code, code)
      assert.ok(err.message.length > 0)
    })
  }

  it('puts the fields a caller needs in the message', () => {
    assert.equal(new AclValidationError([{ field: 'receivers[2]', reason: 'must be an agent id' }, { field: 'sender', reason: 'required' }]).message,
      'invalid ACL message: receivers[2]: must be an agent id; sender: required')
    assert.equal(new FrameDecodeError('bad message', { seq: 7 }).message, 'cannot decode fipa frame (seq 7): bad message')
    assert.equal(new FrameDecodeError('bad').seq, undefined)
  })
})
