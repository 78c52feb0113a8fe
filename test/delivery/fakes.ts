/**
 * Test doubles for durable delivery: an in-memory network of links (with faults: a peer
 * down, acks lost), a runtime whose agents are functions, and a factory that opens a
 * DeliveryService on a real LevelDB folder (so "crash and restart" is: drop the service,
 * reopen the folder).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeMessage, type AclMessage, type DeliverFrame } from '../../protocols/fipa/index.js'
import { ClientSessions } from '../../src/api/clients.js'
import { DeliveryService, type DeliveryConfig, type LinkHandlers, type OutgoingEntry } from '../../src/delivery/index.js'
import type { AgentOutbound, DeliverResult } from '../../src/runtime/types.js'
import { openStorage, type NodeStorage } from '../../src/storage/index.js'
import { DEFAULT_ACL_LIMITS } from '../../protocols/fipa/index.js'
import { presetDefaults } from '../../src/config/presets.js'

/** The local preset's delivery settings, with retries, breakers and deadlines made fast for tests. */
export const FAST: DeliveryConfig = {
  ...presetDefaults('local').delivery,
  ttlMs: 5000,
  maxTtlMs: 60_000,
  retryBaseMs: 5,
  retryCapMs: 40,
  breakerThreshold: 3,
  breakerCoolDownMs: 50,
  maxInFlightPerPeer: 64,
  outboxMaxMessages: 10_000,
  outboxMaxMessagesPerPeer: 10_000,
  deadLetterMax: 1000,
  handledLog: true,
  ackTimeoutMs: 1000
}

/** Links between fake peers, with faults a test can switch on. */
export class FakeNet {
  readonly links = new Map<string, FakeLink>()
  /** Peers that cannot be reached. */
  readonly down = new Set<string>()
  /** While set, acks are lost (the receiver persisted; the sender hears a failure). */
  loseAcks = false
  /** Frames delivered, per receiving peer. */
  readonly frames: Array<{ to: string, frame: DeliverFrame }> = []
}

export class FakeLink {
  handlers?: LinkHandlers
  private seq = 0

  constructor (readonly id: string, private readonly net: FakeNet) {
    net.links.set(id, this)
  }

  async start (handlers: LinkHandlers): Promise<void> { this.handlers = handlers }
  async stop (): Promise<void> { this.handlers = undefined }

  send (peer: string, entries: readonly OutgoingEntry[]): void {
    setImmediate(() => {
      const me = this.handlers
      if (me === undefined) return
      const target = this.net.links.get(peer)?.handlers
      const orders = entries.map(e => e.header.order)
      if (target === undefined || this.net.down.has(peer)) {
        me.failed(peer, orders, `cannot reach node ${peer}`)
        return
      }
      for (const e of entries) {
        const frame: DeliverFrame = { type: 'deliver', seq: this.seq++, ...e.header, message: decodeMessage(e.message) }
        this.net.frames.push({ to: peer, frame })
        const lose = this.net.loseAcks
        target.receive(this.id, frame, (ack) => {
          if (lose) me.failed(peer, [e.header.order], 'the stream closed before the ack')
          else me.acked(peer, e.header.order, ack)
        })
      }
    })
  }
}

/** Agents as functions; each message comes with its inbox token. */
export class FakeRuntime {
  readonly agents = new Map<string, { capacity: number, running: boolean, queue: Array<{ message: AclMessage, token?: string }> }>()
  backpressure = false
  /** Told of each message queued, after it is (e.g. to handle it at once, as a fast agent would). */
  onDeliver?: (id: string) => void

  add (id: string, capacity = 100): void {
    this.agents.set(id, { capacity, running: true, queue: [] })
  }

  has (id: string): boolean { return this.agents.has(id) }

  deliver (id: string, message: AclMessage, token?: string, force = false): DeliverResult {
    const a = this.agents.get(id)
    if (a === undefined) return 'no-such-agent'
    if (!a.running) return 'not-running'
    if (!force && a.queue.length >= a.capacity) return 'mailbox-full'
    a.queue.push({ message, token })
    this.onDeliver?.(id)
    return 'queued'
  }

  admit (id: string, reserved = 0): DeliverResult {
    const a = this.agents.get(id)
    if (a === undefined) return 'no-such-agent'
    if (!a.running) return 'not-running'
    return a.queue.length + reserved >= a.capacity ? 'mailbox-full' : 'queued'
  }

  setSendBackpressure (on: boolean): void { this.backpressure = on }

  /** Takes the oldest message of `id` (as the agent would handle it). */
  take (id: string): { message: AclMessage, token?: string } | undefined {
    return this.agents.get(id)?.queue.shift()
  }

  queued (id: string): AclMessage[] {
    return (this.agents.get(id)?.queue ?? []).map(q => q.message)
  }
}

/** Every message a client received, by client id. */
export class RecordingClients extends ClientSessions {
  readonly got: Array<{ id: string, message: AclMessage }> = []
  override deliver (id: string, message: AclMessage): void {
    this.got.push({ id, message })
    super.deliver(id, message)
  }
}

