import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  ACL_FIELDS, AclValidationError, DEFAULT_ACL_LIMITS, InvalidAclLimitsError, MAX_REPORTED_ISSUES, aclMessageSchema,
  hasValidFields, isValidMessage, messageIssues, resolveAclLimits, validateMessage, type AclLimits, type AclMessage
} from '../../../protocols/fipa/index.js'
import { nearValidInput, tightLimits, validMessage } from './arbitraries.js'
import { isTraceparent00 } from '../../../protocols/fipa/rules.js'

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

function valid (): AclMessage {
  return {
    messageId: 'm-1',
    createdAt: 1_764_000_000_000,
    performative: 'REQUEST',
    sender: 'buyer',
    receivers: ['seller-1', 'seller.2', 'seller_3'],
    replyTo: ['buyer-inbox'],
    content: 'price?',
    language: 'fipa-sl',
    encoding: 'utf-8',
    ontology: 'trading',
    protocol: 'fipa-request',
    conversationId: 'c-1',
    replyWith: 'rw-1',
    inReplyTo: 'm-0',
    replyBy: 1_764_000_060_000,
    traceparent: TP,
    tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'
  }
}

/** `change` applied to a valid message must be rejected with an issue on `field` whose reason matches. */
function expectIssue (change: Record<string, unknown>, field: string, reason: RegExp, limits?: Partial<AclLimits>): void {
  const input: Record<string, unknown> = { ...valid(), ...change }
  for (const [k, v] of Object.entries(change)) if (v === DELETE) delete input[k]
  assert.throws(() => validateMessage(input, limits), (err: unknown) => {
    assert.ok(err instanceof AclValidationError, `expected AclValidationError, got ${String(err)}`)
    assert.equal(err.code, 'ACL_INVALID')
    const issue = err.issues.find(i => i.field === field)
    assert.ok(issue, `no issue on ${field}: ${JSON.stringify(err.issues)}`)
    assert.match(issue.reason, reason)
    assert.ok(err.message.includes(`${field}: ${issue.reason}`), err.message)
    return true
  })
}

const DELETE = Symbol('delete')

