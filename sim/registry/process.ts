/**
 * A node's registry as a simulated process: the real CRDT (`protocols/registry`) driven by
 * the node's own protocol logic (`src/registry/replica.ts`, `session.ts`) and by the sync
 * policy the node ships (`protocols/registry/sync-policy.ts`, the same `SyncPolicy` that
 * `ClusterRegistry` drives): anti-entropy with a random connected member every interval
 * and on every (re)connection (lower id at once, the other after a fallback delay), the
 * cap on exchanges and the retries of refused ones, maintenance rounds. This file is only
 * its host in virtual time: deltas gossiped on a gossipsub-like mesh, sync frames on the
 * simulated network, the exchange timeout, connections closed by a cut.
 *
 * What the network model lacks is modelled here: each node's CPU (one event loop: a
 * message costs `perMessageUs + perByteUs × bytes` to decode and merge, plus `verifyUs`
 * per signature checked, a local write `signUs` more, a send `sendPerByteUs × bytes` to
 * encode; work queues behind work) and its egress bandwidth
 * (bytes leave one after another at `bandwidthBytesPerMs`). Byte counts add a modelled
 * transport overhead per gossip message (gossipsub's envelope and signature) and per sync
 * frame (length prefix, yamux header).
 */
import { Packr } from 'msgpackr'
import {
  Registry, SyncPolicy, type MergeUpdate, type NodeId, type RegistryOp, type RegistryTiming, type SyncPolicyOutput
} from '../../protocols/registry/index.js'
import { RegistryReplica } from '../../src/registry/replica.js'
import { simSigning } from './signing.js'
import type { SyncInitiator, SyncResponder } from '../../src/registry/session.js'
import { EventQueue } from '../core/event-queue.js'
import type { ProcessContext, SimProcess } from '../core/network.js'

/** Cost model of a node (µs) and its link (bytes per ms). */
export interface NodeModel {
  /** Fixed cost of handling one message (decode, dispatch). */
  perMessageUs: number
  /** Cost per received byte (decode, validate, merge). */
  perByteUs: number
  /** Cost per sent byte (compute and encode). */
  sendPerByteUs: number
  /** Cost of checking a gossip message id already seen. */
  duplicateUs: number
  /** Cost of signing one write (Ed25519). */
  signUs: number
  /** Cost of checking one received version's signature (Ed25519). */
  verifyUs: number
  /** Egress bandwidth, bytes per ms (125_000 = 1 Gbit/s). */
  bandwidthBytesPerMs: number
  /** Transport bytes added to each gossip message (gossipsub envelope: from, seqno, topic, signature). */
  gossipOverheadBytes: number
  /** Transport bytes added to each sync frame (varint prefix, yamux header). */
  syncFrameOverheadBytes: number
  /** Transport bytes of opening a sync stream (multistream-select both ways). */
  syncOpenBytes: number
}

export interface GossipModel {
  /** Mesh degree (gossipsub D). */
  meshDegree: number
  /** Message ids remembered to drop duplicates. */
  seenLimit: number
}

/** Per-node counters the runner reads. */
export interface NodeCounters {
  bytesSent: number
  bytesReceived: number
  gossipBytesSent: number
  syncBytesSent: number
  messagesSent: number
  duplicates: number
  syncsCompleted: number
  syncsTimedOut: number
  busyUs: number
}

export interface RegistryProcessOptions {
  timing: RegistryTiming
  model: NodeModel
  gossip: GossipModel
  /** Peers this node keeps connections to (symmetric, chosen by the runner). */
  links: NodeId[]
  /** ms since the epoch of virtual time 0 (the CRDT's clocks want wall time). */
  epochMs: number
  /** Registry options (bucket count, TTL). */
  crdt?: { bucketCount?: number, tombstoneTtlMs?: number }
  /** A replica to start from (preloaded state). */
  registry?: Registry
  /** Called whenever this node's replica may have changed. */
  onChange: (id: NodeId) => void
}

const GOSSIP = 0
const SYNC = 1
const packr = new Packr({ useRecords: false })

type Envelope =
  | [typeof GOSSIP, NodeId, number, Uint8Array]
  | [typeof SYNC, string, number, Uint8Array]