export interface Peer {
  id: string
  dir: string
  storage: NodeStorage
  runtime: FakeRuntime
  clients: RecordingClients
  routes: Map<string, string>
  registered: Map<string, string>
  downPeers: Set<string>
  link: FakeLink
  delivery: DeliveryService
}

let ids = 0

/** Opens a peer on `dir` (a new folder by default): storage, fakes and a started DeliveryService. */
export async function openPeer (net: FakeNet, id: string, options: { dir?: string, config?: Partial<DeliveryConfig>, runtime?: FakeRuntime, routes?: Map<string, string>, registered?: Map<string, string>, beforeStart?: (p: Peer) => void } = {}): Promise<Peer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), `caxton-delivery-${id}-`))
  const storage = await openStorage(dir)
  const runtime = options.runtime ?? new FakeRuntime()
  const clients = new RecordingClients()
  const routes = options.routes ?? new Map<string, string>()
  /** The registry's view: agents registered on a node (tests fill it in). */
  const registered = options.registered ?? new Map<string, string>()
  const downPeers = new Set<string>()
  const link = new FakeLink(id, net)
  const delivery = new DeliveryService({
    self: id,
    storage,
    runtime,
    clients,
    routes: {
      lookup: (agent) => routes.get(agent),
      resolve: async (agent) => routes.get(agent),
      forget: () => {},
      learn: (agent, peer) => { if (!routes.has(agent)) routes.set(agent, peer) },
      registeredOn: (agent) => registered.get(agent),
      learnedFrom: (agent) => registered.has(agent) ? undefined : routes.get(agent)
    },
    health: { downReason: (peer) => downPeers.has(peer) ? `node ${peer} is dead` : undefined },
    link,
    config: { ...FAST, ...options.config },
    limits: DEFAULT_ACL_LIMITS,
    newId: () => `ams-${++ids}`
  })
  const peer = { id, dir, storage, runtime, clients, routes, registered, downPeers, link, delivery }
  await delivery.open()
  options.beforeStart?.(peer)
  await delivery.restoreInbox()
  await delivery.start()
  return peer
}

/** Stops a peer as a crash would leave it: nothing is drained, the database is closed. */
export async function crash (p: Peer): Promise<void> {
  await p.delivery.stop()
  await p.storage.close()
}

let messageIds = 0

export function msg (sender: string, receivers: string[], fields: Partial<AclMessage> = {}): AclMessage {
  return { messageId: `m${++messageIds}`, createdAt: Date.now(), performative: 'REQUEST', sender, receivers, ...fields }
}

/** An agent that handled its message and sent these (already stamped) messages. */
export function handle (p: Peer, agent: string, sends: (m: AclMessage) => AclMessage[] = () => []): AclMessage | undefined {
  const next = p.runtime.take(agent)
  if (next === undefined) return undefined
  p.delivery.handled(agent, next.token, sends(next.message))
  return next.message
}

/** One LevelDB batch a peer wrote: its rows' full keys, `+key` for a put and `-key` for a delete. */
export type WrittenBatch = string[]

/**
 * Records the batches written to `p`'s database; `gate`, while set, is awaited before each
 * batch is written, and a batch whose gate resolves to an Error fails with it.
 */
export function spyBatches (p: Peer): { batches: WrittenBatch[], gate?: () => Promise<Error | undefined> } {
  const spy: { batches: WrittenBatch[], gate?: () => Promise<Error | undefined> } = { batches: [] }
  const db = p.storage.db as unknown as { batch: (...args: unknown[]) => unknown }
  const batch = db.batch.bind(db)
  db.batch = (...args: unknown[]) => {
    const b = batch(...args) as { put: (k: string, v: unknown) => unknown, del: (k: string) => unknown, write: (o?: unknown) => Promise<void> }
    if (args.length > 0) return b
    const rows: string[] = []
    const put = b.put.bind(b)
    const del = b.del.bind(b)
    const write = b.write.bind(b)
    b.put = (k, v) => { rows.push('+' + k); return put(k, v) }
    b.del = (k) => { rows.push('-' + k); return del(k) }
    b.write = async (o?: unknown) => {
      const failure = await spy.gate?.()
      if (failure !== undefined) throw failure
      spy.batches.push(rows)
      await write(o)
    }
    return b
  }
  return spy
}

/** Holds the next batch write of `spy`'s peer until `release` (with an Error to fail it); `entered` resolves once one waits. */
export function holdNextBatch (spy: ReturnType<typeof spyBatches>): { entered: Promise<void>, release: (failure?: Error) => void } {
  let release!: (failure?: Error) => void
  let entered!: () => void
  const wait = new Promise<Error | undefined>(resolve => { release = resolve })
  const enteredP = new Promise<void>(resolve => { entered = resolve })
  spy.gate = async () => { spy.gate = undefined; entered(); return await wait }
  return { entered: enteredP, release }
}

export type { AgentOutbound }
