/**
 * A tiny simulated cluster for the registry's property tests: replicas, a gossip pool
 * that delivers in any order, duplicates and drops, anti-entropy through the real codec,
 * garbage collection and acks, and one in-memory store per replica that receives every
 * batch (so a restore can be compared with the live replica).
 */
import fc from 'fast-check'
import {
  Registry, MemoryRegistryStore, RegistryAgentNotFoundError, RegistryDecodeError, decodeDelta, decodeGossip, decodeSyncFrame, encodeDelta,
  encodeGossip, encodeSyncFrame, signedPayload, type AgentRecord, type AgentState, type Capability, type RegistryBatch, type RegistryDelta, type Version
} from '../../../protocols/registry/index.js'
import { testSigning } from './keys.js'

export const AGENTS = ['alpha', 'beta', 'gamma', 'delta']
const STATES: AgentState[] = ['loaded', 'running', 'draining', 'stopped', 'failed']
const CAPS: Capability[] = [{ name: 'echo' }, { name: 'sum', version: '1.0.0' }, { name: 'plan', schema: { type: 'object', required: ['goal'] } }]

export type Step =
  | { k: 'op', r: number, agent: number, op: 'put' | 'update' | 'remove', state: number, caps: number, dt: number, skew: number }
  | { k: 'deliver', pick: number, dup: boolean }
  | { k: 'drop', pick: number }
  | { k: 'sync', a: number, b: number }
  | { k: 'gc', r: number, dt: number, partial: boolean }
  | { k: 'ack', from: number, to: number }
  | { k: 'attack', to: number, attack: Attack }

/** The compromised member of the Byzantine property: it holds its own key, and no one else's. */
export const BYZANTINE = 'node-m'

/**
 * What the compromised member sends: versions claiming an honest writer, signed with its
 * own key or not at all; its own versions with any sequence number and timestamp; replays
 * of honest versions; anti-entropy deltas whose context claims honest writes as seen.
 */
export type Attack =
  | { kind: 'forge', agent: number, victim: number, seq: number, wallAhead: number, live: boolean, sig: 'mine' | 'zero' }
  | { kind: 'own', agent: number, seq: number, wallAhead: number, registeredAt: number, live: boolean }
  | { kind: 'replay', pick: number }
  | { kind: 'context', victim: number, upTo: number, replay: number[] }

const SEQS = [1, 2, 3, 7, 1_000, 2 ** 32, Number.MAX_SAFE_INTEGER]
/** ms ahead of the cluster's time: far behind, now, within the drift bound, far ahead. */
const AHEAD = [-1_000, 0, 5, 1_000_000, 1e12]

