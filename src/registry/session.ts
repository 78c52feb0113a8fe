/**
 * One anti-entropy exchange of `/caxton/registry-sync/2.0.0` (protocols/registry/SPEC.md
 * §6), sans-I/O: the session objects turn frames received into the frames to send and
 * the merges to persist; the caller moves the bytes (libp2p streams in the node, the
 * simulated network in `sim/registry/`) and writes the batches.
 *
 * ```
 * initiator                              responder
 *   open()            ── digest ──▶      receive() → reply
 *   receive(reply)    ◀── reply ───      (reply = its digest + what the initiator misses)
 *     → merge, entries ── entries ─▶     receive() → merge; done
 * ```
 * After the exchange both replicas hold the same versions of every node but the ones a
 * side forgot when collecting a tombstone (SPEC §6, property-tested in
 * `test/protocols/registry/`). The initiator must persist its merge before sending
 * `entries`, the responder before closing: nothing unpersisted leaves a node.
 */
import {
  decodeSyncFrame, encodeSyncFrame, RegistryDecodeError,
  type MergeUpdate, type NodeId, type Registry, type RegistryDelta, type RegistrySyncFrame
} from '../../protocols/registry/index.js'
import { RegistrySyncError } from './errors.js'

/** Counters of one exchange (bytes are frame sizes, without stream framing). */
export interface SyncTally {
  bytesSent: number
  bytesReceived: number
  /** Entries carried by the frames sent / received. */
  entriesSent: number
  entriesReceived: number
}

function newTally (): SyncTally {
  return { bytesSent: 0, bytesReceived: 0, entriesSent: 0, entriesReceived: 0 }
}

abstract class SyncSession {
  readonly tally: SyncTally = newTally()

  constructor (protected readonly registry: Registry, readonly peer: NodeId) {}

  protected encode (frame: RegistrySyncFrame): Uint8Array {
    const bytes = encodeSyncFrame(frame)
    this.tally.bytesSent += bytes.byteLength
    if (frame.type !== 'digest') this.tally.entriesSent += frame.delta.entries.length
    return bytes
  }

  protected decode (bytes: Uint8Array, expected: RegistrySyncFrame['type']): RegistrySyncFrame {
    this.tally.bytesReceived += bytes.byteLength
    let frame: RegistrySyncFrame
    try {
      frame = decodeSyncFrame(bytes)
    } catch (err) {
      if (err instanceof RegistryDecodeError) throw new RegistrySyncError(this.peer, err.message, { cause: err })
      throw err
    }
    if (frame.type !== expected) throw new RegistrySyncError(this.peer, `expected a ${expected} frame, got ${frame.type}`)
    if (frame.type !== 'digest') this.tally.entriesReceived += frame.delta.entries.length
    return frame
  }

  protected merge (delta: RegistryDelta, now: number): MergeUpdate {
    return this.registry.merge(delta, { now, from: this.peer })
  }
}

type Reply = Extract<RegistrySyncFrame, { type: 'reply' }>

/**
 * The side that starts the exchange. Call `open()`, then `receive()` once (or `read()`
 * then `apply()`, to check the reply's signatures ahead with `Registry.verifyAhead`).
 */
export class SyncInitiator extends SyncSession {
  private step: 'new' | 'opened' | 'done' = 'new'

  /** The first frame: this replica's digest. */
  open (): Uint8Array {
    if (this.step !== 'new') throw new Error('open() called twice')
    this.step = 'opened'
    return this.encode({ type: 'digest', digest: this.registry.digest() })
  }

  /**
   * The responder's reply: merges what this replica missed and returns the merge (persist
   * `merge.batch` first) and the last frame, what the responder misses, computed after
   * the merge.
   * @throws RegistrySyncError (not a reply frame, or undecodable)
   */
  receive (bytes: Uint8Array, now: number): { merge: MergeUpdate, send: Uint8Array } {
    return this.apply(this.read(bytes), now)
  }

  /** Decodes the reply. @throws RegistrySyncError (not a reply frame, or undecodable) */
  read (bytes: Uint8Array): Reply {
    if (this.step !== 'opened') throw new RegistrySyncError(this.peer, 'a frame after the exchange ended')
    const frame = this.decode(bytes, 'reply') as Reply
    this.step = 'done'
    return frame
  }

  /** Merges a reply from {@link read}: see {@link receive}. */
  apply (frame: Reply, now: number): { merge: MergeUpdate, send: Uint8Array } {
    const merge = this.merge(frame.delta, now)
    return { merge, send: this.encode({ type: 'entries', delta: this.registry.missingFor(frame.digest) }) }
  }

  get done (): boolean {
    return this.step === 'done'
  }
}

/**
 * The side that answers. Call `receive()` for each frame until `done` (or `read()` then
 * `apply()`, to check the entries' signatures ahead with `Registry.verifyAhead`).
 */
export class SyncResponder extends SyncSession {
  private step: 'new' | 'replied' | 'done' = 'new'

  /**
   * The initiator's digest → the reply to send; the initiator's entries → the merge to
   * persist (then the exchange is done).
   * @throws RegistrySyncError (an unexpected or undecodable frame)
   */
  receive (bytes: Uint8Array, now: number): { send?: Uint8Array, merge?: MergeUpdate, done: boolean } {
    return this.apply(this.read(bytes), now)
  }

  /** Decodes the next frame (digest, then entries). @throws RegistrySyncError (an unexpected or undecodable frame) */
  read (bytes: Uint8Array): RegistrySyncFrame {
    switch (this.step) {
      case 'new':
        this.step = 'replied'
        return this.decode(bytes, 'digest')
      case 'replied':
        this.step = 'done'
        return this.decode(bytes, 'entries')
      case 'done':
        throw new RegistrySyncError(this.peer, 'a frame after the exchange ended')
    }
  }

  /** Answers a frame from {@link read}: see {@link receive}. */
  apply (frame: RegistrySyncFrame, now: number): { send?: Uint8Array, merge?: MergeUpdate, done: boolean } {
    switch (frame.type) {
      case 'digest':
        return {
          send: this.encode({ type: 'reply', digest: this.registry.digest(), delta: this.registry.missingFor(frame.digest) }),
          done: false
        }
      case 'entries':
        return { merge: this.merge(frame.delta, now), done: true }
      default:
        throw new RegistrySyncError(this.peer, `unexpected ${frame.type} frame`)
    }
  }

  get done (): boolean {
    return this.step === 'done'
  }
}
