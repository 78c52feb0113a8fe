/**
 * Node-to-node delivery of ACL messages on `/caxton/fipa/1.0.0` (protocols/fipa/SPEC.md):
 * one long-lived outbound stream per peer, deliver frames coalesced into one write per
 * tick, and one ack frame per message coming back on the same stream.
 */
import type { Logger } from 'pino'
import type { Libp2p, PeerId, Stream, Connection } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { decodeFrame, encodeFrame, FrameDecodeError, type AckStatus, type FipaFrame } from '../../protocols/fipa/index.js'
import type { AclLimits } from '../../protocols/fipa/index.js'
import type { AclMessage } from '../../protocols/fipa/types.js'
import { silentLogger } from '../observability/logger.js'
import { Counter, Histogram, type Registry } from '../observability/metrics.js'
import { DeliveryError } from './errors.js'
import { createFrameDecoder, encodeBatch } from './framing.js'

export const FIPA_PROTOCOL = '/caxton/fipa/1.0.0'

/** What the receiving node answers for one message. */
export interface Ack {
  status: AckStatus
  reason?: string
}

export interface FipaLinkOptions {
  libp2p: Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol'>
  /** Called for each message a peer delivers; its answer goes back as the ack. Must not throw. */
  onMessage: (from: string, message: AclMessage) => Ack
  /** How long a message may wait for its ack, ms. */
  ackTimeoutMs: number
  /** Most frames in one stream write. */
  maxBatch: number
  limits?: Partial<AclLimits>
  /** Largest frame accepted from a peer, bytes. @default maxContentBytes + 64 KiB */
  maxFrameBytes?: number
  logger?: Logger
  metrics?: Registry
}

interface Pending {
  resolve: (ack: Ack) => void
  reject: (err: Error) => void
  sentAt: number
}

/** One peer's outbound stream, its queue of encoded frames, and the messages awaiting acks. */
class OutboundChannel {
  stream?: Stream
  opening?: Promise<Stream>
  readonly queue: Uint8Array[] = []
  readonly pending = new Map<number, Pending>()
  nextSeq = 0
  flushing = false

  constructor (readonly peer: PeerId, readonly key: string) {}
}

export class FipaLink {
  private readonly channels = new Map<string, OutboundChannel>()
  private readonly inbound = new Set<Stream>()
  private readonly log: Logger
  private readonly maxFrameBytes: number
  private sweepTimer?: NodeJS.Timeout
  private started = false
  private readonly sent?: Counter
  private readonly received?: Counter
  private readonly ackLatency?: Histogram

  constructor (private readonly options: FipaLinkOptions) {
    this.log = options.logger ?? silentLogger()
    this.maxFrameBytes = options.maxFrameBytes ?? (options.limits?.maxContentBytes ?? 1024 * 1024) + 64 * 1024
    if (options.metrics != null) {
      this.sent = new Counter({ name: 'caxton_fipa_frames_sent_total', help: 'Deliver frames written to peers', registers: [options.metrics] })
      this.received = new Counter({ name: 'caxton_fipa_frames_received_total', help: 'Deliver frames read from peers', registers: [options.metrics] })
      this.ackLatency = new Histogram({
        name: 'caxton_fipa_ack_seconds',
        help: 'Time from queueing a message for a peer to its ack',
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
        registers: [options.metrics]
      })
    }
  }

  async start (): Promise<void> {
    await this.options.libp2p.handle(FIPA_PROTOCOL, (stream, connection) => { this.onInboundStream(stream, connection) }, {
      maxInboundStreams: 64,
      maxOutboundStreams: 64
    })
    const sweepEvery = Math.max(5, Math.min(1000, Math.floor(this.options.ackTimeoutMs / 4)))
    this.sweepTimer = setInterval(() => { this.sweep() }, sweepEvery)
    this.sweepTimer.unref()
    this.started = true
  }

  async stop (): Promise<void> {
    this.started = false
    clearInterval(this.sweepTimer)
    await this.options.libp2p.unhandle(FIPA_PROTOCOL)
    for (const ch of this.channels.values()) this.failChannel(ch, new DeliveryError(ch.key, 'closed', 'this node is stopping'))
    const closing = [...this.channels.values()].map(async ch => await ch.stream?.close().catch(() => {}))
    for (const s of this.inbound) closing.push(s.close().catch(() => {}))
    await Promise.all(closing)
    this.channels.clear()
    this.inbound.clear()
  }

  /**
   * Sends one message to a peer (a PeerId or its string form) and resolves with the
   * peer's ack.
   * @throws DeliveryError (`timeout`, `unreachable`, `closed`) when no ack arrives.
   */
  async send (peer: PeerId | string, message: AclMessage): Promise<Ack> {
    // Keyed by the string form: parsing or printing a PeerId (base58) per message costs more than the rest of the send.
    const key = typeof peer === 'string' ? peer : peer.toString()
    if (!this.started) throw new DeliveryError(key, 'closed', 'this node is not running')
    let ch = this.channels.get(key)
    if (ch == null) {
      ch = new OutboundChannel(typeof peer === 'string' ? peerIdFromString(peer) : peer, key)
      this.channels.set(key, ch)
    }
    const seq = ch.nextSeq++
    ch.queue.push(encodeFrame({ type: 'deliver', seq, message }))
    const { promise, resolve, reject } = Promise.withResolvers<Ack>()
    ch.pending.set(seq, { resolve, reject, sentAt: performance.now() })
    if (!ch.flushing) {
      ch.flushing = true
      setImmediate(() => { void this.flush(ch) })
    }
    return await promise
  }

