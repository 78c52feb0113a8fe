/**
 * The FIPA-ACL message as an agent sees it, and its codec for the Caxton agent ABI
 * version 1 (protocols/agent-abi/SPEC.md): a version byte, then TLV fields
 * (tag u8, length u32 little-endian, value).
 */
import { Performative, PERFORMATIVE_COUNT } from './performative'

/** ABI version this SDK reads and writes. */
export const ABI_VERSION: u8 = 1

// Field tags (SPEC.md, "Fields"). Kept in sync with protocols/agent-abi/tags.ts.
const TAG_PERFORMATIVE: u8 = 0x01
const TAG_SENDER: u8 = 0x02
const TAG_RECEIVER: u8 = 0x03
const TAG_REPLY_TO: u8 = 0x04
const TAG_CONTENT_BYTES: u8 = 0x05
const TAG_CONTENT_TEXT: u8 = 0x06
const TAG_LANGUAGE: u8 = 0x07
const TAG_ENCODING: u8 = 0x08
const TAG_ONTOLOGY: u8 = 0x09
const TAG_PROTOCOL: u8 = 0x0a
const TAG_CONVERSATION_ID: u8 = 0x0b
const TAG_REPLY_WITH: u8 = 0x0c
const TAG_IN_REPLY_TO: u8 = 0x0d
const TAG_REPLY_BY: u8 = 0x0e
const TAG_MESSAGE_ID: u8 = 0x0f
const TAG_CREATED_AT: u8 = 0x10
const TAG_TRACEPARENT: u8 = 0x11
const TAG_TRACESTATE: u8 = 0x12

const FIELD_HEADER: i32 = 5

/**
 * A FIPA-ACL message. Absent string fields are `""`, absent times are `0`; the encoder
 * leaves those out. `sender`, `messageId` and `createdAt` of an outgoing message are
 * stamped by the router (an agent cannot spoof them), so there is no need to set them.
 */
export class Message {
  performative: Performative = Performative.INFORM
  sender: string = ''
  receivers: string[] = []
  /** FIPA `reply-to`: where replies should go instead of `sender`. */
  replyTo: string[] = []
  /** The content, raw. See `text` for its UTF-8 reading. */
  content: Uint8Array = new Uint8Array(0)
  /** Whether the content was (or is to be) carried as text rather than as bytes. */
  contentIsText: bool = false
  language: string = ''
  encoding: string = ''
  ontology: string = ''
  protocol: string = ''
  conversationId: string = ''
  replyWith: string = ''
  inReplyTo: string = ''
  /** FIPA `reply-by`, ms since the Unix epoch; 0 when absent. */
  replyBy: f64 = 0
  messageId: string = ''
  /** ms since the Unix epoch; 0 when absent. */
  createdAt: f64 = 0
  traceparent: string = ''
  tracestate: string = ''

  /** A new message with a performative and one receiver. */
  static to(receiver: string, performative: Performative): Message {
    const m = new Message()
    m.performative = performative
    m.receivers.push(receiver)
    return m
  }

  /** The content read as UTF-8 text. */
  get text(): string {
    return String.UTF8.decodeUnsafe(this.content.dataStart, <usize>this.content.length)
  }

  /** Sets the content to `text`, carried as text (UTF-8). */
  setText(text: string): Message {
    const buf = String.UTF8.encode(text, false, String.UTF8.ErrorMode.REPLACE)
    this.content = Uint8Array.wrap(buf)
    this.contentIsText = true
    return this
  }

  /** Sets the content to raw bytes. */
  setBytes(bytes: Uint8Array): Message {
    this.content = bytes
    this.contentIsText = false
    return this
  }
}

function readString (ptr: usize, len: usize): string {
  return String.UTF8.decodeUnsafe(ptr, len)
}

/**
 * Decodes a message the host wrote at `ptr` (`len` bytes). Unknown tags are skipped
 * (a newer host may add fields); returns null when the bytes are malformed.
 */
export function decodeMessage (ptr: usize, len: i32): Message | null {
  if (len < 1 || load<u8>(ptr) != ABI_VERSION) return null
  const msg = new Message()
  const end: usize = ptr + <usize>len
  let off: usize = ptr + 1
  while (off < end) {
    if (end - off < <usize>FIELD_HEADER) return null
    const tag = load<u8>(off)
    const n = <usize>load<u32>(off, 1)
    off += <usize>FIELD_HEADER
    if (n > end - off) return null
    if (tag == TAG_PERFORMATIVE) {
      if (n != 1) return null
      const code = <i32>load<u8>(off)
      if (code >= PERFORMATIVE_COUNT) return null
      msg.performative = <Performative>code
    } else if (tag == TAG_SENDER) {
      msg.sender = readString(off, n)
    } else if (tag == TAG_RECEIVER) {
      msg.receivers.push(readString(off, n))
    } else if (tag == TAG_REPLY_TO) {
      msg.replyTo.push(readString(off, n))
    } else if (tag == TAG_CONTENT_BYTES || tag == TAG_CONTENT_TEXT) {
      const content = new Uint8Array(<i32>n)
      memory.copy(content.dataStart, off, n)
      msg.content = content
      msg.contentIsText = tag == TAG_CONTENT_TEXT
    } else if (tag == TAG_LANGUAGE) {
      msg.language = readString(off, n)
    } else if (tag == TAG_ENCODING) {
      msg.encoding = readString(off, n)
    } else if (tag == TAG_ONTOLOGY) {
      msg.ontology = readString(off, n)
    } else if (tag == TAG_PROTOCOL) {
      msg.protocol = readString(off, n)
    } else if (tag == TAG_CONVERSATION_ID) {
      msg.conversationId = readString(off, n)
    } else if (tag == TAG_REPLY_WITH) {
      msg.replyWith = readString(off, n)
    } else if (tag == TAG_IN_REPLY_TO) {
      msg.inReplyTo = readString(off, n)
    } else if (tag == TAG_REPLY_BY) {
      if (n != 8) return null
      msg.replyBy = load<f64>(off)
    } else if (tag == TAG_MESSAGE_ID) {
      msg.messageId = readString(off, n)
    } else if (tag == TAG_CREATED_AT) {
      if (n != 8) return null
      msg.createdAt = load<f64>(off)
    } else if (tag == TAG_TRACEPARENT) {
      msg.traceparent = readString(off, n)
    } else if (tag == TAG_TRACESTATE) {
      msg.tracestate = readString(off, n)
    }
    off += n
  }
  return msg
}

