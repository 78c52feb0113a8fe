/**
 * SWIM frames over libp2p (`/caxton/swim/1.0.0`, protocols/swim/SPEC.md §1 and §8): one
 * long-lived outbound stream per member, the frames queued for it during a tick coalesced
 * into one length-prefixed write, and any number of inbound streams read frame by frame.
 * A probe therefore costs a few bytes on a connection that is already open: no
 * connection, no stream, no multistream negotiation per probe.
 */
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import { silentLogger } from '../observability/logger.js'
import { drained, encodeBatch, readFrames } from '../transport/index.js'
import { SeedUnreachableError } from './errors.js'

/** The protocol id of SWIM on libp2p (DESIGN.md "What crosses the wire"). */
export const SWIM_PROTOCOL = '/caxton/swim/1.0.0'

/** What a transport calls back. */
export interface SwimTransportHandlers {
  /** One frame from `from`, the member id the connection authenticated (the remote PeerId). Must not throw. */
  frame: (from: string, bytes: Uint8Array) => void
  /** A connection to `peer` opened (either side dialled). Optional hint: membership may sync at once. */
  connected?: (peer: string) => void
  /** The last connection to `peer` closed (a crashed process resets its connections). Optional hint: membership may probe it at once. */
  disconnected?: (peer: string) => void
}

/**
 * How membership reaches other members. Delivery is best effort: a frame that cannot be
 * delivered is dropped (SWIM's timeouts notice); frames to one member leave in the order
 * they were sent.
 */
export interface SwimTransport {
  start: (handlers: SwimTransportHandlers) => Promise<void>
  /** Closes every stream; frames still queued are dropped. */
  stop: () => Promise<void>
  /**
   * Queues one frame for `to`. Frames queued in the same tick go out in one write.
   * @param addrs the member's addresses (dialled when no connection is open; may be empty)
   */
  send: (to: string, addrs: readonly string[], bytes: Uint8Array) => void
  /** Resolves when what was queued before the call has been written (or dropped), or when `signal` aborts. */
  flush: (options?: { signal?: AbortSignal }) => Promise<void>
  /**
   * Who answers at `addr` (a `--join` address, with or without `/p2p/<id>`).
   * @returns the member id and the address to reach it with (ending in `/p2p/<id>`)
   * @throws SeedUnreachableError
   */
  resolve: (addr: string, options?: { signal?: AbortSignal }) => Promise<{ id: string, addrs: string[] }>
  /** Frames dropped so far (member unreachable, queue full, stopped). */
  readonly framesDropped: number
}

/** The part of libp2p this transport uses. */
export type SwimLibp2p = Pick<Libp2p, 'handle' | 'unhandle' | 'dial' | 'dialProtocol' | 'getConnections' | 'addEventListener' | 'removeEventListener'>

export interface Libp2pSwimTransportOptions {
  libp2p: SwimLibp2p
  /** Largest frame accepted from a member, bytes (a push-pull of the whole table). @default 8 MiB */
  maxFrameBytes?: number
  /** Bound on opening a stream (and dialling) to a member, ms. @default 5000 */
  openTimeoutMs?: number
  /**
   * Bytes queued for one member beyond which new frames to it are dropped (a member that
   * is stalled or unreachable must not grow memory), bytes. @default 16 MiB
   */
  maxQueuedBytes?: number
  logger?: Logger
}

/** One member's outbound stream and the frames waiting for it. */
class Channel {
  stream?: Stream
  opening?: Promise<Stream>
  queue: Uint8Array[] = []
  queuedBytes = 0
  addrs: readonly string[] = []
  flushing = false
  /** Resolved each time the queue has been written out or dropped. */
  idle: Array<() => void> = []
  peerId?: PeerId

  constructor (readonly id: string) {}
}

