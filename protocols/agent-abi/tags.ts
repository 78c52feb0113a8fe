/**
 * The field tags of the agent ABI's message layout (SPEC.md §3), version 1. The
 * AssemblyScript SDK (agents/sdk/message.ts) carries the same numbers.
 */

/** The version byte every encoded message starts with. */
export const ABI_VERSION = 1

/** Bytes before a field's value: tag (u8) + length (u32 LE). */
export const FIELD_HEADER_BYTES = 5

export const TAG = {
  performative: 0x01,
  sender: 0x02,
  receiver: 0x03,
  replyTo: 0x04,
  contentBytes: 0x05,
  contentText: 0x06,
  language: 0x07,
  encoding: 0x08,
  ontology: 0x09,
  protocol: 0x0a,
  conversationId: 0x0b,
  replyWith: 0x0c,
  inReplyTo: 0x0d,
  replyBy: 0x0e,
  messageId: 0x0f,
  createdAt: 0x10,
  traceparent: 0x11,
  tracestate: 0x12
} as const

/** How a field's value is laid out. */
export type FieldKind = 'performative' | 'string' | 'strings' | 'bytes' | 'text' | 'f64'

export interface FieldSpec {
  /** The `AclMessage` property the field maps to. */
  key: string
  /** FIPA parameter name, for error messages. */
  name: string
  kind: FieldKind
}

/** Field specs by tag; `undefined` for a tag version 1 does not define. */
export const FIELDS: ReadonlyArray<FieldSpec | undefined> = (() => {
  const table: Array<FieldSpec | undefined> = []
  const add = (tag: number, key: string, name: string, kind: FieldKind): void => { table[tag] = { key, name, kind } }
  add(TAG.performative, 'performative', 'performative', 'performative')
  add(TAG.sender, 'sender', 'sender', 'string')
  add(TAG.receiver, 'receivers', 'receiver', 'strings')
  add(TAG.replyTo, 'replyTo', 'reply-to', 'strings')
  add(TAG.contentBytes, 'content', 'content', 'bytes')
  add(TAG.contentText, 'content', 'content', 'text')
  add(TAG.language, 'language', 'language', 'string')
  add(TAG.encoding, 'encoding', 'encoding', 'string')
  add(TAG.ontology, 'ontology', 'ontology', 'string')
  add(TAG.protocol, 'protocol', 'protocol', 'string')
  add(TAG.conversationId, 'conversationId', 'conversation-id', 'string')
  add(TAG.replyWith, 'replyWith', 'reply-with', 'string')
  add(TAG.inReplyTo, 'inReplyTo', 'in-reply-to', 'string')
  add(TAG.replyBy, 'replyBy', 'reply-by', 'f64')
  add(TAG.messageId, 'messageId', 'message-id', 'string')
  add(TAG.createdAt, 'createdAt', 'created-at', 'f64')
  add(TAG.traceparent, 'traceparent', 'traceparent', 'string')
  add(TAG.tracestate, 'tracestate', 'tracestate', 'string')
  return table
})()
