/**
 * Network faults a node inflicts on itself, for tests and chaos scripts: cut this node
 * off from some peers (or from everyone) without stopping it, then heal. A cut is a
 * connection gater that refuses dials to and connections from the blocked peers, plus
 * closing the connections already open; healing lifts the gate and redials the peers
 * that were cut. Everything above libp2p (membership, registry, router) sees what a real
 * partition looks like: connections close and cannot be re-established.
 *
 * Exists only on a node started with `--enable-faults`, which refuses to start unless its
 * REST API is bound to loopback.
 */
import type { ConnectionGater, Libp2p, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from 'pino'
import { silentLogger } from '../observability/logger.js'
import { FaultInjectionRefusedError, InvalidFaultRequestError } from './errors.js'

/** What is cut now. */
export interface FaultState {
  /** Cut off from every peer, known or not. */
  isolated: boolean
  /** Peers cut off individually (PeerId strings), sorted. */
  blocked: string[]
}

/** A partition or heal request: `peers` absent means every peer (isolate / heal all). */
export interface FaultRequest {
  peers?: string[]
}

export type FaultLibp2p = Pick<Libp2p, 'hangUp' | 'dial' | 'getConnections' | 'peerId'>

export class FaultInjector {
  private isolated = false
  private readonly blocked = new Set<string>()
  /** Peers whose connections a cut closed: redialled on heal. */
  private readonly cut = new Set<string>()
  private readonly log: Logger

  /** The gate: pass it to libp2p at creation (`createTransport({ connectionGater })`). */
  readonly gater: ConnectionGater = {
    denyDialPeer: (peer: PeerId) => this.denies(peer.toString()),
    denyDialMultiaddr: () => this.isolated,
    denyInboundConnection: () => this.isolated,
    denyInboundEncryptedConnection: (peer: PeerId) => this.denies(peer.toString()),
    denyOutboundEncryptedConnection: (peer: PeerId) => this.denies(peer.toString())
  }

  private node: FaultLibp2p | undefined

  /** Created before libp2p (whose creation takes {@link gater}); {@link attach} it after. */
  constructor (options: { logger?: Logger } = {}) {
    this.log = options.logger ?? silentLogger()
  }

  /** The libp2p node whose connections a cut closes and a heal redials. */
  attach (libp2p: FaultLibp2p): this {
    this.node = libp2p
    return this
  }

  private get libp2p (): FaultLibp2p {
    if (this.node === undefined) throw new FaultInjectionRefusedError('fault injection is not attached to a libp2p node')
    return this.node
  }

  state (): FaultState {
    return { isolated: this.isolated, blocked: [...this.blocked].sort() }
  }

  /**
   * Cuts this node off from `peers` (from everyone when absent): closes their
   * connections and refuses new ones both ways until healed.
   * @throws InvalidFaultRequestError (a peer that is not a PeerId); FaultInjectionRefusedError before {@link attach}
   */
  async partition (req: FaultRequest = {}): Promise<FaultState> {
    const libp2p = this.libp2p
    const peers = checkPeers(req.peers)
    if (peers === undefined) this.isolated = true
    else for (const p of peers) this.blocked.add(p)
    const targets = new Set<string>()
    for (const c of libp2p.getConnections()) {
      const p = c.remotePeer.toString()
      if (this.denies(p)) targets.add(p)
    }
    await Promise.all([...targets].map(async p => {
      this.cut.add(p)
      await libp2p.hangUp(peerIdFromString(p)).catch(err => {
        this.log.debug({ peer: p, err: (err as Error).message }, 'hang up failed')
      })
    }))
    this.log.warn({ ...this.state(), closed: targets.size }, 'fault injected: partition')
    return this.state()
  }

  /**
   * Lifts the cut for `peers` (for everyone when absent) and redials the peers whose
   * connections the cut had closed (a failed redial is logged: membership and anti-entropy
   * retry on their own schedule).
   * @throws InvalidFaultRequestError
   */
  async heal (req: FaultRequest = {}): Promise<FaultState> {
    const libp2p = this.libp2p
    const peers = checkPeers(req.peers)
    if (peers === undefined) {
      this.isolated = false
      this.blocked.clear()
    } else {
      for (const p of peers) this.blocked.delete(p)
    }
    const redial = [...this.cut].filter(p => !this.denies(p))
    await Promise.all(redial.map(async p => {
      this.cut.delete(p)
      try {
        await libp2p.dial(peerIdFromString(p), { signal: AbortSignal.timeout(5000) })
      } catch (err) {
        this.log.debug({ peer: p, err: (err as Error).message }, 'redial after heal failed')
      }
    }))
    this.log.warn({ ...this.state(), redialled: redial.length }, 'fault healed')
    return this.state()
  }

  private denies (peer: string): boolean {
    return this.isolated || this.blocked.has(peer)
  }
}

function checkPeers (peers: unknown): string[] | undefined {
  if (peers === undefined) return undefined
  if (!Array.isArray(peers)) throw new InvalidFaultRequestError('peers', 'expected an array of peer ids')
  return peers.map((p, i) => {
    try {
      return peerIdFromString(String(p)).toString()
    } catch {
      throw new InvalidFaultRequestError(`peers[${i}]`, `${JSON.stringify(p)} is not a peer id`)
    }
  })
}

/** Whether `host` (an API bind address) is loopback: 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackHost (host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h)
}
