/**
 * Fakes for the membership service's collaborators: a virtual clock with timers, an
 * in-memory network of transports (latency, crash, cut links), a memory store and a
 * fixed load signal. With them, several `SwimMembership`s run in one process in virtual
 * time, deterministically (a seeded random source each).
 */
import type { MemberStore, MembershipSnapshot, SwimTransport, SwimTransportHandlers, Timers } from '../../src/membership/index.js'
import { SeedUnreachableError, SwimMembership, type LoadMonitor, type SwimMembershipOptions } from '../../src/membership/index.js'
import { mulberry32 } from '../../protocols/mulberry32.js'

interface Scheduled { at: number, seq: number, fn: () => void, cancelled: boolean }

/** Virtual time: timers run only when the test advances the clock. */
export class FakeClock {
  now = 1000
  private seq = 0
  private scheduled: Scheduled[] = []

  readonly timers: Timers = {
    set: (fn, ms) => {
      const s: Scheduled = { at: this.now + Math.max(0, ms), seq: this.seq++, fn, cancelled: false }
      this.scheduled.push(s)
      return s
    },
    clear: (handle) => { if (handle !== undefined && handle !== null) (handle as Scheduled).cancelled = true }
  }

  /** Timers set and not yet run or cancelled. */
  get pending (): number {
    return this.scheduled.filter(s => !s.cancelled).length
  }

  /** Runs every timer due within `ms`, in order, letting promises settle after each. */
  async advance (ms: number): Promise<void> {
    const target = this.now + ms
    for (;;) {
      this.scheduled = this.scheduled.filter(s => !s.cancelled)
      let next: Scheduled | undefined
      for (const s of this.scheduled) {
        if (s.at <= target && (next === undefined || s.at < next.at || (s.at === next.at && s.seq < next.seq))) next = s
      }
      if (next === undefined) break
      next.cancelled = true
      this.now = Math.max(this.now, next.at)
      next.fn()
      await settle()
    }
    this.now = target
    await settle()
  }

  /** Advances in steps until `check` holds; fails after `withinMs` of virtual time. */
  async until (what: string, check: () => boolean, withinMs: number, stepMs = 50): Promise<number> {
    const start = this.now
    while (!check()) {
      if (this.now - start > withinMs) throw new Error(`${what}: not within ${withinMs} ms of virtual time`)
      await this.advance(stepMs)
    }
    return this.now - start
  }
}

/** Lets pending promise continuations run. */
export async function settle (): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>(resolve => { setImmediate(resolve) })
}

/** Frames between fake transports, delivered after `latencyMs` of virtual time. */
export class FakeNetwork {
  readonly transports = new Map<string, FakeTransport>()
  private readonly cuts = new Set<string>()
  /** Frames delivered, by `from>to`. */
  readonly delivered = new Map<string, number>()

  constructor (readonly clock: FakeClock, readonly latencyMs = 1) {}

  transport (id: string): FakeTransport {
    const t = new FakeTransport(id, this)
    this.transports.set(id, t)
    return t
  }

  /** The process is gone (kill -9): its transport neither sends nor receives; a restart brings a new one. */
  crash (id: string): void { this.transports.get(id)?.kill() }
  cut (a: string, b: string): void { this.cuts.add(`${a}|${b}`); this.cuts.add(`${b}|${a}`) }
  heal (a: string, b: string): void { this.cuts.delete(`${a}|${b}`); this.cuts.delete(`${b}|${a}`) }

  reachable (from: string, to: string): boolean {
    const a = this.transports.get(from)
    const b = this.transports.get(to)
    return a !== undefined && !a.dead && b !== undefined && !b.dead && b.handlers !== undefined && !this.cuts.has(`${from}|${to}`)
  }

  /** Tells `to` that its last connection to `from` closed (the libp2p `peer:disconnect` hint). */
  disconnect (from: string, to: string): void {
    this.transports.get(to)?.handlers?.disconnected?.(from)
  }

  /** Tells `to` that `from` connected (the libp2p `peer:connect` hint). */
  connect (from: string, to: string): void {
    if (this.reachable(from, to)) this.transports.get(to)?.handlers?.connected?.(from)
  }

  send (from: FakeTransport, to: string, bytes: Uint8Array): boolean {
    if (from.dead || this.transports.get(from.id) !== from || !this.reachable(from.id, to)) return false
    const target = this.transports.get(to)
    this.clock.timers.set(() => {
      if (from.dead || target === undefined || target.dead || target.handlers === undefined || this.cuts.has(`${from.id}|${to}`)) return
      const key = `${from.id}>${to}`
      this.delivered.set(key, (this.delivered.get(key) ?? 0) + 1)
      target.handlers.frame(from.id, bytes)
    }, this.latencyMs)
    return true
  }
}

export class FakeTransport implements SwimTransport {
  handlers?: SwimTransportHandlers
  framesDropped = 0
  framesSent = 0
  dead = false

  constructor (readonly id: string, private readonly network: FakeNetwork) {}

  kill (): void {
    this.dead = true
    this.handlers = undefined
  }

  async start (handlers: SwimTransportHandlers): Promise<void> { this.handlers = handlers }
  async stop (): Promise<void> { this.handlers = undefined }
  async flush (): Promise<void> {}

  send (to: string, _addrs: readonly string[], bytes: Uint8Array): void {
    this.framesSent++
    if (!this.network.send(this, to, bytes)) this.framesDropped++
  }

  async resolve (addr: string): Promise<{ id: string, addrs: string[] }> {
    const id = addr.replace(/^\/mem\//, '')
    if (!this.network.reachable(this.id, id)) throw new SeedUnreachableError(addr, 'connection refused')
    return { id, addrs: [`/mem/${id}/p2p/${id}`] }
  }
}

export class MemoryStore implements MemberStore {
  snapshot?: MembershipSnapshot
  saves = 0
  corrupt = false

  async load (): Promise<MembershipSnapshot | undefined> {
    if (this.corrupt) throw new Error('stored record membership/members is unreadable')
    return this.snapshot === undefined ? undefined : structuredClone(this.snapshot)
  }

  async save (snapshot: MembershipSnapshot): Promise<void> {
    this.saves++
    this.snapshot = structuredClone(snapshot)
  }
}

export class FixedLoad implements LoadMonitor {
  started = false
  constructor (public delayMs = 0) {}
  start (): void { this.started = true }
  stop (): void { this.started = false }
  sample (): number { return this.delayMs }
}

/** A seeded PRNG: runs replay. */
export const seeded = mulberry32

/** A membership on the fake network and clock. */
export function fakeMember (network: FakeNetwork, id: string, options: Partial<SwimMembershipOptions> & { seed?: number } = {}): SwimMembership {
  const clock = network.clock
  return new SwimMembership({
    self: id,
    addrs: () => [`/mem/${id}/p2p/${id}`],
    transport: network.transport(id),
    preset: 'local',
    clock: () => clock.now,
    wallClock: () => 1_700_000_000_000 + clock.now,
    timers: clock.timers,
    random: seeded(options.seed ?? id.length * 7919 + id.charCodeAt(id.length - 1)),
    loadMonitor: new FixedLoad(),
    ...options
  })
}

/** Collects a membership's events as `type id` strings. */
export function record (m: SwimMembership): string[] {
  const seen: string[] = []
  for (const type of ['member:join', 'member:alive', 'member:suspect', 'member:dead', 'member:leave', 'member:update'] as const) {
    m.addEventListener(type, (evt) => { seen.push(`${type} ${evt.detail}`) })
  }
  return seen
}
