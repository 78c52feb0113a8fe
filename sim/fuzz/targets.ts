/**
 * What `npm run fuzz` feeds untrusted bytes to: every decoder of bytes that come from
 * outside a node (peers' frames, gossip, agents' memory, stored records that a corrupt
 * disk could change), each with the errors it may throw. Anything else it throws is a
 * crash. Inputs are random bytes, random msgpack values, and valid encodings mutated
 * (bytes flipped, inserted, removed), so that the fuzzer gets past the first checks.
 */
import fc from 'fast-check'
import { pack } from 'msgpackr'
import { AbiDecodeError, checkFromAgent, decodeFromAgent, encodeAbiMessage } from '../../protocols/agent-abi/index.js'
import {
  decodeDeadLetter, decodeInboxRecord, decodeOutboxRecord, decodePairRecord, encodeDeadLetter, encodeInboxRecord, encodeOutboxRecord,
  encodePairRecord, RecordDecodeError
} from '../../protocols/delivery/index.js'
import {
  AclDecodeError, AclValidationError, decodeFrame as decodeFipaFrame, decodeMessage, draftFromJson, encodeFrame as encodeFipaFrame,
  encodeMessage, FrameDecodeError, messageFromJson, type AclMessage
} from '../../protocols/fipa/index.js'
import { decodeGossip, decodeSyncFrame, encodeGossip, encodeSyncFrame, Registry, RegistryDecodeError } from '../../protocols/registry/index.js'
import { decodeFrame as decodeSwimFrame, encodeFrame as encodeSwimFrame, SwimDecodeError } from '../../protocols/swim/index.js'
import { simSigning } from '../registry/signing.js'

/** One decoder under fuzzing. */
export interface FuzzTarget {
  name: string
  /** Valid encodings, to mutate. */
  samples: () => Uint8Array[]
  /** Decodes one input; returns normally or throws. */
  decode: (bytes: Uint8Array) => unknown
  /** The errors it may throw for bad input (anything else is a crash). */
  allowed: ReadonlyArray<new (...args: never[]) => Error>
}

const message: AclMessage = {
  messageId: 'm-1', createdAt: 1_764_000_000_000, performative: 'REQUEST', sender: 'buyer', receivers: ['seller', 'other'],
  content: 'price?', conversationId: 'c-1', replyWith: 'r-1', protocol: 'fipa-request', replyBy: 1_764_000_030_000,
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
}

/** A one-agent registry: its delta as gossip, and its digest and entries as sync frames (decoders do not check signatures: a stand-in's do). */
const registrySamples = (): { gossip: Uint8Array[], sync: Uint8Array[] } => {
  const reg = new Registry({ nodeId: 'node-a', signing: simSigning('node-a') })
  const { delta } = reg.apply({ type: 'put', agentId: 'echo', node: 'node-a', state: 'running', capabilities: [{ name: 'echo', version: '1.0.0' }] }, 1_764_000_000_000)
  if (delta === undefined) throw new Error('the sample registry write produced no delta')
  const digest = reg.digest()
  return {
    gossip: [encodeGossip({ type: 'delta', delta })],
    sync: [encodeSyncFrame({ type: 'digest', digest }), encodeSyncFrame({ type: 'reply', digest, delta }), encodeSyncFrame({ type: 'entries', delta })]
  }
}

