/**
 * A simulated datagram-and-stream network of processes in virtual time, protocol-agnostic:
 * processes exchange opaque bytes. Models per-link latency distributions, loss, partitions
 * (any split, then heal), crash and restart, pause (a stalled process: its timers fire
 * late, its messages queue) and clock skew (each process reads its own drifting clock).
 */
import { mix32 } from './prng.js'
import type { Prng } from './prng.js'
import type { Simulator } from './simulator.js'

export type NodeId = string

/** A latency (or any delay) distribution, ms. */
export type Distribution =
  | { type: 'constant', ms: number }
  | { type: 'uniform', minMs: number, maxMs: number }
  | { type: 'normal', meanMs: number, stdMs: number, minMs?: number }
  | { type: 'lognormal', medianMs: number, sigma: number, minMs?: number }
  | { type: 'exponential', meanMs: number, minMs?: number }

/** Draws one value from `d`, ms (never negative). */
export function sample (d: Distribution, random: Prng): number {
  switch (d.type) {
    case 'constant': return Math.max(0, d.ms)
    case 'uniform': return d.minMs + random.next() * (d.maxMs - d.minMs)
    case 'normal': return Math.max(d.minMs ?? 0, d.meanMs + d.stdMs * random.normal())
    case 'lognormal': return Math.max(d.minMs ?? 0, d.medianMs * Math.exp(d.sigma * random.normal()))
    case 'exponential': return (d.minMs ?? 0) + random.exponential(d.meanMs)
  }
}

/** What the network offers a process. */
export interface ProcessContext {
  readonly id: NodeId
  /** This process's clock (skewed and drifting), ms. */
  now: () => number
  /**
   * Sends bytes. `reliable` models a stream: loss delays the message (retransmission)
   * instead of dropping it, and messages on one link arrive in order. Partitions and
   * crashes drop both kinds.
   */
  send: (to: NodeId, bytes: Uint8Array, options?: { reliable?: boolean }) => void
  /** Arms the process's one timer for local clock time `at` (Infinity disarms it). */
  wakeAt: (at: number) => void
  /** This process's own random stream. */
  readonly random: Prng
}

/** A simulated process. Calls never overlap; time does not pass during a call. */
export interface SimProcess {
  start: (ctx: ProcessContext) => void
  receive: (from: NodeId, bytes: Uint8Array, ctx: ProcessContext) => void
  wake: (ctx: ProcessContext) => void
}

export interface ClockSkew {
  /** Offset of the local clock from virtual time, ms. @default 0 */
  offsetMs?: number
  /** Rate error: the local clock runs at (1 + drift) × virtual time (1e-4 = 100 ppm). @default 0 */
  drift?: number
}

export interface LinkRule {
  /** Applies to messages from a node for which `from` is true to one for which `to` is true. */
  from: (id: NodeId) => boolean
  to: (id: NodeId) => boolean
  latency?: Distribution
  loss?: number
}

export interface NetworkOptions {
  /** @default { type: 'lognormal', medianMs: 1, sigma: 0.5 } */
  latency?: Distribution
  /** Probability that a datagram is lost. @default 0 */
  loss?: number
  /** Each link's latency is multiplied by a fixed factor in [1 − s, 1 + s], drawn per link. @default 0 */
  linkSpread?: number
  /** Extra delay per lost attempt of a reliable message, doubling each time (TCP RTO), ms. @default 200 */
  retransmitMs?: number
  /** Lost attempts after which a reliable message is dropped (connection reset). @default 6 */
  maxRetransmits?: number
  /**
   * Hash every delivered message's bytes into the trace (not only time, endpoints and
   * length). Slower; for determinism tests. @default false
   */
  traceContent?: boolean
}

export type DropReason = 'loss' | 'partition' | 'down'

export interface NetworkStats {
  sent: number
  bytesSent: number
  delivered: number
  dropped: Record<DropReason, number>
}

export interface NetworkObserver {
  onSend?: (from: NodeId, to: NodeId, bytes: Uint8Array, now: number) => void
  onDeliver?: (from: NodeId, to: NodeId, bytes: Uint8Array, now: number) => void
  onDrop?: (from: NodeId, to: NodeId, reason: DropReason, now: number) => void
}

type Status = 'up' | 'paused' | 'down'

interface Node {
  readonly id: NodeId
  readonly index: number
  process: SimProcess
  status: Status
  offsetMs: number
  rate: number
  random: Prng
  ctx: ProcessContext
  /** Virtual time of the armed timer (Infinity: none). */
  wakeAt: number
  /** Bumped whenever the timer is re-armed or the process replaced, to ignore stale wake-ups. */
  wakeVersion: number
  /** Messages that arrived while paused, in arrival order. */
  inbox: Array<{ from: NodeId, bytes: Uint8Array }>
  /** Group number while partitioned. */
  group: number
  /** Bumped on crash/restart: a message addressed to an earlier life is dropped. */
  life: number
}

