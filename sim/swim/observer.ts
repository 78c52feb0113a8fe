/**
 * The simulation's omniscient bookkeeping: what every node believes about every other
 * (from the events the nodes report), compared with the truth (who is up, who crashed,
 * who can reach whom). Maintained incrementally, so checking convergence is O(1).
 */
import type { MemberEvent, MemberState } from '../../protocols/swim/index.js'

const UNKNOWN = 0
const CODE: Record<MemberState, number> = { alive: 1, suspect: 2, dead: 3, left: 4 }

function isLive (code: number): boolean {
  return code === 1 || code === 2
}

function isGone (code: number): boolean {
  return code === 3 || code === 4
}

export interface CrashRecord {
  node: number
  crashedAt: number
  /** When the first up node marked it dead, ms (virtual). */
  firstDetectedAt?: number
  /** When the last up node marked it dead, ms (virtual). */
  allDetectedAt?: number
}

export interface ObserverOptions {
  /** Whether observer `a` can currently reach `b` (no partition between them). */
  reachable: (a: number, b: number) => boolean
  /** Called at the virtual time every up node first holds every other up node live again. */
  onConverged?: (now: number) => void
  /** Called when the last up node marks a crashed node dead. */
  onDetected?: (record: CrashRecord, now: number) => void
}

export class ClusterObserver {
  readonly n: number
  /** view[o * n + s]: what node o believes about node s (0 unknown, 1 alive, 2 suspect, 3 dead, 4 left). */
  private readonly view: Uint8Array
  private readonly up: Uint8Array
  private readonly paused: Uint8Array
  private upCount = 0
  /** liveOfUp[o]: up nodes s ≠ o that o holds live. */
  private readonly liveOfUp: Int32Array
  /** deadKnown[s] for a down node s: up nodes that hold s dead or left. */
  private readonly deadKnown: Int32Array
  private fullCount = 0
  private readonly crashes = new Map<number, CrashRecord>()
  private readonly options: ObserverOptions
  private readonly indexOf: (id: string) => number
  private wasConverged = false

  /** Dead declarations about a member that was up (not stalled), reachable, and not crashed. */
  falsePositives = 0
  /** Dead declarations about a stalled (paused) member while it was stalled. */
  deathsWhilePaused = 0
  /** Suspect events (any observer) about a member that was up and reachable. */
  falseSuspicions = 0
  /** Suspicions raised by an observer itself (its own probe failed) about an up, reachable member. */
  falseAccusations = 0
  /** The first 100 false positives: when, who declared whom dead (node indices). */
  readonly falsePositiveLog: Array<{ at: number, observer: number, subject: number }> = []
  /** Per node: dead declarations about it during its current or last pause. */
  private readonly pausedDeaths: Int32Array
  deadDeclarations = 0
  readonly crashRecords: CrashRecord[] = []

  constructor (n: number, indexOf: (id: string) => number, options: ObserverOptions) {
    this.n = n
    this.indexOf = indexOf
    this.options = options
    this.view = new Uint8Array(n * n)
    this.up = new Uint8Array(n)
    this.paused = new Uint8Array(n)
    this.liveOfUp = new Int32Array(n)
    this.deadKnown = new Int32Array(n)
    this.pausedDeaths = new Int32Array(n)
  }

  get converged (): boolean {
    return this.upCount > 0 && this.fullCount === this.upCount
  }

  get upNodes (): number {
    return this.upCount
  }

  /** Fraction of ordered pairs of distinct up nodes (o, s) in which o holds s live: 1 when converged. */
  get knowledge (): number {
    if (this.upCount < 2) return 1
    let sum = 0
    for (let o = 0; o < this.n; o++) if (this.up[o] === 1) sum += this.liveOfUp[o]
    return sum / (this.upCount * (this.upCount - 1))
  }

  /** A node (re)started: it knows nothing yet. */
  nodeUp (i: number, now: number): void {
    if (this.up[i] === 1) return
    const n = this.n
    for (let s = 0; s < n; s++) this.view[i * n + s] = UNKNOWN
    this.up[i] = 1
    this.paused[i] = 0
    this.upCount++
    this.liveOfUp[i] = 0
    for (let o = 0; o < n; o++) {
      if (o !== i && this.up[o] === 1 && isLive(this.view[o * n + i])) this.liveOfUp[o]++
    }
    this.crashes.delete(i)
    this.recount(now)
  }

