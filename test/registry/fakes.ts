/**
 * In-memory stand-ins for the registry service's collaborators: a gossip bus, a sync
 * network of stream pairs (both can cut links, to model partitions), and a store whose
 * writes can be made to fail.
 */
import { MemoryRegistryStore, createMemoryRegistryData, type MemoryRegistryData, type RegistryBatch } from '../../protocols/registry/index.js'
import type { AtomicRegistryStore, RegistryGossip, SyncChannel, SyncNetwork } from '../../src/registry/index.js'
import { FrameInbox } from '../../src/registry/index.js'
import type { StorageOp } from '../../src/storage/agent-store.js'

/** Links cut between members (both directions). */
export class Cuts {
  private readonly cut = new Set<string>()
  private key (a: string, b: string): string { return a < b ? `${a}|${b}` : `${b}|${a}` }
  separate (a: string, b: string): void { this.cut.add(this.key(a, b)) }
  join (a: string, b: string): void { this.cut.delete(this.key(a, b)) }
  heal (): void { this.cut.clear() }
  blocked (a: string, b: string): boolean { return this.cut.has(this.key(a, b)) }
}

/** Gossip to every other started member, asynchronously (like gossipsub), except across cuts. */
export class MemoryGossipBus {
  readonly published: Array<{ from: string, data: Uint8Array }> = []
  /** Called as each message is published (before delivery). */
  onPublish?: (from: string) => void
  private readonly members = new Map<string, (from: string, data: Uint8Array) => void>()

  constructor (readonly cuts = new Cuts()) {}

  gossip (node: string): RegistryGossip {
    return {
      start: (onMessage) => { this.members.set(node, onMessage) },
      stop: () => { this.members.delete(node) },
      publish: async (data) => {
        this.published.push({ from: node, data })
        this.onPublish?.(node)
        for (const [other, deliver] of this.members) {
          if (other === node || this.cuts.blocked(node, other)) continue
          setImmediate(() => { if (this.members.get(other) === deliver) deliver(node, data) })
        }
      }
    }
  }
}

/** One side of an in-memory stream. */
class PipeEnd implements SyncChannel {
  other!: PipeEnd
  readonly inbox = new FrameInbox()

  async send (frame: Uint8Array): Promise<void> {
    if (this.inbox.closed) throw new Error('stream closed')
    this.other.inbox.push(frame)
  }

  async receive (signal: AbortSignal): Promise<Uint8Array | undefined> {
    return await this.inbox.receive(signal)
  }

  async close (): Promise<void> {
    this.other.inbox.end()
  }

  abort (err: Error): void {
    this.inbox.fail(err)
    this.other.inbox.fail(new Error(`reset by the other side: ${err.message}`))
  }
}

export function pipe (): [PipeEnd, PipeEnd] {
  const a = new PipeEnd()
  const b = new PipeEnd()
  a.other = b
  b.other = a
  return [a, b]
}

/** Sync streams between members; opening across a cut fails like an unreachable peer. */
export class MemorySyncNet {
  opened = 0
  /** The next this-many opens fail as if the responder were busy. */
  failNextOpens = 0
  private readonly handlers = new Map<string, (peer: string, channel: SyncChannel) => void>()

  constructor (readonly cuts = new Cuts()) {}

  network (node: string): SyncNetwork {
    return {
      start: async (onIncoming) => { this.handlers.set(node, onIncoming) },
      stop: async () => { this.handlers.delete(node) },
      open: async (peer) => {
        const handler = this.handlers.get(peer)
        if (handler === undefined || this.cuts.blocked(node, peer)) throw new Error(`cannot reach ${peer}`)
        if (this.failNextOpens > 0) {
          this.failNextOpens--
          throw new Error('reset: the registry is busy')
        }
        this.opened++
        const [mine, theirs] = pipe()
        setImmediate(() => { handler(node, theirs) })
        return mine
      }
    }
  }
}

/** A memory store with `writeWith` (other rows are counted, not kept) and a switch to make writes fail. */
export class FlakyStore extends MemoryRegistryStore implements AtomicRegistryStore {
  failWrites = false
  writes = 0
  extraRows = 0

  constructor (readonly shared: MemoryRegistryData = createMemoryRegistryData()) {
    super(shared)
  }

  override async write (batch: RegistryBatch): Promise<void> {
    await this.writeWith(batch, [])
  }

  async writeWith (batch: RegistryBatch, extra: readonly StorageOp[]): Promise<void> {
    if (this.failWrites) throw new Error('disk full')
    this.writes++
    this.extraRows += extra.length
    await super.write(batch)
  }
}

/** Polls `check` until true; fails after `ms`. */
export async function eventually (what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}