describe('protocols/fipa validateMessage', () => {
  it('accepts a message with every field, and returns the input itself', () => {
    const msg = valid()
    assert.equal(validateMessage(msg), msg)
    assert.deepEqual(messageIssues(msg), [])
  })

  it('accepts the minimal message, and optional fields set to undefined', () => {
    const msg = { messageId: 'm', createdAt: 0, performative: 'INFORM', sender: 'a', receivers: ['b'], content: undefined }
    assert.equal(validateMessage(msg), msg)
  })

  it('documents its default limits', () => {
    assert.deepEqual({ ...DEFAULT_ACL_LIMITS }, { maxContentBytes: 1_048_576, maxReceivers: 64, maxFieldChars: 1024, maxIdChars: 128 })
    assert.ok(Object.isFrozen(DEFAULT_ACL_LIMITS))
    assert.deepEqual(resolveAclLimits({ maxReceivers: 2 }), { ...DEFAULT_ACL_LIMITS, maxReceivers: 2 })
  })

  it('rejects limits that are not positive integers', () => {
    for (const bad of [0, -1, 1.5, NaN, '10']) {
      assert.throws(() => validateMessage(valid(), { maxReceivers: bad as number }), (err: unknown) =>
        err instanceof InvalidAclLimitsError && err.limit === 'maxReceivers' && err.code === 'ACL_LIMITS_INVALID')
    }
  })

  describe('the message itself', () => {
    for (const input of [null, undefined, 'msg', 42, [], [valid()]]) {
      it(`rejects ${JSON.stringify(input) ?? 'undefined'} as (root)`, () => {
        assert.throws(() => validateMessage(input), (err: unknown) =>
          err instanceof AclValidationError && err.issues.length === 1 && err.issues[0].field === '(root)' &&
          /must be an object|required/.test(err.issues[0].reason))
      })
    }

    it('rejects unknown keys, naming each', () => {
      assert.throws(() => validateMessage({ ...valid(), receiver: 'b', 'reply-with': 'x' }), (err: unknown) => {
        assert.ok(err instanceof AclValidationError)
        assert.deepEqual(err.issues.map(i => i.field), ['receiver', 'reply-with'])
        assert.match(err.issues[0].reason, /unknown field/)
        return true
      })
      expectIssue({ __proto__: null, extra: 1 }, 'extra', /unknown field/)
      const parsed = JSON.parse(`{"messageId":"m","createdAt":1,"performative":"INFORM","sender":"a","receivers":["b"],"__proto__":{"x":1}}`) as unknown
      assert.throws(() => validateMessage(parsed), (err: unknown) => err instanceof AclValidationError && err.issues[0].field === '__proto__')
    })

    it('names every bad field in one error', () => {
      assert.throws(() => validateMessage({ ...valid(), sender: '-x', receivers: ['ok', 'b@d', 'ok'], createdAt: -5 }), (err: unknown) => {
        assert.ok(err instanceof AclValidationError)
        assert.deepEqual(err.issues.map(i => i.field), ['createdAt', 'sender', 'receivers[1]', 'receivers[2]'])
        assert.match(err.issues[3].reason, /duplicate/)
        assert.match(err.message, /^invalid ACL message: createdAt: .*; sender: must be an agent id .*; receivers\[1\]: must be an agent id/)
        return true
      })
    })

    it('caps the issues it reports', () => {
      const receivers = Array.from({ length: 500 }, (_, i) => `bad agent ${i}`)
      assert.throws(() => validateMessage({ ...valid(), receivers }, { maxReceivers: 1000 }), (err: unknown) => {
        assert.ok(err instanceof AclValidationError)
        assert.equal(err.issues.length, MAX_REPORTED_ISSUES)
        assert.match(err.message, /and 40 more$/)
        return true
      })
    })
  })

  describe('required fields', () => {
    for (const field of ['messageId', 'createdAt', 'performative', 'sender', 'receivers']) {
      it(`${field} is required`, () => expectIssue({ [field]: DELETE }, field, /^required$/))
    }
  })

  describe('messageId and the other ids (conversationId, replyWith, inReplyTo)', () => {
    for (const field of ['messageId', 'conversationId', 'replyWith', 'inReplyTo']) {
      it(`${field}: a non-empty well-formed string of at most maxIdChars`, () => {
        expectIssue({ [field]: 42 }, field, /must be a string/)
        expectIssue({ [field]: '' }, field, /must not be empty/)
        expectIssue({ [field]: 'x'.repeat(129) }, field, /at most 128 characters/)
        expectIssue({ [field]: 'abcdef' }, field, /at most 5 characters/, { maxIdChars: 5 })
        expectIssue({ [field]: 'a\ud800' }, field, /well-formed Unicode/)
        assert.ok(validateMessage({ ...valid(), [field]: 'x'.repeat(128) }))
        assert.ok(validateMessage({ ...valid(), [field]: 'ünï 😀' }))
      })
    }
  })

  describe('createdAt and replyBy', () => {
    for (const field of ['createdAt', 'replyBy']) {
      it(`${field}: a whole number of ms >= 0`, () => {
        for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53]) expectIssue({ [field]: bad }, field, /whole number of ms/)
        expectIssue({ [field]: '1764000000000' }, field, /must be a number of ms/)
        expectIssue({ [field]: 7n }, field, /must be a number of ms/)
        for (const ok of [0, 2 ** 53 - 1]) assert.ok(validateMessage({ ...valid(), [field]: ok }))
      })
    }
  })

  it('performative: one of the 22, canonical spelling', () => {
    expectIssue({ performative: 'request' }, 'performative', /must be one of ACCEPT-PROPOSAL, .*SUBSCRIBE/)
    expectIssue({ performative: 'HEARTBEAT' }, 'performative', /must be one of/)
    expectIssue({ performative: 18 }, 'performative', /must be a performative/)
  })

  describe('sender, receivers, replyTo: agent ids', () => {
    it('sender must be an agent id', () => {
      for (const bad of ['', '-a', '.a', '_a', 'a b', 'a/b', 'é', 'a'.repeat(129)]) {
        expectIssue({ sender: bad }, 'sender', /must be an agent id \(1-128 characters/)
      }
      expectIssue({ sender: ['a'] }, 'sender', /must be an agent id/)
      assert.ok(validateMessage({ ...valid(), sender: 'A' + 'z._-9'.repeat(25) + 'xy' }))
    })

    for (const field of ['receivers', 'replyTo']) {
      it(`${field}: 1..maxReceivers distinct agent ids, each bad one named by index`, () => {
        expectIssue({ [field]: 'b' }, field, /must be a non-empty array of agent ids/)
        expectIssue({ [field]: [] }, field, /at least one agent/)
        expectIssue({ [field]: ['a', 'b', 'c'] }, field, /at most 2 agents/, { maxReceivers: 2 })
        expectIssue({ [field]: Array.from({ length: 65 }, (_, i) => `a${i}`) }, field, /at most 64 agents/)
        expectIssue({ [field]: ['ok', 'ok2', 'not ok'] }, `${field}[2]`, /must be an agent id/)
        expectIssue({ [field]: ['ok', 7] }, `${field}[1]`, /must be an agent id/)
        expectIssue({ [field]: ['a', 'b', 'a'] }, `${field}[2]`, /duplicate of agent id "a"/)
        assert.ok(validateMessage({ ...valid(), [field]: Array.from({ length: 64 }, (_, i) => `a${i}`) }))
      })
    }
  })

  describe('content', () => {
    it('is a string or a Uint8Array', () => {
      for (const bad of [42, { base64: 'AA==' }, new Uint16Array(2), new ArrayBuffer(2), ['x'], null]) {
        expectIssue({ content: bad }, 'content', /must be a string or bytes/)
      }
      assert.ok(validateMessage({ ...valid(), content: Buffer.from('a Buffer is a Uint8Array') }))
    })

    it('counts the UTF-8 bytes of a string against maxContentBytes', () => {
      assert.ok(validateMessage({ ...valid(), content: 'éé' }, { maxContentBytes: 4 })) // 4 bytes
      expectIssue({ content: 'ééé' }, 'content', /is 6 bytes as UTF-8, more than the limit of 4/, { maxContentBytes: 4 })
      assert.ok(validateMessage({ ...valid(), content: '😀' }, { maxContentBytes: 4 }))
      expectIssue({ content: '😀a' }, 'content', /is 5 bytes/, { maxContentBytes: 4 })
      assert.ok(validateMessage({ ...valid(), content: 'x'.repeat(1_048_576) }))
      expectIssue({ content: 'x'.repeat(1_048_577) }, 'content', /more than the limit of 1048576/)
    })

    it('limits bytes to maxContentBytes', () => {
      assert.ok(validateMessage({ ...valid(), content: new Uint8Array(1_048_576) }))
      expectIssue({ content: new Uint8Array(1_048_577) }, 'content', /is 1048577 bytes, more than the limit of 1048576/)
      expectIssue({ content: new Uint8Array(11) }, 'content', /is 11 bytes/, { maxContentBytes: 10 })
    })

    it('must be well-formed Unicode when a string', () => {
      expectIssue({ content: 'half \ud83d pair' }, 'content', /well-formed Unicode/)
    })
  })

  describe('language, encoding, ontology, protocol: strings up to maxFieldChars', () => {
    for (const field of ['language', 'encoding', 'ontology', 'protocol']) {
      it(field, () => {
        expectIssue({ [field]: '' }, field, /must not be empty/)
        expectIssue({ [field]: 'x'.repeat(1025) }, field, /at most 1024 characters/)
        expectIssue({ [field]: 'abcd' }, field, /at most 3 characters/, { maxFieldChars: 3 })
        expectIssue({ [field]: ['fipa-sl'] }, field, /must be a string/)
        expectIssue({ [field]: '\udc00' }, field, /well-formed/)
        assert.ok(validateMessage({ ...valid(), [field]: 'x'.repeat(1024) }))
      })
    }
  })

  describe('traceparent: W3C version 00', () => {
    const bad: Array<[string, string]> = [
      ['upper-case hex', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01'],
      ['all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
      ['all-zero parent id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
      ['version 01', '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
      ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
      ['too short', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01'],
      ['too long', `${TP}-00`],
      ['wrong separator', '00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01'],
      ['non-hex', '00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01'],
      ['empty', '']
    ]
    for (const [what, value] of bad) {
      it(`rejects ${what}`, () => expectIssue({ traceparent: value }, 'traceparent', /must be a W3C traceparent, version 00: /))
    }
    it('rejects a non-string', () => expectIssue({ traceparent: 1 }, 'traceparent', /must be a W3C traceparent string/))
    it('accepts flags of any value', () => {
      assert.ok(validateMessage({ ...valid(), traceparent: TP.slice(0, -2) + 'ff' }))
    })
  })

  it('tracestate: printable ASCII up to maxFieldChars', () => {
    expectIssue({ tracestate: 'k=v\n' }, 'tracestate', /printable ASCII/)
    expectIssue({ tracestate: 'k=ü' }, 'tracestate', /printable ASCII/)
    expectIssue({ tracestate: '' }, 'tracestate', /must not be empty/)
    expectIssue({ tracestate: 'x'.repeat(1025) }, 'tracestate', /at most 1024/)
    expectIssue({ tracestate: 5 }, 'tracestate', /must be a W3C tracestate string/)
  })

  describe('the fast structural check and the zod schema', () => {
    function agree (input: unknown, limits: AclLimits): void {
      const fast = isValidMessage(input, limits)
      const zod = aclMessageSchema(limits).safeParse(input).success
      assert.equal(fast, zod, `fast=${fast} zod=${zod} for ${show(input)}`)
      assert.equal(messageIssues(input, limits).length === 0, fast)
      if (fast) assert.equal(validateMessage(input, limits), input)
      else assert.throws(() => validateMessage(input, limits), AclValidationError)
    }

    it('accept every generated valid message', () => {
      fc.assert(fc.property(validMessage(), msg => {
        assert.equal(isValidMessage(msg), true)
        assert.equal(aclMessageSchema().safeParse(msg).success, true)
      }), { numRuns: 300 })
    })

    it('agree on near-valid inputs (default limits)', () => {
      fc.assert(fc.property(nearValidInput(), input => agree(input, DEFAULT_ACL_LIMITS)), { numRuns: 2000 })
    })

    it('agree on near-valid inputs (tight limits, so that every bound is crossed)', () => {
      fc.assert(fc.property(tightLimits.chain(l => fc.tuple(fc.constant(resolveAclLimits(l)), nearValidInput(l))),
        ([limits, input]) => agree(input, limits)), { numRuns: 2000 })
    })
  })

  describe('hasValidFields (a message built from named fields)', () => {
    const onlyKnownKeys = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x) &&
      Object.keys(x).every(k => (ACL_FIELDS as readonly string[]).includes(k))

    it('is isValidMessage on objects whose keys are all fields of SPEC.md §1 (property)', () => {
      fc.assert(fc.property(tightLimits.chain(l => fc.tuple(fc.constant(resolveAclLimits(l)), nearValidInput(l).filter(onlyKnownKeys))),
        ([limits, input]) => { assert.equal(hasValidFields(input, limits), isValidMessage(input, limits), show(input)) }), { numRuns: 2000 })
    })

    it('with newTrace, reads no traceparent and checks everything else', () => {
      const { traceparent: _, ...rest } = valid()
      for (const traceparent of ['made by newTraceparent', TP]) {
        assert.equal(hasValidFields({ ...rest, traceparent }, DEFAULT_ACL_LIMITS, true), true)
      }
      assert.equal(hasValidFields({ ...rest, traceparent: 'made by newTraceparent' }, DEFAULT_ACL_LIMITS), false)
      fc.assert(fc.property(nearValidInput().filter(onlyKnownKeys), input => {
        const withoutTrace = { ...input }
        delete withoutTrace.traceparent
        assert.equal(hasValidFields(input, DEFAULT_ACL_LIMITS, true), isValidMessage(withoutTrace))
        if (input.traceparent !== undefined && !isTraceparent00(input.traceparent)) assert.equal(isValidMessage(input), false)
      }), { numRuns: 1000 })
    })
  })
})

function show (v: unknown): string {
  try {
    return JSON.stringify(v, (_, x: unknown) => typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? `<${x.constructor.name} ${x.length}>` : x)
  } catch {
    return String(v)
  }
}
