/**
 * Node-to-node delivery on `/caxton/fipa/2.0.0` (protocols/fipa/SPEC.md §4): one long-lived
 * outbound stream per peer carrying deliver frames, coalesced into one write per tick, and
 * ack frames coming back on the same stream (held up to {@link ACK_HOLD_MS} to leave with
 * deliver frames of the acking node to the same peer). The link reports every entry it was given
 * exactly once: acked (with the peer's answer) or failed (the stream broke, no ack came
 * within `ackTimeoutMs`, or the peer could not be reached). On an ack timeout it aborts the
 * stream, so a frame whose outcome it reported can no longer reach the peer later on that
 * stream; what the peer did accept is caught by its duplicate check when the sender retries.
 */
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from 'pino'
import {
  decodeFrame, deliverMessageOffset, encodeDeliverFrame, encodeFrame, FIPA_PROTOCOL_ID, FrameDecodeError,
  type AckStatus, type AclLimits, type DeliverFrame, type DeliverHeader, type FipaFrame
} from '../../protocols/fipa/index.js'
import type { RefusedFrameSink } from '../audit/index.js'
import { silentLogger } from '../observability/logger.js'
import type { MetricsRegistry } from '../observability/metrics.js'
import { LinkMetrics } from './metrics.js'
import { fewerWindowUpdates, FrameWriter, readFrames } from '../transport/index.js'

export const FIPA_PROTOCOL = FIPA_PROTOCOL_ID

/** Longest an ack waits for a frame of ours to its peer to ride with, ms. */
export const ACK_HOLD_MS = 2

/** What a receiving node answers for one entry. */
export interface Ack {
  status: AckStatus
  reason?: string
}

/** One entry to deliver: its header and its message, already encoded (msgpack form). */
export interface OutgoingEntry {
  header: DeliverHeader
  message: Uint8Array
}

/** What the link calls back. None may throw. */
export interface LinkHandlers {
  /**
   * A peer delivered `frame`; `from` is its PeerId as the Noise handshake authenticated it.
   * `messageBytes` are the message's own bytes inside the frame (its msgpack form, already
   * validated), when they could be located. Call `answer` exactly once, now or later (after persisting).
   */
  receive: (from: string, frame: DeliverFrame, answer: (ack: Ack) => void, messageBytes?: Uint8Array) => void
  /** `peer` answered for the entry with this order. */
  acked: (peer: string, order: number, ack: Ack) => void
  /** These entries to `peer` will get no answer: `reason` says why. */
  failed: (peer: string, orders: number[], reason: string) => void
}

export interface FipaLinkOptions {
  libp2p: Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol'>
  /** How long an entry may wait for its ack before the stream is given up, ms. */
  ackTimeoutMs: number
  limits?: Partial<AclLimits>
  /** Largest frame accepted from a peer, bytes. @default maxContentBytes + 64 KiB */
  maxFrameBytes?: number
  /** Bytes queued for one stream before further entries to it fail at once, bytes. @default 64 MiB */
  maxQueuedBytes?: number
  /** Told of every frame refused from a peer (the node counts them into its audit log). */
  onRefusedFrame?: RefusedFrameSink
  logger?: Logger
  metrics?: MetricsRegistry
}

/** One outbound stream and the entries awaiting acks on it, by seq (insertion order = seq order). */
interface OpenStream {
  stream: Stream
  writer: FrameWriter
  nextSeq: number
  pending: Map<number, { order: number, sentAt: number }>
}

/** One peer: its current stream, or the entries waiting for it to open. */
class Peer {
  current?: OpenStream
  opening = false
  waiting: OutgoingEntry[] = []
  peerId?: PeerId
  /** The ack writers of the streams this peer opened to us (acks wait to ride with our frames). */
  readonly acks = new Set<FrameWriter>()

  constructor (readonly id: string) {}
}

export class FipaLink {
  private readonly peers = new Map<string, Peer>()
  private readonly inbound = new Set<Stream>()
  private readonly log: Logger
  private readonly maxFrameBytes: number
  private readonly maxQueuedBytes: number
  private handlers?: LinkHandlers
  private sweepTimer?: NodeJS.Timeout
  private running = false
  private readonly metrics?: LinkMetrics

  constructor (private readonly options: FipaLinkOptions) {
    this.log = options.logger ?? silentLogger()
    this.maxFrameBytes = options.maxFrameBytes ?? (options.limits?.maxContentBytes ?? 1024 * 1024) + 64 * 1024
    this.maxQueuedBytes = options.maxQueuedBytes ?? 64 * 1024 * 1024
    if (options.metrics != null) this.metrics = new LinkMetrics(options.metrics)
  }