interface Timer { at: number, seq: number, run: () => void }

interface Session {
  key: string
  peer: NodeId
  role: 'initiator' | 'responder'
  session: SyncInitiator | SyncResponder
  deadline: Timer
}

/** Sync step of a refused or broken exchange (the stream reset the real service sends). */
const RESET = -1

export class RegistryProcess implements SimProcess {
  replica!: RegistryReplica
  policy!: SyncPolicy
  readonly counters: NodeCounters = { bytesSent: 0, bytesReceived: 0, gossipBytesSent: 0, syncBytesSent: 0, messagesSent: 0, duplicates: 0, syncsCompleted: 0, syncsTimedOut: 0, busyUs: 0 }
  /** Connected peers now (the gossip mesh is drawn from them; the policy hears of them as membership). */
  readonly alive = new Set<NodeId>()
  private ctx!: ProcessContext
  private readonly timers = new EventQueue<Timer>()
  private timerSeq = 0
  private busyUntil = 0
  private egressFreeAt = 0
  private gossipSeq = 0
  private readonly seen = new Set<string>()
  private readonly seenOrder: string[] = []
  private mesh: NodeId[] = []
  private readonly sessions = new Map<string, Session>()
  private sessionSeq = 0
  private readonly cancelled = new Set<Timer>()
  private policyTimer?: Timer

  constructor (private readonly options: RegistryProcessOptions) {}

  get id (): NodeId {
    return this.ctx.id
  }

  get registry (): Registry {
    return this.replica.registry
  }

  start (ctx: ProcessContext): void {
    this.ctx = ctx
    this.replica = new RegistryReplica(this.options.registry ?? new Registry({ nodeId: ctx.id, signing: simSigning(ctx.id), ...this.options.crdt }))
    for (const l of this.options.links) this.alive.add(l)
    this.rebuildMesh()
    this.policy = new SyncPolicy({ self: ctx.id, timing: this.options.timing, random: () => ctx.random.next() })
    this.drive(this.policy.start(ctx.now(), this.options.links))
  }

  // ---- driven by the runner ----

  /** A local lifecycle change now (deploy, state change, removal). */
  local (op: RegistryOp): void {
    this.compute(this.options.model.perMessageUs + this.options.model.signUs, () => {
      const out = this.replica.local(op, this.wall())
      this.options.onChange(this.id)
      for (const m of out.publish) this.publish(m)
    })
  }

  /** Membership: `peer` is connected again (alive) or gone (dead). */
  setAlive (peer: NodeId, alive: boolean): void {
    if (alive) this.alive.add(peer)
    else this.alive.delete(peer)
    this.rebuildMesh()
    this.replica.setReachable(peer, alive)
    if (alive) {
      this.drive(this.policy.memberUp(peer, this.ctx.now()))
      return
    }
    this.drive(this.policy.memberDown(peer, this.ctx.now()))
    // the connection closed: its streams are reset
    for (const s of [...this.sessions.values()]) if (s.peer === peer) this.endSession(s, undefined, true)
  }

  // ---- SimProcess ----

  receive (from: NodeId, bytes: Uint8Array): void {
    const m = this.options.model
    this.counters.bytesReceived += bytes.byteLength
    const env = packr.unpack(bytes) as Envelope
    if (env[0] === GOSSIP) {
      const id = `${env[1]}:${env[2]}`
      if (this.seen.has(id)) {
        this.counters.duplicates++
        this.compute(m.duplicateUs, () => {})
        return
      }
      this.remember(id)
      this.compute(m.perMessageUs + m.perByteUs * env[3].byteLength, () => {
        const out = this.verifying(() => this.replica.receiveGossip(env[1], env[3], this.wall()))
        if (out.changes.length > 0 || out.batch.put.length > 0) this.options.onChange(this.id)
        for (const p of out.publish) this.publish(p)
        // gossipsub forwards only what the validator accepted
        if (out.verdict !== 'accept') return
        for (const peer of this.mesh) if (peer !== from && peer !== env[1]) this.transmit(peer, bytes, env[3].byteLength + m.gossipOverheadBytes, 'gossip')
      })
      return
    }
    this.compute(m.perMessageUs + m.perByteUs * env[3].byteLength, () => { this.verifying(() => { this.onSyncFrame(from, env[1], env[2], env[3]) }) })
  }

