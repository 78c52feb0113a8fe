/**
 * A tiny deterministic host for several SwimNodes under an injected clock: messages take
 * `latencyMs` (or what `delay` says), `drop` decides losses, `tick` is called at each
 * node's wakeAt. Unit-test scale only; large runs belong to sim/.
 */
import { createSwimNode } from '../../../protocols/swim/index.js'
import type { FrameType, MemberEvent, SwimNode, SwimNodeOptions, SwimOutput } from '../../../protocols/swim/index.js'
import { Prng } from '../../../sim/core/prng.js'

export interface Flight { at: number, seq: number, from: string, to: string, type: FrameType, bytes: Uint8Array }

export class Harness {
  now = 0
  readonly nodes = new Map<string, SwimNode>()
  readonly events: Array<{ node: string, event: MemberEvent }> = []
  readonly sent: Array<{ at: number, from: string, to: string, type: FrameType }> = []
  /** Return true to lose a message. */
  drop: (from: string, to: string, type: FrameType) => boolean = () => false
  /** Delivery delay of a message, ms. */
  delay: (from: string, to: string, type: FrameType) => number = () => 1
  private readonly flights: Flight[] = []
  private readonly wake = new Map<string, number>()
  private readonly crashed = new Set<string>()
  private seq = 0
  private readonly random: Prng

  constructor (seed = 1) {
    this.random = new Prng(seed)
  }

  add (id: string, options: Partial<SwimNodeOptions> = {}): SwimNode {
    const stream = this.random.fork(id)
    const node = createSwimNode({ id, random: () => stream.next(), ...options })
    this.nodes.set(id, node)
    this.apply(id, node.start(this.now))
    return node
  }

  node (id: string): SwimNode {
    const n = this.nodes.get(id)
    if (n === undefined) throw new Error(`no node ${id}`)
    return n
  }

  join (id: string, seeds: string[]): void {
    this.apply(id, this.node(id).join(seeds.map((s) => ({ id: s })), this.now))
  }

  leave (id: string): void {
    this.apply(id, this.node(id).leave(this.now))
  }

  /** The node stops: no more ticks, messages to it are lost. */
  crash (id: string): void {
    this.crashed.add(id)
    this.wake.delete(id)
  }

  apply (id: string, out: SwimOutput): void {
    for (const m of out.messages) {
      this.sent.push({ at: this.now, from: id, to: m.to, type: m.type })
      if (this.drop(id, m.to, m.type)) continue
      this.flights.push({ at: this.now + this.delay(id, m.to, m.type), seq: this.seq++, from: id, to: m.to, type: m.type, bytes: m.bytes })
    }
    for (const event of out.events) this.events.push({ node: id, event })
    this.wake.set(id, out.wakeAt)
  }

  /** Runs deliveries and timers in time order until `until`, ms. */
  runUntil (until: number): void {
    for (;;) {
      let next = Infinity
      let kind: 'flight' | 'wake' | undefined
      let flightIndex = -1
      let wakeId = ''
      for (let i = 0; i < this.flights.length; i++) {
        const f = this.flights[i]
        if (f.at < next || (f.at === next && kind === 'flight' && f.seq < this.flights[flightIndex].seq)) { next = f.at; kind = 'flight'; flightIndex = i }
      }
      for (const [id, at] of this.wake) {
        if (at < next) { next = at; kind = 'wake'; wakeId = id }
      }
      if (kind === undefined || next > until) break
      this.now = Math.max(this.now, next)
      if (kind === 'flight') {
        const [f] = this.flights.splice(flightIndex, 1)
        if (this.crashed.has(f.to)) continue
        const node = this.nodes.get(f.to)
        if (node === undefined) continue
        this.apply(f.to, node.handle(f.from, f.bytes, this.now))
      } else {
        this.wake.delete(wakeId)
        if (this.crashed.has(wakeId)) continue
        this.apply(wakeId, this.node(wakeId).tick(this.now))
      }
    }
    this.now = Math.max(this.now, until)
  }

  /** Runs until `predicate` holds (checked after each step of `stepMs`), at most `limitMs` more; returns the time. */
  runUntilTrue (predicate: () => boolean, limitMs: number, stepMs = 10): number {
    const end = this.now + limitMs
    while (!predicate()) {
      if (this.now >= end) throw new Error(`condition not met within ${limitMs} ms (at ${this.now})`)
      this.runUntil(this.now + stepMs)
    }
    return this.now
  }

  /** Events of one type about `subject`, as seen by each node. */
  eventsAbout (subject: string, type: MemberEvent['type']): Array<{ node: string, event: MemberEvent }> {
    return this.events.filter((e) => e.event.member.id === subject && e.event.type === type)
  }

  /** Whether every listed node holds every other listed node in one of `states`. */
  allSee (ids: string[], states: string[] = ['alive']): boolean {
    return ids.every((a) => ids.every((b) => a === b || states.includes(this.node(a).member(b)?.state ?? 'unknown')))
  }
}
