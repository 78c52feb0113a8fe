/**
 * Throughput of the FIPA-ACL codecs (protocols/fipa) on one REQUEST whose content is
 * `size` bytes, once as a string and once as bytes: structural validation, the zod
 * schema, message encode/decode, deliver and ack frames, the JSON form.
 * Run: `npm run bench -- fipa [--size BYTES] [--iterations N]`.
 */
import {
  aclMessageSchema, decodeFrame, decodeMessage, encodeDeliverFrame, encodeFrame, encodeMessage,
  isValidMessage, messageFromJson, messageToJson, validateMessage, type AclMessage
} from '../../protocols/fipa/index.js'
import { fmtRate, round } from './stats.js'

export interface FipaOptions {
  /** Calls per operation (some slow ones run a fifth of it). */
  iterations: number
  /** Content size, bytes. */
  size: number
}

/** One codec operation: its figure and its label in the human output. */
const OPERATIONS = [
  { key: 'validate', label: 'validateMessage (fast structural check)', share: 1 },
  { key: 'zodSafeParse', label: 'zod schema safeParse (the error path)', share: 5 },
  { key: 'encode', label: 'encodeMessage', share: 1 },
  { key: 'decode', label: 'decodeMessage (unpack + validate)', share: 1 },
  { key: 'encodeDecode', label: 'encode + decode + validate', share: 1 },
  { key: 'deliverFrame', label: 'encodeFrame(deliver) + decodeFrame', share: 1 },
  { key: 'preEncodedDeliverFrame', label: 'encodeDeliverFrame(pre-encoded) + decodeFrame', share: 1 },
  { key: 'jsonRoundTrip', label: 'messageToJson + JSON.stringify/parse + messageFromJson', share: 5 }
] as const

type OperationKey = typeof OPERATIONS[number]['key']

/** Per content kind: sizes, then `<operation>PerSec` and `<operation>UsPerOp` for every operation. */
export type FipaContentResult = { messageBytes: number, deliverFrameBytes: number }
& { [K in OperationKey as `${K}PerSec`]: number }
& { [K in OperationKey as `${K}UsPerOp`]: number }

export interface FipaResult {
  iterations: number
  contentBytes: number
  stringContent: FipaContentResult
  bytesContent: FipaContentResult
  ackFrameBytes: number
  ackFramePerSec: number
  ackFrameUsPerOp: number
}

/** Calls `f` `n` times after a warm-up; calls/s and µs per call. */
function time (n: number, f: (i: number) => unknown): { perSec: number, usPerOp: number } {
  for (let i = 0; i < Math.min(n, 50_000); i++) f(i)
  const t0 = performance.now()
  for (let i = 0; i < n; i++) f(i)
  const ms = performance.now() - t0
  return { perSec: Math.round(n / ms * 1000), usPerOp: round(ms * 1000 / n) }
}

function line (label: string, t: { perSec: number, usPerOp: number }): string {
  return `${label.padEnd(58)} ${fmtRate(t.perSec).padStart(10)}  ${t.usPerOp.toFixed(2)} µs`
}

/** A typical 2.0.0 deliver header: a second-run order, a predecessor pending, a deadline 30 s out. */
const HEADER = { receiver: 'seller-agent-4', deadline: 1_764_000_030_000, order: 2 * 2 ** 32 + 12_345, after: 2 * 2 ** 32 + 12_344, flags: 0 }

function operation (key: OperationKey, msg: AclMessage, bytes: Uint8Array): (i: number) => unknown {
  switch (key) {
    case 'validate': return () => validateMessage(msg)
    case 'zodSafeParse': return () => aclMessageSchema().safeParse(msg)
    case 'encode': return () => encodeMessage(msg)
    case 'decode': return () => decodeMessage(bytes)
    case 'encodeDecode': return () => decodeMessage(encodeMessage(msg))
    case 'deliverFrame': return (i) => decodeFrame(encodeFrame({ type: 'deliver', seq: i, ...HEADER, message: msg }))
    case 'preEncodedDeliverFrame': return (i) => decodeFrame(encodeDeliverFrame(i, HEADER, bytes))
    case 'jsonRoundTrip': return () => messageFromJson(JSON.parse(JSON.stringify(messageToJson(msg))))
  }
}

function benchContent (label: string, msg: AclMessage, n: number, say: (line: string) => void): FipaContentResult {
  const bytes = encodeMessage(msg)
  const frame = encodeFrame({ type: 'deliver', seq: 12345, ...HEADER, message: msg })
  say(`-- ${label}: message ${bytes.length} B, deliver frame ${frame.length} B`)
  const result: Record<string, number> = { messageBytes: bytes.length, deliverFrameBytes: frame.length }
  for (const op of OPERATIONS) {
    const t = time(Math.round(n / op.share), operation(op.key, msg, bytes))
    say(line(op.label, t))
    result[`${op.key}PerSec`] = t.perSec
    result[`${op.key}UsPerOp`] = t.usPerOp
  }
  return result as FipaContentResult
}

export async function benchFipa (options: FipaOptions, say: (line: string) => void = () => {}): Promise<FipaResult> {
  const n = options.iterations
  const base: AclMessage = {
    messageId: '01JDXYZ7K3M9Q2W4E6R8T0Y1U3',
    createdAt: 1764000000000,
    performative: 'REQUEST',
    sender: 'buyer-agent-17',
    receivers: ['seller-agent-4'],
    content: 'x'.repeat(options.size),
    conversationId: 'conv-01JDXYZ7K3M9Q2W4E6R8T0Y1U3',
    replyWith: 'rw-42',
    protocol: 'fipa-request',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
  }
  if (!isValidMessage(base)) throw new Error('the benchmark message is not valid')
  const binary: AclMessage = { ...base, content: new Uint8Array(options.size).fill(7) }
  const stringContent = benchContent('string content', base, n, say)
  const bytesContent = benchContent('bytes content', binary, n, say)
  const ack = time(n, (i) => decodeFrame(encodeFrame({ type: 'ack', seq: i, status: 'ok' })))
  const ackFrameBytes = encodeFrame({ type: 'ack', seq: 12345, status: 'ok' }).length
  say(line(`ack (${ackFrameBytes} B): encodeFrame + decodeFrame`, ack))
  return {
    iterations: n,
    contentBytes: options.size,
    stringContent,
    bytesContent,
    ackFrameBytes,
    ackFramePerSec: ack.perSec,
    ackFrameUsPerOp: ack.usPerOp
  }
}