  wake (ctx: ProcessContext): void {
    const now = ctx.now()
    for (;;) {
      const next = this.timers.peek()
      if (next === undefined || next.at > now) break
      this.timers.pop()
      if (this.cancelled.delete(next)) continue
      next.run()
    }
    this.arm()
  }

  // ---- gossip ----

  private publish (payload: Uint8Array): void {
    const seq = ++this.gossipSeq
    this.remember(`${this.id}:${seq}`)
    const bytes = packr.pack([GOSSIP, this.id, seq, payload] satisfies Envelope)
    for (const peer of this.mesh) this.transmit(peer, bytes, payload.byteLength + this.options.model.gossipOverheadBytes, 'gossip')
  }

  private remember (id: string): void {
    this.seen.add(id)
    this.seenOrder.push(id)
    if (this.seenOrder.length > this.options.gossip.seenLimit) this.seen.delete(this.seenOrder.shift() as string)
  }

  private rebuildMesh (): void {
    // gossipsub keeps D mesh peers among the connected ones, grafting when some leave
    const candidates = this.options.links.filter(l => this.alive.has(l))
    this.mesh = candidates.slice(0, this.options.gossip.meshDegree)
  }

  // ---- the sync policy ----

  /** Runs the policy's actions, then sets the one timer of the policy to its `wakeAt`. */
  private drive (out: SyncPolicyOutput): void {
    for (const action of out.actions) {
      if (action.type === 'maintain') this.maintain()
      else this.startSync(action.peer)
    }
    // an action may have called back into the policy: read wakeAt afresh
    const wakeAt = this.policy.wakeAt
    if (wakeAt === this.policyTimer?.at) return
    if (this.policyTimer !== undefined) this.cancel(this.policyTimer)
    this.policyTimer = undefined
    if (!Number.isFinite(wakeAt)) return
    const timer = this.at(wakeAt, () => {
      if (this.policyTimer === timer) this.policyTimer = undefined
      this.drive(this.policy.tick(this.ctx.now()))
    })
    this.policyTimer = timer
  }

  // ---- anti-entropy ----

  /** Starts an exchange the policy reserved a slot for. */
  private startSync (peer: NodeId): void {
    const key = `${this.id}#${++this.sessionSeq}`
    const session = this.replica.initiate(peer)
    const s = this.track(key, peer, 'initiator', session)
    this.counters.bytesSent += this.options.model.syncOpenBytes
    this.sendSync(s, 0, session.open())
  }

  private onSyncFrame (from: NodeId, key: string, step: number, payload: Uint8Array): void {
    let s = this.sessions.get(key)
    try {
      if (step === RESET) {
        if (s !== undefined) this.endSession(s, undefined, true)
      } else if (step === 0) {
        if (s !== undefined) return
        if (!this.policy.answer(from, this.ctx.now())) {
          // busy: the real service aborts the stream at once
          this.reset(from, key)
          return
        }
        s = this.track(key, from, 'responder', this.replica.answer(from))
        const r = (s.session as SyncResponder).receive(payload, this.wall())
        this.sendSync(s, 1, r.send as Uint8Array)
      } else if (s === undefined) {
        // an exchange this side already gave up: reset the other side's half
        this.reset(from, key)
      } else if (step === 1 && s.role === 'initiator') {
        const r = (s.session as SyncInitiator).receive(payload, this.wall())
        this.sendSync(s, 2, r.send)
        this.endSession(s, r.merge, false)
      } else if (step === 2 && s.role === 'responder') {
        const r = (s.session as SyncResponder).receive(payload, this.wall())
        this.endSession(s, r.merge, false)
      }
    } catch {
      if (s !== undefined) {
        this.endSession(s, undefined, true)
        this.reset(s.peer, s.key)
      }
    }
  }

  private reset (to: NodeId, key: string): void {
    this.transmit(to, packr.pack([SYNC, key, RESET, new Uint8Array(0)] satisfies Envelope), this.options.model.syncFrameOverheadBytes, 'sync')
  }