export const FUZZ_TARGETS: FuzzTarget[] = [
  {
    name: 'fipa frame',
    samples: () => [
      encodeFipaFrame({ type: 'deliver', seq: 7, receiver: 'seller', deadline: 1_764_000_030_000, order: 2 ** 32 + 5, after: 2 ** 32 + 4, flags: 0, message }),
      encodeFipaFrame({ type: 'ack', seq: 7, status: 'mailbox-full', reason: 'full' })
    ],
    decode: (b) => decodeFipaFrame(b),
    allowed: [FrameDecodeError]
  },
  {
    name: 'fipa message (msgpack)',
    samples: () => [encodeMessage(message)],
    decode: (b) => decodeMessage(b),
    allowed: [AclDecodeError, AclValidationError]
  },
  {
    name: 'fipa message (JSON, as REST reads it)',
    samples: () => [new TextEncoder().encode(JSON.stringify({ ...message, content: { base64: 'AQID' } }))],
    decode: (b) => {
      // Not JSON (a SyntaxError): fastify answers JSON_INVALID before the codec sees it.
      const json: unknown = JSON.parse(new TextDecoder().decode(b))
      draftFromJson(json)
      return messageFromJson(json)
    },
    allowed: [AclValidationError, AclDecodeError, SyntaxError]
  },
  {
    name: 'swim frame',
    samples: () => [
      encodeSwimFrame({ type: 'ping', seq: 3, target: 'node-b', updates: [{ kind: 'alive', id: 'node-c', incarnation: 4, addrs: ['/ip4/127.0.0.1/tcp/7401'] }, { kind: 'suspect', id: 'node-d', incarnation: 1, from: 'node-a' }] }),
      encodeSwimFrame({ type: 'push-pull', join: true, reply: false, members: [] })
    ],
    decode: (b) => decodeSwimFrame(b),
    allowed: [SwimDecodeError]
  },
  {
    name: 'registry gossip',
    samples: () => registrySamples().gossip,
    decode: (b) => decodeGossip(b),
    allowed: [RegistryDecodeError]
  },
  {
    name: 'registry sync frame',
    samples: () => registrySamples().sync,
    decode: (b) => decodeSyncFrame(b),
    allowed: [RegistryDecodeError]
  },
  {
    name: 'agent ABI (what an agent sends)',
    samples: () => [encodeAbiMessage({ performative: 'INFORM', receivers: ['x'], content: 'hi', conversationId: 'c', replyBy: 5 })],
    decode: (b) => {
      const problem = checkFromAgent(b)
      try {
        return decodeFromAgent(b)
      } catch (err) {
        // The worker's quick check and the main thread's decoder must agree on what is malformed.
        if (problem === undefined) throw new Error(`checkFromAgent passed what decodeFromAgent refused: ${(err as Error).message}`)
        throw err
      }
    },
    allowed: [AbiDecodeError]
  },
  {
    name: 'delivery records (stored)',
    samples: () => {
      const bytes = encodeMessage(message)
      return [
        encodeOutboxRecord({ receiver: 'seller', sender: 'buyer', messageId: 'm-1', deadline: 5, flags: 1, message: bytes, via: 'peer' }),
        encodeInboxRecord({ receiver: 'seller', sender: 'buyer', messageId: 'm-1', from: 'peer', deadline: 5, message: bytes }),
        encodeDeadLetter({ id: '0190abcd1234500000', at: 5, receiver: 'seller', sender: 'buyer', messageId: 'm-1', cause: 'expired', reason: 'late', attempts: 3, message: bytes }),
        encodePairRecord({ last: 2 ** 33, touchedAt: 5 })
      ]
    },
    decode: (b) => {
      // Read as each kind of record: each must succeed or fail by name; accepted when one read it.
      let read = false
      let last: unknown
      for (const decode of [decodeOutboxRecord, decodeInboxRecord, decodeDeadLetter, decodePairRecord]) {
        try {
          decode(b)
          read = true
        } catch (err) {
          if (!(err instanceof RecordDecodeError)) throw err
          last = err
        }
      }
      if (!read) throw last
    },
    allowed: [RecordDecodeError]
  }
]

/** Inputs: random bytes, random msgpack values, and samples with a few edits. */
export function inputs (samples: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), { minLength: 1, maxLength: 6 })
  const mutated = fc.tuple(fc.constantFrom(...samples), edits).map(([sample, list]) => {
    const bytes = Array.from(sample)
    for (const [at, byte, op] of list) {
      const i = bytes.length === 0 ? 0 : at % bytes.length
      if (op === 'set' && bytes.length > 0) bytes[i] = byte
      else if (op === 'insert') bytes.splice(i, 0, byte)
      else bytes.splice(i, 1)
    }
    return Uint8Array.from(bytes)
  })
  const shaped = fc.anything({ maxDepth: 3 }).map(v => {
    try {
      return pack(v) as Uint8Array
    } catch {
      return new Uint8Array(0)
    }
  })
  return fc.oneof({ weight: 2, arbitrary: mutated }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }) }, { weight: 1, arbitrary: shaped })
}

export interface FuzzResult {
  name: string
  runs: number
  accepted: number
  rejected: number
  /** Inputs that made the decoder throw something it may not (or hang past fast-check's limits). */
  crashes: number
  /** The first crash: the input (hex) and what was thrown. */
  firstCrash?: { input: string, error: string }
  ms: number
}

/** Runs one target `runs` times from `seed`. */
export function fuzz (target: FuzzTarget, runs: number, seed: number): FuzzResult {
  const result: FuzzResult = { name: target.name, runs: 0, accepted: 0, rejected: 0, crashes: 0, ms: 0 }
  const t0 = performance.now()
  const samples = target.samples()
  fc.assert(fc.property(inputs(samples), (bytes) => {
    result.runs++
    try {
      target.decode(bytes)
      result.accepted++
    } catch (err) {
      if (target.allowed.some(E => err instanceof E)) {
        result.rejected++
        return
      }
      result.crashes++
      result.firstCrash ??= { input: Buffer.from(bytes).toString('hex'), error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }
    }
  }), { numRuns: runs, seed, endOnFailure: false })
  result.ms = Math.round(performance.now() - t0)
  return result
}