  async start (handlers: LinkHandlers): Promise<void> {
    if (this.running) return
    this.handlers = handlers
    await this.options.libp2p.handle(FIPA_PROTOCOL, (stream, connection) => { this.onInboundStream(stream, connection) }, {
      maxInboundStreams: 64,
      maxOutboundStreams: 64
    })
    const sweepEvery = Math.max(5, Math.min(1000, Math.floor(this.options.ackTimeoutMs / 4)))
    this.sweepTimer = setInterval(() => { this.sweep() }, sweepEvery)
    this.sweepTimer.unref()
    this.running = true
  }

  /** Closes every stream; entries still waiting are reported failed. */
  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    clearInterval(this.sweepTimer)
    await this.options.libp2p.unhandle(FIPA_PROTOCOL).catch(() => {})
    const closing: Array<Promise<void>> = []
    for (const p of this.peers.values()) {
      const open = p.current
      this.failWaiting(p, 'this node is stopping')
      if (open !== undefined) {
        this.failStream(p, open, 'this node is stopping')
        closing.push(open.stream.close({ signal: AbortSignal.timeout(1000) }).catch(() => { open.stream.abort(new Error('stopping')) }))
      }
    }
    for (const s of this.inbound) s.abort(new Error('this node is stopping'))
    await Promise.all(closing)
    this.peers.clear()
    this.inbound.clear()
  }

  /**
   * Writes entries to `peer` (a PeerId string), opening its stream first if needed. Every
   * entry is reported later through `acked` or `failed`.
   */
  send (peerId: string, entries: readonly OutgoingEntry[]): void {
    if (entries.length === 0) return
    if (!this.running) {
      this.handlers?.failed(peerId, entries.map(e => e.header.order), 'this node is not running')
      return
    }
    const p = this.peer(peerId)
    if (p.current === undefined) {
      p.waiting.push(...entries)
      this.open(p)
      return
    }
    this.write(p, p.current, entries)
  }

  private peer (id: string): Peer {
    let p = this.peers.get(id)
    if (p === undefined) {
      p = new Peer(id)
      this.peers.set(id, p)
    }
    return p
  }

  private write (p: Peer, open: OpenStream, entries: readonly OutgoingEntry[]): void {
    const now = performance.now()
    const refused: number[] = []
    for (const e of entries) {
      const seq = open.nextSeq
      if (!open.writer.write(encodeDeliverFrame(seq, e.header, e.message))) {
        refused.push(e.header.order)
        continue
      }
      open.nextSeq++
      open.pending.set(seq, { order: e.header.order, sentAt: now })
    }
    this.metrics?.sent.inc(entries.length - refused.length)
    if (refused.length > 0) this.handlers?.failed(p.id, refused, `more than ${this.maxQueuedBytes} bytes queued for node ${p.id}`)
  }

  private open (p: Peer): void {
    if (p.opening) return
    p.opening = true
    void (async () => {
      try {
        p.peerId ??= peerIdFromString(p.id)
        const stream = await this.options.libp2p.dialProtocol(p.peerId, FIPA_PROTOCOL, { signal: AbortSignal.timeout(this.options.ackTimeoutMs) })
        if (!this.running) {
          stream.abort(new Error('this node is stopping'))
          return
        }
        // A long-lived stream of small frames: a yamux window update per frame was a third of its writes.
        fewerWindowUpdates(stream)
        const open: OpenStream = {
          stream,
          nextSeq: 0,
          pending: new Map(),
          writer: new FrameWriter(stream, {
            maxQueuedBytes: this.maxQueuedBytes,
            onError: (err) => { stream.abort(err) },
            // Acks held for this peer leave in the same turn, so in the same socket write.
            beforeSend: () => { for (const acks of p.acks) acks.sendNow() }
          })
        }
        readFrames(stream, 64 * 1024, bytes => { this.onAckFrame(p, open, bytes) }, (err) => {
          this.log.warn({ peer: p.id, err: err.message }, 'corrupt ack stream from peer; closing it')
        })
        stream.addEventListener('close', () => {
          if (p.current === open) p.current = undefined
          this.failStream(p, open, 'the stream to the peer closed before the ack')
        })
        p.current = open
        const waiting = p.waiting
        p.waiting = []
        this.write(p, open, waiting)
      } catch (err) {
        this.failWaiting(p, `cannot reach node ${p.id}: ${(err as Error).message}`)
      } finally {
        p.opening = false
        // Entries that came while the dial failed wait for another attempt.
        if (p.current === undefined && p.waiting.length > 0 && this.running) this.open(p)
      }
    })()
  }

  private onAckFrame (p: Peer, open: OpenStream, bytes: Uint8Array): void {
    let frame: FipaFrame
    try {
      frame = decodeFrame(bytes)
    } catch (err) {
      this.log.warn({ peer: p.id, err: (err as Error).message }, 'dropping undecodable frame on an outbound stream')
      return
    }
    if (frame.type !== 'ack') return
    const pending = open.pending.get(frame.seq)
    if (pending === undefined) return
    open.pending.delete(frame.seq)
    this.metrics?.ackLatency.observe((performance.now() - pending.sentAt) / 1000)
    this.handlers?.acked(p.id, pending.order, frame.reason !== undefined ? { status: frame.status, reason: frame.reason } : { status: frame.status })
  }

  private failStream (p: Peer, open: OpenStream, reason: string): void {
    if (open.pending.size === 0) return
    const orders = [...open.pending.values()].map(x => x.order)
    open.pending.clear()
    this.handlers?.failed(p.id, orders, reason)
  }

  private failWaiting (p: Peer, reason: string): void {
    if (p.waiting.length === 0) return
    const orders = p.waiting.map(e => e.header.order)
    p.waiting = []
    this.handlers?.failed(p.id, orders, reason)
  }

  /**
   * Gives up streams whose oldest entry waited longer than `ackTimeoutMs` for its ack: the
   * stream is aborted (so nothing on it reaches the peer later) and its entries fail.
   */
  private sweep (): void {
    const deadline = performance.now() - this.options.ackTimeoutMs
    for (const p of this.peers.values()) {
      const open = p.current
      if (open === undefined) continue
      const oldest = first(open.pending)
      if (oldest === undefined || oldest.sentAt > deadline) continue
      p.current = undefined
      this.failStream(p, open, `no ack within ${this.options.ackTimeoutMs} ms`)
      open.stream.abort(new Error(`no ack within ${this.options.ackTimeoutMs} ms`))
    }
  }

  private onInboundStream (stream: Stream, connection: Connection): void {
    const from = connection.remotePeer.toString()
    fewerWindowUpdates(stream)
    this.inbound.add(stream)
    let open = true
    // Acks wait up to ACK_HOLD_MS for a frame of ours to the same peer (a reply, usually)
    // and leave with it in one socket write; with one message in flight, an ack of its
    // own was a write on this node and a wake-up on the peer per message.
    const acks = new FrameWriter(stream, { maxQueuedBytes: 16 * 1024 * 1024, onError: (err) => { stream.abort(err) }, holdMs: ACK_HOLD_MS })
    const peer = this.peer(from)
    peer.acks.add(acks)
    const answer = (seq: number) => (ack: Ack): void => {
      if (!open) return
      acks.write(encodeFrame({ type: 'ack', seq, ...ack }))
    }
    readFrames(stream, this.maxFrameBytes, bytes => { this.onDeliverFrame(from, bytes, answer) }, (err) => {
      this.log.warn({ peer: from, err: err.message }, 'corrupt frame stream from peer; closing it')
      this.options.onRefusedFrame?.(from, FIPA_PROTOCOL, 'corrupt-stream', err.message)
    })
    stream.addEventListener('close', () => {
      open = false
      this.inbound.delete(stream)
      peer.acks.delete(acks)
    })
  }

  private onDeliverFrame (from: string, bytes: Uint8Array, answer: (seq: number) => (ack: Ack) => void): void {
    let frame: FipaFrame
    try {
      frame = decodeFrame(bytes, this.options.limits)
    } catch (err) {
      if (err instanceof FrameDecodeError && err.seq != null) {
        answer(err.seq)({ status: 'rejected', reason: err.message })
      } else {
        this.log.warn({ peer: from, err: String(err) }, 'dropping undecodable frame from peer')
      }
      this.options.onRefusedFrame?.(from, FIPA_PROTOCOL, 'undecodable', err instanceof Error ? err.message : String(err))
      return
    }
    if (frame.type !== 'deliver') return
    this.metrics?.received.inc()
    let answered = false
    const reply = answer(frame.seq)
    try {
      const at = deliverMessageOffset(bytes)
      this.handlers?.receive(from, frame, (ack) => {
        if (answered) return
        answered = true
        reply(ack)
      }, at > 0 ? bytes.subarray(at) : undefined)
    } catch (err) {
      this.log.error({ peer: from, err }, 'message handler threw')
      if (!answered) {
        answered = true
        reply({ status: 'not-running', reason: 'internal error on the receiving node' })
      }
    }
  }
}

function first<K, V> (map: Map<K, V>): V | undefined {
  for (const v of map.values()) return v
  return undefined
}