  private async flush (ch: OutboundChannel): Promise<void> {
    try {
      while (ch.queue.length > 0 && this.started) {
        const stream = ch.stream ?? await this.open(ch)
        const batch = ch.queue.splice(0, this.options.maxBatch)
        this.sent?.inc(batch.length)
        if (!stream.send(encodeBatch(batch))) {
          // onDrain() of @libp2p/utils 7.4 resolves only once: wait for the event itself.
          await new Promise<void>((resolve, reject) => {
            const done = (): void => { stream.removeEventListener('close', closed); resolve() }
            const closed = (): void => { stream.removeEventListener('drain', done); reject(new Error('stream closed while waiting for drain')) }
            stream.addEventListener('drain', done, { once: true })
            stream.addEventListener('close', closed, { once: true })
          })
        }
      }
    } catch (err) {
      this.failChannel(ch, new DeliveryError(ch.key, 'unreachable', (err as Error).message, { cause: err }))
    } finally {
      ch.flushing = false
      if (ch.queue.length > 0 && this.started) {
        ch.flushing = true
        setImmediate(() => { void this.flush(ch) })
      }
    }
  }

  private async open (ch: OutboundChannel): Promise<Stream> {
    ch.opening ??= (async () => {
      const stream = await this.options.libp2p.dialProtocol(ch.peer, FIPA_PROTOCOL, { signal: AbortSignal.timeout(this.options.ackTimeoutMs) })
      const decoder = createFrameDecoder(64 * 1024)
      stream.addEventListener('message', (evt) => {
        try {
          for (const bytes of decoder.decode(evt.data)) this.onAck(ch, bytes)
        } catch (err) {
          this.log.warn({ peer: ch.key, err: (err as Error).message }, 'corrupt ack stream from peer; closing it')
          stream.abort(err as Error)
        }
      })
      stream.addEventListener('close', () => {
        if (ch.stream === stream) ch.stream = undefined
        this.failChannel(ch, new DeliveryError(ch.key, 'closed', 'the stream to the peer closed before the ack'))
      })
      ch.stream = stream
      return stream
    })().finally(() => { ch.opening = undefined })
    return await ch.opening
  }

  private onAck (ch: OutboundChannel, bytes: Uint8Array): void {
    let frame: FipaFrame
    try {
      frame = decodeFrame(bytes)
    } catch (err) {
      this.log.warn({ peer: ch.key, err: (err as Error).message }, 'dropping undecodable frame on an outbound stream')
      return
    }
    if (frame.type !== 'ack') return
    const p = ch.pending.get(frame.seq)
    if (p == null) return
    ch.pending.delete(frame.seq)
    this.ackLatency?.observe((performance.now() - p.sentAt) / 1000)
    p.resolve(frame.reason != null ? { status: frame.status, reason: frame.reason } : { status: frame.status })
  }

  private failChannel (ch: OutboundChannel, err: Error): void {
    ch.queue.length = 0
    for (const p of ch.pending.values()) p.reject(err)
    ch.pending.clear()
  }

  /** Rejects messages whose ack is overdue. Pending entries are in send order, so the scan stops at the first fresh one. */
  private sweep (): void {
    const deadline = performance.now() - this.options.ackTimeoutMs
    for (const ch of this.channels.values()) {
      for (const [seq, p] of ch.pending) {
        if (p.sentAt > deadline) break
        ch.pending.delete(seq)
        p.reject(new DeliveryError(ch.key, 'timeout', `no ack within ${this.options.ackTimeoutMs} ms`))
      }
    }
  }

  private onInboundStream (stream: Stream, connection: Connection): void {
    const from = connection.remotePeer.toString()
    this.inbound.add(stream)
    const decoder = createFrameDecoder(this.maxFrameBytes)
    const acks: Uint8Array[] = []
    let ackScheduled = false
    const queueAck = (seq: number, ack: Ack): void => {
      acks.push(encodeFrame({ type: 'ack', seq, ...ack }))
      if (!ackScheduled) {
        ackScheduled = true
        setImmediate(() => {
          ackScheduled = false
          if (acks.length === 0) return
          try {
            stream.send(encodeBatch(acks.splice(0)))
          } catch (err) {
            this.log.debug({ peer: from, err: (err as Error).message }, 'could not write acks')
          }
        })
      }
    }
    stream.addEventListener('message', (evt) => {
      let frames: Generator<Uint8Array>
      try {
        frames = decoder.decode(evt.data)
        for (const bytes of frames) this.onDeliverFrame(from, bytes, queueAck)
      } catch (err) {
        // A length prefix past the limit: framing is lost, so the stream is useless.
        this.log.warn({ peer: from, err: (err as Error).message }, 'corrupt frame stream from peer; closing it')
        stream.abort(err as Error)
      }
    })
    stream.addEventListener('close', () => { this.inbound.delete(stream) })
  }

  private onDeliverFrame (from: string, bytes: Uint8Array, queueAck: (seq: number, ack: Ack) => void): void {
    let frame: FipaFrame
    try {
      frame = decodeFrame(bytes, this.options.limits)
    } catch (err) {
      if (err instanceof FrameDecodeError && err.seq != null) {
        queueAck(err.seq, { status: 'rejected', reason: err.message })
      } else {
        this.log.warn({ peer: from, err: String(err) }, 'dropping undecodable frame from peer')
      }
      return
    }
    if (frame.type !== 'deliver') return
    this.received?.inc()
    let ack: Ack
    try {
      ack = this.options.onMessage(from, frame.message)
    } catch (err) {
      this.log.error({ peer: from, err }, 'message handler threw')
      ack = { status: 'rejected', reason: 'internal error on the receiving node' }
    }
    queueAck(frame.seq, ack)
  }
}