  /** A node crashed or left: it stops being an observer and becomes a subject to detect. */
  nodeDown (i: number, now: number, crashed: boolean): void {
    if (this.up[i] === 0) return
    const n = this.n
    this.up[i] = 0
    this.upCount--
    let known = 0
    for (let o = 0; o < n; o++) {
      if (this.up[o] !== 1) continue
      const code = this.view[o * n + i]
      if (isLive(code)) this.liveOfUp[o]--
      if (isGone(code)) known++
    }
    this.deadKnown[i] = known
    for (const [s] of this.crashes) {
      if (isGone(this.view[i * n + s])) this.deadKnown[s]--
    }
    if (crashed) {
      const record: CrashRecord = { node: i, crashedAt: now }
      this.crashes.set(i, record)
      this.crashRecords.push(record)
      this.checkDetected(record, now)
    }
    this.recount(now)
  }

  setPaused (i: number, paused: boolean): void {
    this.paused[i] = paused ? 1 : 0
    if (paused) this.pausedDeaths[i] = 0
  }

  /** Observers that declared node `i` dead during its last pause. */
  deathsDuringPause (i: number): number {
    return this.pausedDeaths[i]
  }

  /** Records one membership event reported by node `observerId`. */
  event (observerId: string, e: MemberEvent, now: number): void {
    const o = this.indexOf(observerId)
    const s = this.indexOf(e.member.id)
    if (o < 0 || s < 0 || o === s) return
    const n = this.n
    const next = CODE[e.member.state]
    const k = o * n + s
    const prev = this.view[k]
    if (prev === next) return
    this.view[k] = next
    if (this.up[o] !== 1) return
    const aboutUp = this.up[s] === 1
    if (next === CODE.dead) {
      this.deadDeclarations++
      if (aboutUp && this.paused[s] === 1) {
        this.deathsWhilePaused++
        this.pausedDeaths[s]++
      } else if (aboutUp && this.options.reachable(o, s)) {
        this.falsePositives++
        if (this.falsePositiveLog.length < 100) this.falsePositiveLog.push({ at: now, observer: o, subject: s })
      }
    }
    if (next === CODE.suspect && aboutUp && this.options.reachable(o, s)) {
      this.falseSuspicions++
      if (e.from === observerId) this.falseAccusations++
    }
    if (aboutUp) {
      const delta = (isLive(next) ? 1 : 0) - (isLive(prev) ? 1 : 0)
      if (delta !== 0) {
        const full = this.upCount - 1
        const before = this.liveOfUp[o] === full
        this.liveOfUp[o] += delta
        const after = this.liveOfUp[o] === full
        if (before !== after) this.fullCount += after ? 1 : -1
        this.checkConverged(now)
      }
    } else {
      const record = this.crashes.get(s)
      const delta = (isGone(next) ? 1 : 0) - (isGone(prev) ? 1 : 0)
      if (delta !== 0) {
        this.deadKnown[s] += delta
        if (record !== undefined) this.checkDetected(record, now)
      }
    }
  }

  private checkDetected (record: CrashRecord, now: number): void {
    const known = this.deadKnown[record.node]
    if (known > 0 && record.firstDetectedAt === undefined) record.firstDetectedAt = now
    if (known >= this.upCount && record.allDetectedAt === undefined) {
      record.allDetectedAt = now
      this.options.onDetected?.(record, now)
    }
  }

  private recount (now: number): void {
    const full = this.upCount - 1
    let count = 0
    for (let o = 0; o < this.n; o++) if (this.up[o] === 1 && this.liveOfUp[o] === full) count++
    this.fullCount = count
    for (const record of this.crashes.values()) this.checkDetected(record, now)
    this.checkConverged(now)
  }

  private checkConverged (now: number): void {
    const c = this.converged
    if (c && !this.wasConverged) this.options.onConverged?.(now)
    this.wasConverged = c
  }
}
