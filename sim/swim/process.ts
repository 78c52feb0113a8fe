/**
 * Runs a real `protocols/swim` node as a simulated process: the simulator is its host.
 */
import { createSwimNode } from '../../protocols/swim/index.js'
import type { FrameType, MemberEvent, MemberRecord, SeedMember, SwimConfig, SwimNode, SwimOutput, SwimPreset } from '../../protocols/swim/index.js'
import type { NodeId, ProcessContext, SimProcess } from '../core/network.js'

export interface SwimProcessOptions {
  preset: SwimPreset
  config?: Partial<SwimConfig>
  /** This member's addresses (opaque to the protocol). */
  addrs?: readonly string[]
  /** Members to join through once started (none: the first member of the cluster). */
  seeds: NodeId[]
  /** Members restored at start (see SwimNodeOptions.members). */
  members?: readonly MemberRecord[]
  /** Starting incarnation (a restarted member may know its last one). @default 0 */
  incarnation?: number
  /** Receives every membership event this node reports. */
  onEvent: (observer: NodeId, event: MemberEvent) => void
  /** Told of every frame this node sends (for per-type accounting). */
  onSend?: (type: FrameType, bytes: number) => void
  /** Shares member id strings between the simulated nodes. */
  intern?: (id: string) => string
}

export class SwimProcess implements SimProcess {
  node?: SwimNode
  private readonly options: SwimProcessOptions
  private ctx?: ProcessContext

  constructor (options: SwimProcessOptions) {
    this.options = options
  }

  start (ctx: ProcessContext): void {
    const o = this.options
    this.ctx = ctx
    const random = ctx.random
    this.node = createSwimNode({
      id: ctx.id,
      addrs: o.addrs,
      preset: o.preset,
      config: o.config,
      incarnation: o.incarnation,
      random: () => random.next(),
      internId: o.intern,
      members: o.members
    })
    this.drive(this.node.start(ctx.now()), ctx)
    if (o.seeds.length > 0) {
      const seeds: SeedMember[] = o.seeds.map((id) => ({ id }))
      this.drive(this.node.join(seeds, ctx.now()), ctx)
    }
  }

  receive (from: NodeId, bytes: Uint8Array, ctx: ProcessContext): void {
    if (this.node === undefined) return
    this.drive(this.node.handle(from, bytes, ctx.now()), ctx)
  }

  wake (ctx: ProcessContext): void {
    if (this.node === undefined) return
    this.drive(this.node.tick(ctx.now()), ctx)
  }

  /** Graceful leave (the scenario's `leave` action). */
  leave (): void {
    if (this.node === undefined || this.ctx === undefined) return
    this.drive(this.node.leave(this.ctx.now()), this.ctx)
  }

  private drive (out: SwimOutput, ctx: ProcessContext): void {
    const onSend = this.options.onSend
    for (const m of out.messages) {
      onSend?.(m.type, m.bytes.byteLength)
      ctx.send(m.to, m.bytes, { reliable: m.reliable })
    }
    for (const e of out.events) this.options.onEvent(ctx.id, e)
    ctx.wakeAt(out.wakeAt)
  }
}
