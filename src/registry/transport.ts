/**
 * How the registry service moves bytes, as two narrow interfaces (gossip and sync
 * channels), and their libp2p implementations: gossipsub topic `caxton/registry/2` and
 * streams of `/caxton/registry-sync/2.0.0` carrying length-prefixed frames
 * (`src/transport/framing.ts`, shared by every Caxton protocol). Tests implement the interfaces in memory.
 */
import type { Libp2p, Stream } from '@libp2p/interface'
import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub'
import { createTopicScoreParams, type TopicScoreParams } from '@libp2p/gossipsub/score'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from 'pino'
import { REGISTRY_GOSSIP_TOPIC, REGISTRY_SYNC_PROTOCOL } from '../../protocols/registry/index.js'
import { silentLogger } from '../observability/logger.js'
import { drained, encodeBatch, FrameInbox, readFrames } from '../transport/index.js'
import type { GossipVerdict } from './replica.js'

/** The registry's gossip topic, as the service sees it. */
export interface RegistryGossip {
  /**
   * Subscribes; `onMessage` gets each message with its authenticated publisher (PeerId
   * string) and says whether it is to be forwarded (`accept`), dropped (`ignore`), or
   * dropped with a penalty for the peer that sent it (`reject`).
   */
  start: (onMessage: (from: string, data: Uint8Array) => GossipVerdict) => void
  stop: () => void
  /** Publishes to every subscribed member; never throws (a node alone publishes to nobody). */
  publish: (data: Uint8Array) => Promise<void>
}

/** One anti-entropy stream: whole frames in, whole frames out. */
export interface SyncChannel {
  /** Sends one frame (waits while the transport pushes back). */
  send: (frame: Uint8Array) => Promise<void>
  /** The next frame, or `undefined` once the other side closed. Rejects when `signal` aborts. */
  receive: (signal: AbortSignal) => Promise<Uint8Array | undefined>
  /** Closes gracefully (after the last frame). */
  close: () => Promise<void>
  /** Breaks the stream off. */
  abort: (err: Error) => void
}

/** Opens and accepts anti-entropy streams. */
export interface SyncNetwork {
  /** Starts accepting streams; `onIncoming` owns each channel it is given. */
  start: (onIncoming: (peer: string, channel: SyncChannel) => void) => Promise<void>
  stop: () => Promise<void>
  /** @throws the transport's error when the peer cannot be reached or does not speak the protocol */
  open: (peer: string, signal: AbortSignal) => Promise<SyncChannel>
}

export { FrameInbox }

/** 64 MiB: a full reply of ~200,000 entries (SPEC §6: 150-300 bytes each). */
export const DEFAULT_MAX_SYNC_FRAME_BYTES = 64 * 1024 * 1024

/**
 * Peer score of the registry topic: only invalid messages count (gossipsub v1.1's P4),
 * quadratically, so one rejected message costs its sender 100 points (gossipsub's
 * default graylist threshold is -80: its messages are then ignored) and the count
 * decays by 10% a second (back to 0 in about 22 s). Registry traffic is sparse, so the
 * delivery-rate parameters (P1-P3) stay off: they would penalise honest quiet peers.
 */
export const REGISTRY_TOPIC_SCORE: Partial<TopicScoreParams> = Object.freeze({
  topicWeight: 1,
  timeInMeshWeight: 0,
  firstMessageDeliveriesWeight: 0,
  meshMessageDeliveriesWeight: 0,
  meshFailurePenaltyWeight: 0,
  invalidMessageDeliveriesWeight: -100,
  invalidMessageDeliveriesDecay: 0.9
})

const VERDICTS: Record<GossipVerdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject
}

/**
 * {@link RegistryGossip} on gossipsub. Messages are handled in the topic's validator, so
 * gossipsub forwards only what the registry accepted and penalises the peer score of a
 * peer that sent what it rejected; only signed messages are taken (their `from` is
 * authenticated).
 */
export class GossipsubRegistryGossip implements RegistryGossip {
  private readonly log: Logger
  private readonly topic: string

  constructor (private readonly pubsub: GossipSub, options: { topic?: string, logger?: Logger } = {}) {
    this.topic = options.topic ?? REGISTRY_GOSSIP_TOPIC
    this.log = options.logger ?? silentLogger()
  }