  private track (key: string, peer: NodeId, role: Session['role'], session: SyncInitiator | SyncResponder): Session {
    const s: Session = { key, peer, role, session, deadline: undefined as unknown as Timer }
    s.deadline = this.after(this.options.timing.syncTimeoutMs, () => {
      this.counters.syncsTimedOut++
      this.endSession(s, undefined, true)
    })
    this.sessions.set(key, s)
    return s
  }

  private endSession (s: Session, merge: MergeUpdate | undefined, failed: boolean): void {
    if (!this.sessions.delete(s.key)) return
    this.cancel(s.deadline)
    this.drive(this.policy.ended(s.peer, s.role, !failed, this.ctx.now()))
    const acks = this.replica.settle(s.session.tally, merge, failed)
    if (failed) return
    this.counters.syncsCompleted++
    if (merge !== undefined && (merge.changes.length > 0 || merge.batch.put.length > 0 || merge.batch.delete.length > 0)) this.options.onChange(this.id)
    for (const a of acks) this.publish(a)
  }

  private sendSync (s: Session, step: number, frame: Uint8Array): void {
    const bytes = packr.pack([SYNC, s.key, step, frame] satisfies Envelope)
    this.transmit(s.peer, bytes, frame.byteLength + this.options.model.syncFrameOverheadBytes, 'sync')
  }

  // ---- maintenance ----

  private maintain (): void {
    const out = this.replica.maintain(this.wall(), this.policy.members())
    if (out.collected.length > 0) this.options.onChange(this.id)
    for (const p of out.publish) this.publish(p)
  }

  // ---- CPU, egress, timers ----

  /** Runs `work` (a merge), then charges the CPU `verifyUs` for each signature it checked. */
  private verifying<T> (work: () => T): T {
    const before = this.replica.stats.signaturesVerified
    const out = work()
    const us = (this.replica.stats.signaturesVerified - before) * this.options.model.verifyUs
    if (us > 0) {
      this.busyUntil = Math.max(this.ctx.now(), this.busyUntil) + us / 1000
      this.counters.busyUs += us
    }
    return out
  }

  /** Runs `work` once the node's CPU is free and `costUs` more have passed. */
  private compute (costUs: number, work: () => void): void {
    const now = this.ctx.now()
    const start = Math.max(now, this.busyUntil)
    this.busyUntil = start + costUs / 1000
    this.counters.busyUs += costUs
    if (this.busyUntil <= now) {
      work()
      return
    }
    this.at(this.busyUntil, work)
  }

  /** Queues `bytes` for `to` behind the node's egress; `wireBytes` is what the real transport would send. */
  private transmit (to: NodeId, bytes: Uint8Array, wireBytes: number, kind: 'gossip' | 'sync'): void {
    const m = this.options.model
    const encodeUs = m.sendPerByteUs * wireBytes
    this.counters.busyUs += encodeUs
    const now = this.ctx.now()
    const ready = Math.max(now, this.busyUntil) + encodeUs / 1000
    this.busyUntil = ready
    const depart = Math.max(ready, this.egressFreeAt) + wireBytes / m.bandwidthBytesPerMs
    this.egressFreeAt = depart
    this.counters.bytesSent += wireBytes
    this.counters.messagesSent++
    if (kind === 'gossip') this.counters.gossipBytesSent += wireBytes
    else this.counters.syncBytesSent += wireBytes
    this.at(depart, () => { this.ctx.send(to, bytes, { reliable: true }) })
  }

  private wall (): number {
    return this.options.epochMs + Math.floor(this.ctx.now())
  }

  private after (ms: number, run: () => void): Timer {
    return this.at(this.ctx.now() + ms, run)
  }

  private at (at: number, run: () => void): Timer {
    const t: Timer = { at, seq: this.timerSeq++, run }
    this.timers.push(t)
    this.arm()
    return t
  }

  private cancel (t: Timer): void {
    this.cancelled.add(t)
  }

  private arm (): void {
    let next = this.timers.peek()
    while (next !== undefined && this.cancelled.has(next)) {
      this.timers.pop()
      this.cancelled.delete(next)
      next = this.timers.peek()
    }
    this.ctx.wakeAt(next === undefined ? Infinity : next.at)
  }
}