// One growable buffer for outgoing messages: the host copies the bytes during
// `env.send`, so it can be reused at once and sending allocates nothing.
let outbox = new ArrayBuffer(512)

function stringField (s: string): i32 {
  return s.length == 0 ? 0 : FIELD_HEADER + String.UTF8.byteLength(s)
}

function putHeader (off: usize, tag: u8, n: i32): usize {
  store<u8>(off, tag)
  store<u32>(off, <u32>n, 1)
  return off + <usize>FIELD_HEADER
}

function putString (off: usize, tag: u8, s: string): usize {
  if (s.length == 0) return off
  const n = String.UTF8.byteLength(s)
  off = putHeader(off, tag, n)
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, off, false, String.UTF8.ErrorMode.REPLACE)
  return off + <usize>n
}

/** Size of `msg` encoded, bytes. */
function encodedSize (msg: Message): i32 {
  let size = 1 + FIELD_HEADER + 1
  for (let i = 0; i < msg.receivers.length; i++) size += FIELD_HEADER + String.UTF8.byteLength(msg.receivers[i])
  for (let i = 0; i < msg.replyTo.length; i++) size += FIELD_HEADER + String.UTF8.byteLength(msg.replyTo[i])
  if (msg.content.length > 0 || msg.contentIsText) size += FIELD_HEADER + msg.content.length
  size += stringField(msg.sender) + stringField(msg.language) + stringField(msg.encoding) +
    stringField(msg.ontology) + stringField(msg.protocol) + stringField(msg.conversationId) +
    stringField(msg.replyWith) + stringField(msg.inReplyTo) + stringField(msg.messageId) +
    stringField(msg.traceparent) + stringField(msg.tracestate)
  if (msg.replyBy != 0) size += FIELD_HEADER + 8
  if (msg.createdAt != 0) size += FIELD_HEADER + 8
  return size
}

/**
 * Encodes `msg` into the SDK's outbox buffer and returns its pointer; the length is
 * `encodedSize(msg)`, passed back through `lastEncodedLength`.
 */
export function encodeMessage (msg: Message): usize {
  const size = encodedSize(msg)
  if (size > outbox.byteLength) outbox = new ArrayBuffer(max(size, outbox.byteLength << 1))
  const start = changetype<usize>(outbox)
  let off = start
  store<u8>(off, ABI_VERSION)
  off += 1
  off = putHeader(off, TAG_PERFORMATIVE, 1)
  store<u8>(off, <u8>msg.performative)
  off += 1
  off = putString(off, TAG_SENDER, msg.sender)
  for (let i = 0; i < msg.receivers.length; i++) {
    const r = msg.receivers[i]
    const n = String.UTF8.byteLength(r)
    off = putHeader(off, TAG_RECEIVER, n)
    String.UTF8.encodeUnsafe(changetype<usize>(r), r.length, off, false, String.UTF8.ErrorMode.REPLACE)
    off += <usize>n
  }
  for (let i = 0; i < msg.replyTo.length; i++) {
    const r = msg.replyTo[i]
    const n = String.UTF8.byteLength(r)
    off = putHeader(off, TAG_REPLY_TO, n)
    String.UTF8.encodeUnsafe(changetype<usize>(r), r.length, off, false, String.UTF8.ErrorMode.REPLACE)
    off += <usize>n
  }
  if (msg.content.length > 0 || msg.contentIsText) {
    const n = msg.content.length
    off = putHeader(off, msg.contentIsText ? TAG_CONTENT_TEXT : TAG_CONTENT_BYTES, n)
    memory.copy(off, msg.content.dataStart, <usize>n)
    off += <usize>n
  }
  off = putString(off, TAG_LANGUAGE, msg.language)
  off = putString(off, TAG_ENCODING, msg.encoding)
  off = putString(off, TAG_ONTOLOGY, msg.ontology)
  off = putString(off, TAG_PROTOCOL, msg.protocol)
  off = putString(off, TAG_CONVERSATION_ID, msg.conversationId)
  off = putString(off, TAG_REPLY_WITH, msg.replyWith)
  off = putString(off, TAG_IN_REPLY_TO, msg.inReplyTo)
  if (msg.replyBy != 0) {
    off = putHeader(off, TAG_REPLY_BY, 8)
    store<f64>(off, msg.replyBy)
    off += 8
  }
  off = putString(off, TAG_MESSAGE_ID, msg.messageId)
  if (msg.createdAt != 0) {
    off = putHeader(off, TAG_CREATED_AT, 8)
    store<f64>(off, msg.createdAt)
    off += 8
  }
  off = putString(off, TAG_TRACEPARENT, msg.traceparent)
  off = putString(off, TAG_TRACESTATE, msg.tracestate)
  lastEncodedLength = <i32>(off - start)
  return start
}

/** Length of the last `encodeMessage` result, bytes. */
export let lastEncodedLength: i32 = 0