  start (onMessage: (from: string, data: Uint8Array) => GossipVerdict): void {
    scoreTopic(this.pubsub, this.topic)
    this.pubsub.topicValidators.set(this.topic, (_peer, msg: Message) => {
      if (msg.type !== 'signed') {
        this.log.debug('rejecting an unsigned registry message')
        return TopicValidatorResult.Reject
      }
      return VERDICTS[onMessage(msg.from.toString(), msg.data)]
    })
    this.pubsub.subscribe(this.topic)
  }

  stop (): void {
    this.pubsub.topicValidators.delete(this.topic)
    try {
      this.pubsub.unsubscribe(this.topic)
    } catch {
      // gossipsub already stopped
    }
  }

  async publish (data: Uint8Array): Promise<void> {
    try {
      await this.pubsub.publish(this.topic, data)
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'registry message not published (anti-entropy will carry it)')
    }
  }
}

/**
 * Adds {@link REGISTRY_TOPIC_SCORE} to gossipsub's peer score parameters, which count
 * rejected messages only for topics listed there. The public `GossipSub` interface has
 * no setter, hence the structural check; a transport that passes the topic in its
 * `scoreParams` at creation makes this a no-op.
 */
function scoreTopic (pubsub: GossipSub, topic: string): void {
  const params = (pubsub as Partial<{ score: { params?: { topics?: Record<string, TopicScoreParams> } } }>).score?.params
  if (params?.topics !== undefined && params.topics[topic] === undefined) params.topics[topic] = createTopicScoreParams(REGISTRY_TOPIC_SCORE)
}

/** {@link SyncNetwork} on libp2p streams. */
export class Libp2pSyncNetwork implements SyncNetwork {
  private readonly maxFrameBytes: number
  private readonly protocol: string
  private readonly channels = new Set<StreamChannel>()

  constructor (
    private readonly libp2p: Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol'>,
    options: { maxFrameBytes?: number, protocol?: string } = {}
  ) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_SYNC_FRAME_BYTES
    this.protocol = options.protocol ?? REGISTRY_SYNC_PROTOCOL
  }

  async start (onIncoming: (peer: string, channel: SyncChannel) => void): Promise<void> {
    await this.libp2p.handle(this.protocol, (stream, connection) => {
      onIncoming(connection.remotePeer.toString(), this.track(new StreamChannel(stream, this.maxFrameBytes)))
    }, { maxInboundStreams: 16, maxOutboundStreams: 16 })
  }

  async stop (): Promise<void> {
    await this.libp2p.unhandle(this.protocol)
    for (const ch of this.channels) ch.abort(new Error('the registry is stopping'))
    this.channels.clear()
  }

  async open (peer: string, signal: AbortSignal): Promise<SyncChannel> {
    const stream = await this.libp2p.dialProtocol(peerIdFromString(peer), this.protocol, { signal })
    return this.track(new StreamChannel(stream, this.maxFrameBytes))
  }

  private track (ch: StreamChannel): StreamChannel {
    this.channels.add(ch)
    ch.onEnd = () => { this.channels.delete(ch) }
    return ch
  }
}

/** A libp2p stream as a {@link SyncChannel}: frames decoded from 'message' events into an inbox. */
class StreamChannel implements SyncChannel {
  onEnd?: () => void
  private readonly inbox = new FrameInbox()

  constructor (private readonly stream: Stream, maxFrameBytes: number) {
    // A length prefix past the bound loses the framing: the inbox fails and the stream is aborted.
    readFrames(stream, maxFrameBytes, frame => { this.inbox.push(frame) }, err => { this.inbox.fail(err) })
    stream.addEventListener('remoteCloseWrite', () => { this.inbox.end() })
    stream.addEventListener('close', (evt) => {
      if (evt.error != null && !this.inbox.closed) this.inbox.fail(evt.error)
      this.inbox.end()
      this.onEnd?.()
    })
  }

  async send (frame: Uint8Array): Promise<void> {
    if (this.stream.send(encodeBatch([frame]))) return
    await drained(this.stream)
  }

  async receive (signal: AbortSignal): Promise<Uint8Array | undefined> {
    return await this.inbox.receive(signal)
  }

  async close (): Promise<void> {
    // a peer that never closes its side must not hold this side open
    await this.stream.close({ signal: AbortSignal.timeout(5000) }).catch(() => { this.stream.abort(new Error('the peer did not close the stream')) })
  }

  abort (err: Error): void {
    this.stream.abort(err)
  }
}
