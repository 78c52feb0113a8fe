/**
 * fast-check generators shared by the FIPA-ACL tests: valid messages, and near-valid
 * inputs (a valid message with one or two fields broken) that probe each rule's edges.
 */
import fc from 'fast-check'
import { PERFORMATIVES, type AclLimits, type AclMessage } from '../../../protocols/fipa/index.js'

const AGENT_FIRST = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789']
const AGENT_REST = [...AGENT_FIRST, '.', '_', '-']

/** Valid agent ids: mostly short, sometimes the full 128 characters. */
export const agentId: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.constantFrom(...AGENT_FIRST), fc.string({ unit: fc.constantFrom(...AGENT_REST), maxLength: 12 })).map(([a, b]) => a + b) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...AGENT_FIRST), fc.string({ unit: fc.constantFrom(...AGENT_REST), minLength: 127, maxLength: 127 })).map(([a, b]) => a + b) }
)

const hex = (n: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n })

/** Valid version-00 traceparents. */
export const traceparent: fc.Arbitrary<string> = fc.tuple(hex(32), hex(16), hex(2))
  .filter(([t, p]) => /[^0]/.test(t) && /[^0]/.test(p))
  .map(([t, p, f]) => `00-${t}-${p}-${f}`)

/** Non-empty, well-formed strings of any code points (astral ones included). */
export const text = (max: number): fc.Arbitrary<string> => fc.string({ unit: 'binary', minLength: 1, maxLength: Math.min(max, 40) })
  .filter(s => s.length <= max)

const millis = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })

/** Valid messages under `limits` (defaults: `DEFAULT_ACL_LIMITS`), every optional field sometimes present. */
export function validMessage (limits: Partial<AclLimits> = {}): fc.Arbitrary<AclMessage> {
  const maxReceivers = Math.min(limits.maxReceivers ?? 64, 6)
  const maxContent = Math.min(limits.maxContentBytes ?? 1_048_576, 400)
  const fieldMax = limits.maxFieldChars ?? 1024
  const idMax = limits.maxIdChars ?? 128
  return fc.record({
    messageId: text(idMax),
    createdAt: millis,
    performative: fc.constantFrom(...PERFORMATIVES),
    sender: agentId,
    receivers: fc.uniqueArray(agentId, { minLength: 1, maxLength: maxReceivers }),
    replyTo: fc.uniqueArray(agentId, { minLength: 1, maxLength: maxReceivers }),
    content: fc.oneof(
      fc.string({ unit: 'binary', maxLength: maxContent }).filter(s => Buffer.byteLength(s) <= maxContent),
      fc.uint8Array({ maxLength: maxContent })
    ),
    language: text(fieldMax),
    encoding: text(fieldMax),
    ontology: text(fieldMax),
    protocol: text(fieldMax),
    conversationId: text(idMax),
    replyWith: text(idMax),
    inReplyTo: text(idMax),
    replyBy: millis,
    traceparent,
    tracestate: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map(c => String.fromCharCode(c)), minLength: 1, maxLength: Math.min(fieldMax, 60) })
  }, { requiredKeys: ['messageId', 'createdAt', 'performative', 'sender', 'receivers'], noNullPrototype: true })
}

/** Values that sit on or just past the edge of some rule. */
const edgeValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    undefined, null, '', ' ', 'a', 'A', '-a', '.a', 'a b', 'a/b', 'é', '\ud800', 'a\udc00b', '😀',
    'REQUEST', 'request', 'not_understood', 'NOT-UNDERSTOOD', 'x'.repeat(129), 'x'.repeat(128),
    0, -0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 53 - 1, 1e21, 7n,
    true, false, [], [[]], ['a'], ['a', 'a'], ['a', 'b'], ['-x'], {}, { base64: 'AA==' },
    new Uint8Array(0), new Uint8Array(6), new Uint16Array(2), Buffer.from('hi'), new ArrayBuffer(2),
    new Date(0), new Map(), new Set(['a']), Object.create(null), 'x'.repeat(6),
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
    '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    'rojo=00f067aa0ba902b7', 'k=v\n', 'ü=1'
  ),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.string({ unit: fc.integer({ min: 0xd7f0, max: 0xe010 }).map(c => String.fromCharCode(c)), maxLength: 4 }),
  fc.array(fc.oneof(agentId, fc.constantFrom('', 'a', 'a', '!')), { maxLength: 8 }),
  fc.integer(),
  fc.double(),
  fc.uint8Array({ maxLength: 12 }),
  fc.anything()
)

const FIELDS = ['messageId', 'createdAt', 'performative', 'sender', 'receivers', 'replyTo', 'content',
  'language', 'encoding', 'ontology', 'protocol', 'conversationId', 'replyWith', 'inReplyTo', 'replyBy',
  'traceparent', 'tracestate'] as const

/**
 * Near-valid inputs: a valid message with 0-2 fields replaced by edge values, removed, or
 * an unknown key added; or (rarely) anything at all.
 */
export function nearValidInput (limits: Partial<AclLimits> = {}): fc.Arbitrary<unknown> {
  const mutation = fc.oneof(
    fc.record({ op: fc.constant('set' as const), key: fc.constantFrom<string>(...FIELDS), value: edgeValue }),
    fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom<string>(...FIELDS), value: fc.constant(undefined) }),
    fc.record({ op: fc.constant('set' as const), key: fc.constantFrom('extra', 'receiver', 'reply-with', '__proto__', 'toString'), value: edgeValue })
  )
  const mutated = fc.tuple(validMessage(limits), fc.array(mutation, { maxLength: 2 }), fc.boolean()).map(([msg, ops, nullProto]) => {
    // Objects without a prototype (e.g. from some parsers) must be judged alike too.
    const out: Record<string, unknown> = nullProto ? Object.assign(Object.create(null) as Record<string, unknown>, msg) : { ...msg }
    for (const { op, key, value } of ops) {
      if (op === 'delete') delete out[key]
      else Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
    }
    return out
  })
  return fc.oneof({ weight: 12, arbitrary: mutated }, { weight: 1, arbitrary: fc.anything() })
}

/** Limits small enough that generated values cross them often. */
export const tightLimits: fc.Arbitrary<Partial<AclLimits>> = fc.record({
  maxContentBytes: fc.integer({ min: 1, max: 8 }),
  maxReceivers: fc.integer({ min: 1, max: 3 }),
  maxFieldChars: fc.integer({ min: 1, max: 6 }),
  maxIdChars: fc.integer({ min: 1, max: 6 })
}, { requiredKeys: [] })
