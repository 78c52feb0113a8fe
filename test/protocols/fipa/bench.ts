/**
 * Throughput of the FIPA-ACL codecs on a message with 200 bytes of content (not a test:
 * prints figures). Run: `npx tsx test/protocols/fipa/bench.ts`
 */
import {
  aclMessageSchema, decodeFrame, decodeMessage, encodeDeliverFrame, encodeFrame, encodeMessage,
  isValidMessage, messageFromJson, messageToJson, validateMessage, type AclMessage
} from '../../../protocols/fipa/index.js'

const base: AclMessage = {
  messageId: '01JDXYZ7K3M9Q2W4E6R8T0Y1U3',
  createdAt: 1764000000000,
  performative: 'REQUEST',
  sender: 'buyer-agent-17',
  receivers: ['seller-agent-4'],
  content: 'x'.repeat(200),
  conversationId: 'conv-01JDXYZ7K3M9Q2W4E6R8T0Y1U3',
  replyWith: 'rw-42',
  protocol: 'fipa-request',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
}
const binary: AclMessage = { ...base, content: new Uint8Array(200).fill(7) }

function bench (name: string, n: number, f: (i: number) => unknown): void {
  for (let i = 0; i < Math.min(n, 50_000); i++) f(i)
  const t0 = performance.now()
  for (let i = 0; i < n; i++) f(i)
  const ms = performance.now() - t0
  console.log(`${name.padEnd(58)} ${Math.round(n / ms * 1000).toLocaleString('en-US').padStart(11)} /s  ${(ms * 1000 / n).toFixed(2)} µs`)
}

const N = Number(process.env.N ?? 300_000)
for (const [label, msg] of [['string content', base], ['bytes content', binary]] as const) {
  const bytes = encodeMessage(msg)
  const frame = encodeFrame({ type: 'deliver', seq: 12345, message: msg })
  console.log(`-- ${label}: message ${bytes.length} B, deliver frame ${frame.length} B`)
  bench('validateMessage (fast structural check)', N, () => validateMessage(msg))
  bench('zod schema safeParse (the error path)', N / 5, () => aclMessageSchema().safeParse(msg))
  bench('encodeMessage', N, () => encodeMessage(msg))
  bench('decodeMessage (unpack + validate)', N, () => decodeMessage(bytes))
  bench('encode + decode + validate', N, () => decodeMessage(encodeMessage(msg)))
  bench('encodeFrame(deliver) + decodeFrame', N, (i) => decodeFrame(encodeFrame({ type: 'deliver', seq: i, message: msg })))
  bench('encodeDeliverFrame(pre-encoded) + decodeFrame', N, (i) => decodeFrame(encodeDeliverFrame(i, bytes)))
  bench('messageToJson + JSON.stringify/parse + messageFromJson', N / 5, () => messageFromJson(JSON.parse(JSON.stringify(messageToJson(msg)))))
}
const ack = encodeFrame({ type: 'ack', seq: 12345, status: 'ok' })
bench('ack: encodeFrame + decodeFrame', N, (i) => decodeFrame(encodeFrame({ type: 'ack', seq: i, status: 'ok' })))
console.log(`ack frame ${ack.length} B; isValidMessage sanity: ${isValidMessage(base)}`)