export class Libp2pSwimTransport implements SwimTransport {
  private readonly channels = new Map<string, Channel>()
  private readonly inbound = new Set<Stream>()
  private readonly log: Logger
  private readonly maxFrameBytes: number
  private readonly openTimeoutMs: number
  private readonly maxQueuedBytes: number
  private handlers?: SwimTransportHandlers
  private running = false
  private dropped = 0
  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    if (this.running) this.handlers?.connected?.(evt.detail.toString())
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    if (this.running) this.handlers?.disconnected?.(evt.detail.toString())
  }

  constructor (private readonly options: Libp2pSwimTransportOptions) {
    this.log = options.logger ?? silentLogger()
    this.maxFrameBytes = options.maxFrameBytes ?? 8 * 1024 * 1024
    this.openTimeoutMs = options.openTimeoutMs ?? 5000
    this.maxQueuedBytes = options.maxQueuedBytes ?? 16 * 1024 * 1024
  }

  async start (handlers: SwimTransportHandlers): Promise<void> {
    if (this.running) return
    this.handlers = handlers
    // A member keeps one stream to us; a few more cover a restart racing the old stream's close.
    await this.options.libp2p.handle(SWIM_PROTOCOL, (stream, connection) => { this.onInbound(stream, connection) }, {
      maxInboundStreams: 8,
      maxOutboundStreams: 8
    })
    this.options.libp2p.addEventListener('peer:connect', this.onConnect)
    this.options.libp2p.addEventListener('peer:disconnect', this.onDisconnect)
    this.running = true
  }

  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    this.options.libp2p.removeEventListener('peer:connect', this.onConnect)
    this.options.libp2p.removeEventListener('peer:disconnect', this.onDisconnect)
    await this.options.libp2p.unhandle(SWIM_PROTOCOL).catch(() => {})
    const closing: Array<Promise<void>> = []
    for (const ch of this.channels.values()) {
      this.drop(ch)
      if (ch.stream !== undefined) closing.push(ch.stream.close({ signal: AbortSignal.timeout(1000) }).catch(() => { ch.stream?.abort(new Error('membership stopped')) }))
    }
    for (const s of this.inbound) s.abort(new Error('membership stopped'))
    await Promise.all(closing)
    this.channels.clear()
    this.inbound.clear()
  }

  send (to: string, addrs: readonly string[], bytes: Uint8Array): void {
    if (!this.running) {
      this.dropped++
      return
    }
    let ch = this.channels.get(to)
    if (ch === undefined) {
      ch = new Channel(to)
      this.channels.set(to, ch)
    }
    if (addrs.length > 0) ch.addrs = addrs
    if (ch.queuedBytes + bytes.byteLength > this.maxQueuedBytes) {
      this.dropped++
      return
    }
    ch.queue.push(bytes)
    ch.queuedBytes += bytes.byteLength
    if (!ch.flushing) {
      ch.flushing = true
      // Everything the protocol emits in this tick rides one write.
      setImmediate(() => { void this.pump(ch) })
    }
  }

  async flush (options: { signal?: AbortSignal } = {}): Promise<void> {
    const waiting = [...this.channels.values()].filter(ch => ch.queue.length > 0 || ch.flushing)
    await Promise.all(waiting.map(async ch => {
      await new Promise<void>(resolve => {
        if (options.signal?.aborted === true) { resolve(); return }
        const done = (): void => { options.signal?.removeEventListener('abort', done); resolve() }
        ch.idle.push(done)
        options.signal?.addEventListener('abort', done, { once: true })
      })
    }))
  }

  async resolve (addr: string, options: { signal?: AbortSignal } = {}): Promise<{ id: string, addrs: string[] }> {
    let ma: Multiaddr
    try {
      ma = multiaddr(addr)
    } catch (err) {
      throw new SeedUnreachableError(addr, 'not a multiaddr', { cause: err })
    }
    let connection: Connection
    try {
      connection = await this.options.libp2p.dial(ma, { signal: options.signal ?? AbortSignal.timeout(this.openTimeoutMs) })
    } catch (err) {
      throw new SeedUnreachableError(addr, (err as Error).message, { cause: err })
    }
    const id = connection.remotePeer.toString()
    return { id, addrs: [withPeer(addr, id)] }
  }

  /** Writes a channel's queue, opening its stream first if needed; drops the queue when that fails. */
  private async pump (ch: Channel): Promise<void> {
    let unsent = 0
    try {
      while (ch.queue.length > 0 && this.running) {
        const stream = ch.stream ?? await this.open(ch)
        const batch = ch.queue
        ch.queue = []
        ch.queuedBytes = 0
        unsent = batch.length
        const more = stream.send(encodeBatch(batch))
        unsent = 0
        if (!more) await drained(stream)
      }
    } catch (err) {
      this.log.debug({ member: ch.id, err: (err as Error).message }, 'cannot reach member; frames dropped')
      this.dropped += unsent
      // A stream that failed a write is done for: the next frame opens a fresh one.
      const broken = ch.stream
      ch.stream = undefined
      broken?.abort(err as Error)
      this.drop(ch)
    } finally {
      ch.flushing = false
      if (ch.queue.length > 0 && this.running) {
        ch.flushing = true
        setImmediate(() => { void this.pump(ch) })
      } else {
        for (const done of ch.idle.splice(0)) done()
        if (!this.running) this.drop(ch)
      }
    }
  }

  private async open (ch: Channel): Promise<Stream> {
    ch.opening ??= (async () => {
      ch.peerId ??= peerIdFromString(ch.id)
      const peer = ch.peerId
      const signal = AbortSignal.timeout(this.openTimeoutMs)
      // Connected: a new stream on the warm connection. Not connected: dial the member's
      // addresses (each ends in /p2p/<id>, so the Noise handshake checks who answers).
      const connected = this.options.libp2p.getConnections(peer).length > 0
      const addrs = connected ? [] : dialable(ch.addrs, ch.id)
      const stream = await this.options.libp2p.dialProtocol(addrs.length > 0 ? addrs : peer, SWIM_PROTOCOL, { signal })
      stream.addEventListener('close', () => {
        if (ch.stream === stream) ch.stream = undefined
      })
      // Nothing is expected back on this stream; anything that comes is discarded.
      stream.addEventListener('message', () => {})
      ch.stream = stream
      return stream
    })().finally(() => { ch.opening = undefined })
    return await ch.opening
  }

  get framesDropped (): number {
    return this.dropped
  }

  private drop (ch: Channel): void {
    this.dropped += ch.queue.length
    ch.queue = []
    ch.queuedBytes = 0
  }

  private onInbound (stream: Stream, connection: Connection): void {
    const from = connection.remotePeer.toString()
    this.inbound.add(stream)
    // A length prefix beyond the limit loses the framing, and so the stream (readFrames aborts it).
    readFrames(stream, this.maxFrameBytes, bytes => { this.handlers?.frame(from, bytes) }, (err) => {
      this.log.warn({ member: from, err: err.message }, 'corrupt SWIM stream from member; closing it')
    })
    stream.addEventListener('close', () => { this.inbound.delete(stream) })
  }
}

/** `addr` ending in `/p2p/<id>`. */
function withPeer (addr: string, id: string): string {
  return addr.includes('/p2p/') ? addr : `${addr}/p2p/${id}`
}

/** The member's addresses as multiaddrs ending in its id; malformed ones are skipped. */
function dialable (addrs: readonly string[], id: string): Multiaddr[] {
  const out: Multiaddr[] = []
  for (const a of addrs) {
    try {
      out.push(multiaddr(withPeer(a, id)))
    } catch {}
  }
  return out
}