export function attackArb (replicas: number): fc.Arbitrary<Step> {
  const who = fc.nat(replicas - 1)
  const agent = fc.nat(AGENTS.length - 1)
  const seq = fc.constantFrom(...SEQS)
  const wallAhead = fc.constantFrom(...AHEAD)
  const attack: fc.Arbitrary<Attack> = fc.oneof(
    fc.record({ kind: fc.constant('forge' as const), agent, victim: who, seq, wallAhead, live: fc.boolean(), sig: fc.constantFrom('mine' as const, 'zero' as const) }),
    fc.record({ kind: fc.constant('own' as const), agent, seq, wallAhead, registeredAt: fc.constantFrom(0, 1, 999), live: fc.boolean() }),
    fc.record({ kind: fc.constant('replay' as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant('context' as const), victim: who, upTo: seq, replay: fc.array(fc.nat(), { maxLength: 3 }) })
  )
  return fc.record({ k: fc.constant('attack' as const), to: who, attack })
}

/** Steps of a random execution. `ops` weighs local operations against the rest. */
export function stepArb (replicas: number, options: { gc?: boolean, sync?: boolean } = {}): fc.Arbitrary<Step> {
  const r = fc.nat(replicas - 1)
  const arbs: Array<fc.WeightedArbitrary<Step>> = [
    {
      weight: 5,
      arbitrary: fc.record({
        k: fc.constant('op' as const),
        r,
        agent: fc.nat(AGENTS.length - 1),
        op: fc.constantFrom('put' as const, 'put' as const, 'update' as const, 'remove' as const, 'remove' as const),
        state: fc.nat(STATES.length - 1),
        caps: fc.nat(7),
        dt: fc.nat(3),
        skew: fc.integer({ min: -2, max: 2 })
      })
    },
    { weight: 5, arbitrary: fc.record({ k: fc.constant('deliver' as const), pick: fc.nat(), dup: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('drop' as const), pick: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('ack' as const), from: r, to: r }) }
  ]
  if (options.sync !== false) arbs.push({ weight: 1, arbitrary: fc.record({ k: fc.constant('sync' as const), a: r, b: r }) })
  if (options.gc !== false) arbs.push({ weight: 2, arbitrary: fc.record({ k: fc.constant('gc' as const), r, dt: fc.constantFrom(0, 1, 10, 50), partial: fc.boolean() }) })
  return fc.oneof(...arbs)
}

interface Pending { from: number, to: number, bytes: Uint8Array }

export const TTL_MS = 25

export class Cluster {
  readonly replicas: Registry[]
  readonly stores: MemoryRegistryStore[]
  readonly ids: string[]
  /** Every delta ever published, with its sender. */
  readonly log: Array<{ from: number, delta: RegistryDelta }> = []
  /** Per replica, per agent: tombstones it has held. */
  readonly seenTombstones: Array<Map<string, Version[]>>
  private pending: Pending[] = []
  time = 1_000

  constructor (n: number, readonly bucketCount = 4) {
    this.ids = Array.from({ length: n }, (_, i) => `node-${String.fromCharCode(97 + i)}`)
    this.replicas = this.ids.map(id => new Registry({ nodeId: id, signing: testSigning(id), bucketCount, tombstoneTtlMs: TTL_MS }))
    this.stores = this.ids.map(() => new MemoryRegistryStore())
    this.seenTombstones = this.ids.map(() => new Map())
  }

  private async persist (r: number, batch: RegistryBatch): Promise<void> {
    await this.stores[r].write(batch)
    this.noteTombstones(r)
  }

  private noteTombstones (r: number): void {
    for (const e of this.replicas[r].rawEntries()) {
      for (const v of e.versions) {
        if (v.record !== null) continue
        const seen = this.seenTombstones[r].get(e.agentId) ?? []
        if (!seen.includes(v)) seen.push(v)
        this.seenTombstones[r].set(e.agentId, seen)
      }
    }
  }

  async run (steps: Step[]): Promise<void> {
    for (const s of steps) await this.step(s)
  }

  async step (s: Step): Promise<void> {
    switch (s.k) {
      case 'op': {
        this.time += s.dt
        const reg = this.replicas[s.r]
        const agentId = AGENTS[s.agent]
        const capabilities = CAPS.filter((_, i) => (s.caps & (1 << i)) !== 0)
        let update
        try {
          update = s.op === 'put'
            ? reg.apply({ type: 'put', agentId, node: reg.nodeId, state: STATES[s.state], capabilities }, this.time + s.skew)
            : s.op === 'update'
              ? reg.apply({ type: 'update', agentId, state: STATES[s.state] }, this.time + s.skew)
              : reg.apply({ type: 'remove', agentId }, this.time + s.skew)
        } catch (err) {
          if (err instanceof RegistryAgentNotFoundError) return
          throw err
        }
        await this.persist(s.r, update.batch)
        if (update.delta !== undefined) {
          this.log.push({ from: s.r, delta: update.delta })
          const bytes = encodeGossip({ type: 'delta', delta: update.delta })
          for (let to = 0; to < this.replicas.length; to++) if (to !== s.r) this.pending.push({ from: s.r, to, bytes })
        }
        return
      }
      case 'deliver': {
        if (this.pending.length === 0) return
        const i = s.pick % this.pending.length
        const m = this.pending[i]
        if (!s.dup) this.pending.splice(i, 1)
        await this.deliver(m)
        return
      }
      case 'drop':
        if (this.pending.length > 0) this.pending.splice(s.pick % this.pending.length, 1)
        return
      case 'sync':
        if (s.a !== s.b) await this.sync(s.a, s.b)
        return
      case 'gc': {
        this.time += s.dt
        const members = s.partial ? this.ids.filter((_, i) => i === s.r || i % 2 === 0) : this.ids
        const { batch } = this.replicas[s.r].collectGarbage({ now: this.time, members })
        await this.persist(s.r, batch)
        return
      }
      case 'ack': {
        if (s.from === s.to) return
        const bytes = encodeGossip({ type: 'ack', ack: this.replicas[s.from].tombstoneAck() })
        const msg = decodeGossip(bytes)
        if (msg.type === 'ack') this.replicas[s.to].acknowledge(this.ids[s.from], msg.ack)
        return
      }
      case 'attack': {
        const delta = this.craft(s.attack)
        if (delta === undefined) return
        let decoded: RegistryDelta
        try {
          decoded = decodeDelta(encodeDelta(delta))
        } catch (err) {
          if (err instanceof RegistryDecodeError) return
          throw err
        }
        await this.persist(s.to, this.replicas[s.to].merge(decoded, { now: this.time, from: BYZANTINE }).batch)
      }
    }
  }

  /** The bytes a compromised member would send (before the codec). */
  private craft (a: Attack): RegistryDelta | undefined {
    const byzantine = testSigning(BYZANTINE)
    const versionOf = (agentId: string, by: string, seq: number, wall: number, record: AgentRecord | null, sign: (p: Uint8Array) => Uint8Array): Version => {
      const unsigned = { by, seq, hlc: { wall: Math.max(0, wall), logical: 0 }, record }
      return { ...unsigned, signature: sign(signedPayload(agentId, unsigned)) }
    }
    const record = (node: string, registeredAt: number): AgentRecord => ({ node, state: 'running', capabilities: [{ name: 'echo' }], updatedAt: Math.max(0, registeredAt), registeredAt: Math.max(0, registeredAt) })
    switch (a.kind) {
      case 'forge': {
        const victim = this.ids[a.victim]
        const agentId = AGENTS[a.agent]
        const wall = this.time + a.wallAhead
        const sign = a.sig === 'mine' ? byzantine.sign : () => new Uint8Array(64)
        return { entries: [{ agentId, versions: [versionOf(agentId, victim, a.seq, wall, a.live ? record(victim, 0) : null, sign)] }] }
      }
      case 'own': {
        const agentId = AGENTS[a.agent]
        const wall = this.time + a.wallAhead
        return { entries: [{ agentId, versions: [versionOf(agentId, BYZANTINE, a.seq, wall, a.live ? record(BYZANTINE, Math.min(a.registeredAt, wall)) : null, byzantine.sign)] }] }
      }
      case 'replay':
        return this.log.length === 0 ? undefined : this.log[a.pick % this.log.length].delta
      case 'context': {
        const entries = this.log.length === 0 ? [] : a.replay.flatMap(i => this.log[i % this.log.length].delta.entries)
        const context = [this.ids[a.victim], BYZANTINE].sort().map(node => ({ node, upTo: a.upTo, extra: [] }))
        return { entries, context, complete: { bucketCount: this.bucketCount, buckets: Array.from({ length: this.bucketCount }, (_, i) => i) } }
      }
    }
  }

  private async deliver (m: Pending): Promise<void> {
    const msg = decodeGossip(m.bytes)
    if (msg.type !== 'delta') return
    const { batch } = this.replicas[m.to].merge(msg.delta, { now: this.time, from: this.ids[m.from] })
    await this.persist(m.to, batch)
  }

  /** One anti-entropy exchange, initiator `a`, responder `b`, every frame through the codec. */
  async sync (a: number, b: number): Promise<void> {
    const ra = this.replicas[a]
    const rb = this.replicas[b]
    const f1 = decodeSyncFrame(encodeSyncFrame({ type: 'digest', digest: ra.digest() }))
    if (f1.type !== 'digest') throw new Error('expected digest')
    const f2 = decodeSyncFrame(encodeSyncFrame({ type: 'reply', digest: rb.digest(), delta: rb.missingFor(f1.digest) }))
    if (f2.type !== 'reply') throw new Error('expected reply')
    await this.persist(a, ra.merge(f2.delta, { now: this.time, from: this.ids[b] }).batch)
    const f3 = decodeSyncFrame(encodeSyncFrame({ type: 'entries', delta: ra.missingFor(f2.digest) }))
    if (f3.type !== 'entries') throw new Error('expected entries')
    await this.persist(b, rb.merge(f3.delta, { now: this.time, from: this.ids[a] }).batch)
  }

  /** Delivers everything still pending, in order. */
  async drain (): Promise<void> {
    while (this.pending.length > 0) await this.deliver(this.pending.shift() as Pending)
  }

  /** Syncs every replica with every other one, in a fixed order. */
  async syncAll (): Promise<void> {
    for (let a = 0; a < this.replicas.length; a++) {
      for (let b = 0; b < this.replicas.length; b++) if (a !== b) await this.sync(a, b)
    }
  }

  /**
   * Replicas showing a live version that a tombstone they once held superseded (an
   * earlier write of the tombstone's writer: a removed agent come back). Empty when the
   * invariant holds.
   */
  resurrections (): string[] {
    const out: string[] = []
    this.replicas.forEach((reg, r) => {
      for (const [agentId, tombs] of this.seenTombstones[r]) {
        for (const v of reg.entry(agentId)?.versions ?? []) {
          if (v.record === null) continue
          for (const t of tombs) if (t.by === v.by && t.seq > v.seq) out.push(`${this.ids[r]}: ${agentId} write ${v.seq} of ${v.by} after its tombstone ${t.seq}`)
        }
      }
    })
    return out
  }
}

/** The replicated state as bytes: equal bytes, equal states (entries and context). */
export function stateBytes (reg: Registry): string {
  return Buffer.from(encodeDelta(reg.snapshot())).toString('hex')
}

/** What readers see, as a comparable string. */
export function visible (reg: Registry): string {
  return JSON.stringify([...reg.entries()].map(a => [a.agentId, a.node, a.state, a.capabilities, a.version]).sort())
}

/** The replicated entries as bytes, without the causal context. */
export function entryBytes (reg: Registry): string {
  return Buffer.from(encodeDelta({ entries: reg.snapshot().entries })).toString('hex')
}

/** A fresh replica holding exactly the state of `snapshot` (through the codec). */
export function fromSnapshot (nodeId: string, snapshot: RegistryDelta, bucketCount = 4): Registry {
  const d = decodeDelta(encodeDelta(snapshot))
  return Registry.restore({ nodeId, signing: testSigning(nodeId), bucketCount, tombstoneTtlMs: TTL_MS }, { entries: d.entries, knowledge: d.context ?? [] })
}
