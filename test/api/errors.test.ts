import assert from 'node:assert/strict'
import { CaxtonError } from '../../protocols/errors.js'
import { DEFAULT_ERROR_STATUS, toHttpError, type ErrorContext } from '../../src/api/errors.js'

const ctx: ErrorContext = {
  statusByCode: DEFAULT_ERROR_STATUS,
  requestId: 'req-7',
  bodyLimitBytes: 1024,
  contentType: 'text/csv',
  acceptedTypes: ['application/json', 'application/wasm']
}

class WithFields extends CaxtonError {
  readonly agentId = 'echo'
  readonly bytes = new Uint8Array([1, 2])
  readonly callback = (): void => {}
  readonly cyclic: Record<string, unknown> = {}
  constructor (code: string) {
    super(code, 'something about echo')
    this.name = 'WithFields'
    this.cyclic.self = this.cyclic
  }
}

describe('api: toHttpError', () => {
  const table: Array<{ name: string, err: unknown, status: number, code: string, message?: RegExp }> = [
    { name: 'ACL_INVALID', err: new CaxtonError('ACL_INVALID', 'bad'), status: 400, code: 'ACL_INVALID', message: /^bad$/ },
    { name: 'ACL_DECODE', err: new CaxtonError('ACL_DECODE', 'bad'), status: 400, code: 'ACL_DECODE' },
    { name: 'PERFORMATIVE_UNKNOWN', err: new CaxtonError('PERFORMATIVE_UNKNOWN', 'x'), status: 400, code: 'PERFORMATIVE_UNKNOWN' },
    { name: 'MODULE_INVALID', err: new CaxtonError('MODULE_INVALID', 'x'), status: 400, code: 'MODULE_INVALID' },
    { name: 'AGENT_ID_INVALID', err: new CaxtonError('AGENT_ID_INVALID', 'x'), status: 400, code: 'AGENT_ID_INVALID' },
    { name: 'CONFIG_INVALID', err: new CaxtonError('CONFIG_INVALID', 'x'), status: 400, code: 'CONFIG_INVALID' },
    { name: 'AGENT_NOT_FOUND', err: new CaxtonError('AGENT_NOT_FOUND', 'x'), status: 404, code: 'AGENT_NOT_FOUND' },
    { name: 'AGENT_EXISTS', err: new CaxtonError('AGENT_EXISTS', 'x'), status: 409, code: 'AGENT_EXISTS' },
    { name: 'PAYLOAD_TOO_LARGE', err: new CaxtonError('PAYLOAD_TOO_LARGE', 'too big'), status: 413, code: 'PAYLOAD_TOO_LARGE', message: /^too big$/ },
    { name: 'LIMITS_INVALID', err: new CaxtonError('LIMITS_INVALID', 'x'), status: 400, code: 'LIMITS_INVALID' },
    { name: 'MESSAGE_NOT_FOUND', err: new CaxtonError('MESSAGE_NOT_FOUND', 'x'), status: 404, code: 'MESSAGE_NOT_FOUND' },
    { name: 'DEAD_LETTER_NOT_FOUND', err: new CaxtonError('DEAD_LETTER_NOT_FOUND', 'x'), status: 404, code: 'DEAD_LETTER_NOT_FOUND' },
    { name: 'OUTBOX_FULL', err: new CaxtonError('OUTBOX_FULL', 'full'), status: 503, code: 'OUTBOX_FULL' },
    { name: 'NOT_READY', err: new CaxtonError('NOT_READY', 'starting'), status: 503, code: 'NOT_READY', message: /^starting$/ },
    { name: 'REPLY_TIMEOUT', err: new CaxtonError('REPLY_TIMEOUT', 'late'), status: 504, code: 'REPLY_TIMEOUT', message: /^late$/ },
    { name: "fastify's body limit", err: Object.assign(new Error('Request body is too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }), status: 413, code: 'PAYLOAD_TOO_LARGE', message: /limit of 1024 bytes/ },
    { name: "fastify's media type", err: Object.assign(new Error('Unsupported Media Type'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: /'text\/csv' is not accepted here \(use application\/json or application\/wasm\)/ },
    { name: "fastify's invalid JSON", err: Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400 }), status: 400, code: 'JSON_INVALID' },
    { name: "another fastify 4xx", err: Object.assign(new Error("'abc' is not a valid url component"), { code: 'FST_ERR_BAD_URL', statusCode: 400 }), status: 400, code: 'REQUEST_INVALID', message: /not a valid url component/ },
    { name: 'a fastify 5xx', err: Object.assign(new Error('internal detail'), { code: 'FST_ERR_SOMETHING', statusCode: 500 }), status: 500, code: 'INTERNAL' },
    { name: 'an unmapped CaxtonError (code shown, message hidden)', err: new CaxtonError('STORAGE_FAILED', '/secret'), status: 500, code: 'STORAGE_FAILED', message: /^internal error \(request req-7/ },
    { name: "a Node system error (ENOENT not shown)", err: Object.assign(new Error('/secret'), { code: 'ENOENT' }), status: 500, code: 'INTERNAL' },
    { name: "a Node internal error (ERR_* not shown)", err: Object.assign(new TypeError('/secret'), { code: 'ERR_INVALID_ARG_TYPE' }), status: 500, code: 'INTERNAL' },
    { name: 'a thrown string', err: 'oops /secret', status: 500, code: 'INTERNAL' },
    { name: 'undefined', err: undefined, status: 500, code: 'INTERNAL' }
  ]
  for (const c of table) {
    it(`${c.name} → ${c.status} ${c.code}`, () => {
      const { status, body, internal } = toHttpError(c.err, ctx)
      assert.equal(status, c.status)
      assert.equal(body.error.code, c.code)
      if (c.message !== undefined) assert.match(body.error.message, c.message)
      assert.doesNotMatch(JSON.stringify(body), /secret/)
      assert.equal(internal, c.status === 500)
    })
  }

  it("puts the error's JSON-safe fields in details, never bytes, functions or cycles", () => {
    const { body } = toHttpError(new WithFields('AGENT_NOT_FOUND'), ctx)
    assert.deepEqual(body.error, { code: 'AGENT_NOT_FOUND', message: 'something about echo', details: { agentId: 'echo' } })
  })

  it('turns an ajv required error into a sentence naming the field, keeping the raw errors in details', () => {
    const err = Object.assign(new Error('body must have required property'), {
      code: 'FST_ERR_VALIDATION',
      statusCode: 400,
      validationContext: 'body',
      validation: [{ instancePath: '/limits', keyword: 'required', params: { missingProperty: 'x' }, message: "must have required property 'x'" }]
    })
    const { status, body } = toHttpError(err, ctx)
    assert.equal(status, 400)
    assert.equal(body.error.message, 'body.limits.x is required')
    assert.deepEqual((body.error.details as { field: string }).field, 'body.limits.x')
  })


  it('lets extra codes be mapped', () => {
    const { status } = toHttpError(new CaxtonError('MAILBOX_FULL', 'full'), { ...ctx, statusByCode: { ...DEFAULT_ERROR_STATUS, MAILBOX_FULL: 429 } })
    assert.equal(status, 429)
  })
})
