/**
 * Frames refused from peers, into the audit log: a forged sender, a frame that does not
 * decode, a claim membership will not obey, a registry write that fails its checks; and
 * inbound connections closed before their handshake (their host had too many in theirs).
 *
 * A peer chooses how many frames it sends, so one audit entry per frame would let it
 * write to this node's disk at the rate of its choice. Refusals are instead counted in
 * memory per (peer, protocol, kind) and written as one entry per key and period
 * (`action: 'peer.frame'`, `outcome: 'refused'`, `source`: the peer id, `target`: the
 * protocol, `detail`: `<count> × <kind>: <the first refusal's reason>`). At most
 * `maxKeys` keys are held per period; refusals beyond them are counted in one entry with
 * `source: '*'`. So the log gains at most `maxKeys + 1` entries per `periodMs` however
 * fast peers send, and every refusal is in a count.
 */
import type { Logger } from 'pino'
import { silentLogger } from '../observability/logger.js'
import type { AuditInput } from './audit-log.js'

/**
 * Where modules report a refused frame. `peer` is the authenticated remote PeerId; for a
 * connection the transport closed before its handshake (protocol `tcp`), the remote IPv4
 * address or IPv6 /64 prefix.
 */
export type RefusedFrameSink = (peer: string, protocol: string, kind: string, reason: string) => void

export interface RefusedFramesOptions {
  /** How often counts are written, ms. @default 10000 */
  periodMs?: number
  /** Distinct (peer, protocol, kind) keys per period. @default 256 */
  maxKeys?: number
  logger?: Logger
}

interface Tally { peer: string, protocol: string, kind: string, count: number, first: string }

export class RefusedFrames {
  private tallies = new Map<string, Tally>()
  private overflow = 0
  private timer: NodeJS.Timeout | undefined
  private writing: Promise<void> = Promise.resolve()
  private readonly periodMs: number
  private readonly maxKeys: number
  private readonly log: Logger

  constructor (private readonly audit: { append: (entry: AuditInput) => Promise<unknown> }, options: RefusedFramesOptions = {}) {
    this.periodMs = options.periodMs ?? 10_000
    this.maxKeys = options.maxKeys ?? 256
    this.log = options.logger ?? silentLogger()
  }

  /** Counts one refused frame (never throws, never waits). */
  readonly note: RefusedFrameSink = (peer, protocol, kind, reason) => {
    const key = `${peer}\n${protocol}\n${kind}`
    const t = this.tallies.get(key)
    if (t !== undefined) {
      t.count++
    } else if (this.tallies.size < this.maxKeys) {
      this.tallies.set(key, { peer, protocol, kind, count: 1, first: reason })
    } else {
      this.overflow++
    }
  }

  /** Refusals counted and not yet written. */
  get pending (): number {
    let n = this.overflow
    for (const t of this.tallies.values()) n += t.count
    return n
  }

  /** Writes a period's entries every `periodMs`. */
  start (): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(() => { void this.flush() }, this.periodMs)
    this.timer.unref()
  }

  /** Stops the timer and writes what is counted. */
  async stop (): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.flush()
  }

  /** Writes the counts so far, one entry per key (and one for the overflow), then starts new ones. */
  async flush (): Promise<void> {
    const tallies = [...this.tallies.values()]
    const overflow = this.overflow
    this.tallies = new Map()
    this.overflow = 0
    const entries: AuditInput[] = tallies.map(t => ({
      action: 'peer.frame',
      outcome: 'refused',
      source: t.peer,
      target: t.protocol,
      detail: `${t.count} × ${t.kind}: ${t.first}`
    }))
    if (overflow > 0) entries.push({ action: 'peer.frame', outcome: 'refused', source: '*', detail: `${overflow} more refused frames, from keys beyond the ${this.maxKeys} counted this period` })
    // One writer at a time, so entries keep the order they were counted in.
    this.writing = this.writing.then(async () => {
      for (const entry of entries) {
        try {
          await this.audit.append(entry)
        } catch (err) {
          this.log.warn({ err: String(err), peer: entry.source }, 'could not write a refused-frame count to the audit log')
        }
      }
    })
    await this.writing
  }
}