export class SimNetwork {
  readonly stats: NetworkStats = { sent: 0, bytesSent: 0, delivered: 0, dropped: { loss: 0, partition: 0, down: 0 } }
  observer: NetworkObserver = {}
  private readonly sim: Simulator
  private readonly random: Prng
  private readonly nodes = new Map<NodeId, Node>()
  private readonly byIndex: Node[] = []
  private latency: Distribution
  private loss: number
  private readonly linkSpread: number
  private readonly linkSalt: number
  private readonly retransmitMs: number
  private readonly maxRetransmits: number
  private readonly traceContent: boolean
  private rules: LinkRule[] = []
  private partitioned = false
  /** Last delivery time of a reliable message per link, for in-order delivery. */
  private readonly streamTail = new Map<number, number>()

  constructor (sim: Simulator, options: NetworkOptions = {}) {
    this.sim = sim
    this.random = sim.random.fork('network')
    this.latency = options.latency ?? { type: 'lognormal', medianMs: 1, sigma: 0.5 }
    this.loss = options.loss ?? 0
    this.linkSpread = options.linkSpread ?? 0
    this.linkSalt = this.random.uint32()
    this.retransmitMs = options.retransmitMs ?? 200
    this.maxRetransmits = options.maxRetransmits ?? 6
    this.traceContent = options.traceContent ?? false
  }

  /** Adds a process and starts it now. */
  add (id: NodeId, process: SimProcess, clock: ClockSkew = {}): void {
    if (this.nodes.has(id)) throw new Error(`node ${id} already exists`)
    const index = this.byIndex.length
    const node: Node = {
      id,
      index,
      process,
      status: 'up',
      offsetMs: clock.offsetMs ?? 0,
      rate: 1 + (clock.drift ?? 0),
      random: this.sim.random.fork(`node:${id}`),
      ctx: undefined as unknown as ProcessContext,
      wakeAt: Infinity,
      wakeVersion: 0,
      inbox: [],
      group: 0,
      life: 0
    }
    node.ctx = this.context(node)
    this.nodes.set(id, node)
    this.byIndex.push(node)
    this.sim.trace.string(`add:${id}`)
    process.start(node.ctx)
  }

  has (id: NodeId): boolean {
    return this.nodes.has(id)
  }

  status (id: NodeId): Status | undefined {
    return this.nodes.get(id)?.status
  }

  /** The node's local clock at the current virtual time, ms. */
  localTime (id: NodeId): number {
    const n = this.get(id)
    return n.offsetMs + this.sim.now * n.rate
  }

  /** Stops a process for good (until `restart`): its timer and inbox are dropped, messages to it are lost. */
  crash (id: NodeId): void {
    const n = this.get(id)
    n.status = 'down'
    n.wakeVersion++
    n.wakeAt = Infinity
    n.inbox = []
    n.life++
    this.sim.trace.string(`crash:${id}`)
  }

  /** Starts a fresh process under a crashed node's id (a restart: it remembers nothing). */
  restart (id: NodeId, process: SimProcess): void {
    const n = this.get(id)
    if (n.status !== 'down') throw new Error(`node ${id} is ${n.status}, not down`)
    n.process = process
    n.status = 'up'
    n.wakeVersion++
    n.wakeAt = Infinity
    n.ctx = this.context(n)
    this.sim.trace.string(`restart:${id}`)
    process.start(n.ctx)
  }

  /** Stalls a process (SIGSTOP): its timer does not fire and arriving messages queue. */
  pause (id: NodeId): void {
    const n = this.get(id)
    if (n.status !== 'up') return
    n.status = 'paused'
    this.sim.trace.string(`pause:${id}`)
  }

  /**
   * Resumes a stalled process (SIGCONT): as an event loop would, it first runs its overdue
   * timer, then the queued messages in arrival order.
   */
  resume (id: NodeId): void {
    const n = this.get(id)
    if (n.status !== 'paused') return
    n.status = 'up'
    this.sim.trace.string(`resume:${id}`)
    if (n.wakeAt <= this.sim.now) this.fireWake(n)
    const inbox = n.inbox
    n.inbox = []
    for (const m of inbox) {
      if (n.status !== 'up') break
      this.stats.delivered++
      this.observer.onDeliver?.(m.from, n.id, m.bytes, this.sim.now)
      n.process.receive(m.from, m.bytes, n.ctx)
    }
  }

  /**
   * Splits the network: nodes in different groups cannot exchange messages (messages in
   * flight across the cut are lost too). Nodes listed in no group form one more group.
   */
  partition (groups: readonly (readonly NodeId[])[]): void {
    for (const n of this.byIndex) n.group = 0
    groups.forEach((g, i) => { for (const id of g) this.get(id).group = i + 1 })
    this.partitioned = true
    this.sim.trace.string(`partition:${groups.map((g) => g.length).join('/')}`)
  }

  heal (): void {
    this.partitioned = false
    this.sim.trace.string('heal')
  }

  /** Whether messages can currently pass between `a` and `b` (ignoring loss and crashes). */
  reachable (a: NodeId, b: NodeId): boolean {
    return !this.partitioned || this.get(a).group === this.get(b).group
  }

  setLoss (loss: number): void {
    this.loss = loss
  }

  setLatency (latency: Distribution): void {
    this.latency = latency
  }

  /** Latency and loss overrides for some links; the first matching rule wins. */
  setRules (rules: LinkRule[]): void {
    this.rules = rules
  }

  private get (id: NodeId): Node {
    const n = this.nodes.get(id)
    if (n === undefined) throw new Error(`unknown node ${id}`)
    return n
  }

  private context (node: Node): ProcessContext {
    const version = node.life
    return {
      id: node.id,
      random: node.random,
      now: () => node.offsetMs + this.sim.now * node.rate,
      send: (to, bytes, options) => {
        if (node.life !== version || node.status !== 'up') return
        this.send(node, to, bytes, options?.reliable === true)
      },
      wakeAt: (at) => {
        if (node.life !== version) return
        this.arm(node, at)
      }
    }
  }

  private arm (node: Node, localAt: number): void {
    let at = Number.isFinite(localAt) ? Math.max(this.sim.now, (localAt - node.offsetMs) / node.rate) : Infinity
    // Rounding in the clock conversion must never wake a process a hair before its own
    // clock reaches the time it asked for: it would find nothing due, ask again for the
    // same time, and virtual time would stand still.
    while (Number.isFinite(at) && node.offsetMs + at * node.rate < localAt) {
      at += Math.max(Math.abs(at) * Number.EPSILON, Number.MIN_VALUE)
    }
    if (at === node.wakeAt) return
    node.wakeAt = at
    const version = ++node.wakeVersion
    if (!Number.isFinite(at)) return
    this.sim.at(at, () => {
      if (node.wakeVersion !== version || node.status === 'down') return
      // A paused process's timer fires when it resumes (see resume).
      if (node.status === 'paused') return
      this.fireWake(node)
    })
  }

  private fireWake (node: Node): void {
    node.wakeAt = Infinity
    node.wakeVersion++
    this.sim.trace.number(node.index)
    node.process.wake(node.ctx)
  }

  private linkParams (from: Node, to: Node): { latency: Distribution, loss: number } {
    for (const r of this.rules) {
      if (r.from(from.id) && r.to(to.id)) return { latency: r.latency ?? this.latency, loss: r.loss ?? this.loss }
    }
    return { latency: this.latency, loss: this.loss }
  }

  private send (from: Node, toId: NodeId, bytes: Uint8Array, reliable: boolean): void {
    const now = this.sim.now
    this.stats.sent++
    this.stats.bytesSent += bytes.byteLength
    this.observer.onSend?.(from.id, toId, bytes, now)
    const to = this.nodes.get(toId)
    if (to === undefined) {
      this.drop(from.id, toId, 'down')
      return
    }
    if (this.partitioned && from.group !== to.group) {
      this.drop(from.id, toId, 'partition')
      return
    }
    const { latency, loss } = this.linkParams(from, to)
    let delay = this.linkLatency(from, to, latency)
    if (loss > 0) {
      if (reliable) {
        let rto = this.retransmitMs
        let attempts = 0
        while (this.random.next() < loss) {
          if (++attempts > this.maxRetransmits) {
            this.drop(from.id, toId, 'loss')
            return
          }
          delay += rto + this.linkLatency(from, to, latency)
          rto *= 2
        }
      } else if (this.random.next() < loss) {
        this.drop(from.id, toId, 'loss')
        return
      }
    }
    let at = now + delay
    if (reliable) {
      const key = from.index * 1_048_576 + to.index
      const tail = this.streamTail.get(key) ?? 0
      if (at < tail) at = tail
      this.streamTail.set(key, at)
    }
    const life = to.life
    const fromId = from.id
    this.sim.at(at, () => { this.deliver(fromId, to, life, bytes) })
  }

  private linkLatency (from: Node, to: Node, latency: Distribution): number {
    const base = sample(latency, this.random)
    if (this.linkSpread === 0) return base
    const lo = Math.min(from.index, to.index)
    const hi = Math.max(from.index, to.index)
    const u = mix32(this.linkSalt, lo, hi) / 4294967296
    return base * (1 + this.linkSpread * (2 * u - 1))
  }

  private deliver (from: NodeId, to: Node, life: number, bytes: Uint8Array): void {
    const now = this.sim.now
    if (to.status === 'down' || to.life !== life) {
      this.drop(from, to.id, 'down')
      return
    }
    if (this.partitioned && this.get(from).group !== to.group) {
      this.drop(from, to.id, 'partition')
      return
    }
    const trace = this.sim.trace
    trace.number(to.index)
    trace.number(now)
    if (this.traceContent) trace.bytes(bytes)
    else trace.number(bytes.byteLength)
    if (to.status === 'paused') {
      to.inbox.push({ from, bytes })
      return
    }
    this.stats.delivered++
    this.observer.onDeliver?.(from, to.id, bytes, now)
    to.process.receive(from, bytes, to.ctx)
  }

  private drop (from: NodeId, to: NodeId, reason: DropReason): void {
    this.stats.dropped[reason]++
    this.observer.onDrop?.(from, to, reason, this.sim.now)
  }
}
