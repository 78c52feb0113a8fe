/**
 * Agents' timers on the node (ABI SPEC.md §8): persisted in sublevel `timers`, fired by
 * one {@link Alarm} set for the earliest due time, each firing a message from the agent to
 * itself put through the node's normal accept path (its durable inbox, in order with the
 * agent's other messages) in one write with the row that marks the timer fired, so a
 * timer fires once, also across crashes.
 *
 * A timer is pending from the commit of the message whose handler scheduled it until the
 * commit of the message whose handler got its message (the agent's worker reports that,
 * and cancels, as {@link TimerChange}s): its row lives that long, and the instance's view
 * of pending timers is loaded from these rows ({@link TimerService.snapshot}).
 */
import type { Logger } from 'pino'
import { DeadlineQueue } from '../../protocols/deadline-queue.js'
import { timerMessage } from '../../protocols/agent-abi/index.js'
import { validateMessage, type AclLimits } from '../../protocols/fipa/index.js'
import type { AclMessage, AgentId } from '../../protocols/fipa/types.js'
import { Alarm } from '../delivery/index.js'
import { silentLogger } from '../observability/logger.js'
import { Counter, Gauge, type MetricsRegistry } from '../observability/metrics.js'
import type { TimerChange } from '../runtime/types.js'
import type { StorageOp, Sublevel } from '../storage/index.js'
import { decodeRow, encodeNext, encodeTimer, nextKey, timerKey, type TimerRecord } from './records.js'

export interface TimerServiceOptions {
  /** Sublevel `timers` (written through `accept` and the commits of handled messages). */
  rows: Sublevel
  /**
   * The node's accept path: puts `messages` in their receivers' durable inboxes (or the
   * outbox) in one write with `ops`; resolves once durable.
   */
  accept: (messages: AclMessage[], ops: StorageOp[]) => Promise<void>
  /** Limits messages are validated with (a payload longer than `maxContentBytes` cannot fire). */
  limits: AclLimits
  /** Message ids. */
  newId: () => string
  /** ms since the epoch. @default Date.now */
  clock?: () => number
  /** How long a timer whose firing could not be written waits to fire again, ms. @default 1000 */
  retryMs?: number
  logger?: Logger
  metrics?: MetricsRegistry
}

interface AgentTimers {
  next: number
  timers: Map<number, TimerRecord>
}

export class TimerService {
  private readonly agents = new Map<AgentId, AgentTimers>()
  /** Timers not yet fired, by `agentId \0 id`. */
  private readonly due = new DeadlineQueue<string>()
  private readonly alarm: Alarm
  private readonly clock: () => number
  private readonly log: Logger
  private readonly fired?: Counter
  private running = false

  constructor (private readonly o: TimerServiceOptions) {
    this.clock = o.clock ?? Date.now
    this.log = o.logger ?? silentLogger()
    this.alarm = new Alarm(() => { this.fire() }, this.clock)
    if (o.metrics !== undefined) {
      const registers = [o.metrics]
      this.fired = new Counter({ name: 'caxton_timers_fired_total', help: 'Agent timers fired (their message put in the agent\'s inbox)', registers })
      const agents = this.agents
      new Gauge({
        name: 'caxton_timers_pending',
        help: 'Agent timers pending (set, their message not yet handled)',
        registers,
        collect () {
          let n = 0
          for (const a of agents.values()) n += a.timers.size
          this.set(n)
        }
      })
    }
  }

  /**
   * Reads the stored timers. Rows of agents `keep` rejects (removed while the node was
   * down, or never deployed) are deleted. Call before the agents are restored.
   */
  async load (keep: (agentId: AgentId) => boolean): Promise<void> {
    const stale: string[] = []
    let loaded = 0
    for await (const [key, value] of this.o.rows.iterator()) {
      let row
      try {
        row = decodeRow(key, value)
      } catch (err) {
        this.log.error({ key, err: (err as Error).message }, 'dropping an unreadable timer row')
        stale.push(key)
        continue
      }
      if (!keep(row.agentId)) {
        stale.push(key)
        continue
      }
      const a = this.agent(row.agentId)
      if (row.kind === 'next') {
        a.next = Math.max(a.next, row.next)
        continue
      }
      a.timers.set(row.id, row.record)
      a.next = Math.max(a.next, row.id + 1)
      if (!row.record.fired) this.due.set(timerKey(row.agentId, row.id), row.record.due)
      loaded++
    }
    if (stale.length > 0) await this.o.rows.batch(stale.map(key => ({ type: 'del' as const, key })))
    if (loaded > 0 || stale.length > 0) this.log.info({ loaded, dropped: stale.length }, 'timers loaded')
  }

  /** Fires what is due now, then at each next due time. Call once messages can be accepted. */
  start (): void {
    this.running = true
    this.arm()
  }

  stop (): void {
    this.running = false
    this.alarm.cancel()
  }

  /** `agentId`'s pending timer ids and the id of its next one. */
  snapshot (agentId: AgentId): { timers: number[], nextTimerId: number } {
    const a = this.agents.get(agentId)
    return a === undefined ? { timers: [], nextTimerId: 1 } : { timers: [...a.timers.keys()], nextTimerId: a.next }
  }

  /** `agentId`'s pending timers, by id. */
  list (agentId: AgentId): Array<{ id: number } & TimerRecord> {
    const a = this.agents.get(agentId)
    return a === undefined ? [] : [...a.timers].map(([id, r]) => ({ id, ...r })).sort((x, y) => x.id - y.id)
  }

  /**
   * What the handler of one of `agentId`'s messages did to its timers: applied here now,
   * and the rows returned, to be written in the message's commit.
   */
  apply (agentId: AgentId, changes: readonly TimerChange[]): StorageOp[] {
    const ops: StorageOp[] = []
    const rows = this.o.rows
    const a = this.agent(agentId)
    for (const c of changes) {
      const key = timerKey(agentId, c.id)
      if (c.kind === 'schedule') {
        const record: TimerRecord = { due: this.clock() + c.delayMs, fired: false, payload: c.payload }
        a.timers.set(c.id, record)
        a.next = Math.max(a.next, c.id + 1)
        ops.push({ type: 'put', sublevel: rows, key, value: encodeTimer(record) })
        ops.push({ type: 'put', sublevel: rows, key: nextKey(agentId), value: encodeNext(a.next) })
        this.due.set(key, record.due)
      } else {
        a.timers.delete(c.id)
        this.due.delete(key)
        ops.push({ type: 'del', sublevel: rows, key })
      }
    }
    if (this.running) this.arm()
    return ops
  }

  /**
   * Forgets `agentId`'s timers (it was removed) and returns the rows to delete. Every row
   * has its timer here until a delete of it is staged, so these are all of them, written
   * or still staged: write the deletes through the same ordered commits.
   */
  dropOps (agentId: AgentId): StorageOp[] {
    const a = this.agents.get(agentId)
    if (a === undefined) return []
    this.agents.delete(agentId)
    const ops: StorageOp[] = [{ type: 'del', sublevel: this.o.rows, key: nextKey(agentId) }]
    for (const id of a.timers.keys()) {
      this.due.delete(timerKey(agentId, id))
      ops.push({ type: 'del', sublevel: this.o.rows, key: timerKey(agentId, id) })
    }
    return ops
  }

  private agent (agentId: AgentId): AgentTimers {
    let a = this.agents.get(agentId)
    if (a === undefined) {
      a = { next: 1, timers: new Map() }
      this.agents.set(agentId, a)
    }
    return a
  }

  private arm (): void {
    const at = this.due.peekAt()
    if (at !== Infinity) this.alarm.setFor(at)
  }

  /** Puts the messages of every timer due now in their agents' inboxes, in one write. */
  private fire (): void {
    if (!this.running) return
    const now = this.clock()
    const due: Array<{ agentId: AgentId, id: number, record: TimerRecord }> = []
    for (const key of this.due.popDue(now)) {
      const sep = key.indexOf('\0')
      const agentId = key.slice(0, sep)
      const id = Number(key.slice(sep + 1))
      const record = this.agents.get(agentId)?.timers.get(id)
      if (record !== undefined && !record.fired) due.push({ agentId, id, record })
    }
    // Timers due at the same time fire in the order they were set.
    due.sort((x, y) => x.record.due - y.record.due || (x.agentId < y.agentId ? -1 : x.agentId > y.agentId ? 1 : x.id - y.id))
    const messages: AclMessage[] = []
    const ops: StorageOp[] = []
    const firing: typeof due = []
    for (const t of due) {
      let m: AclMessage
      try {
        m = validateMessage(timerMessage(t.agentId, t.id, t.record.payload, { messageId: this.o.newId(), createdAt: now }), this.o.limits)
      } catch (err) {
        // Its payload can never make a valid message here (e.g. longer than messages.maxContentBytes).
        this.log.error({ agentId: t.agentId, timer: t.id, err: (err as Error).message }, 'timer dropped: its message is not valid')
        this.agents.get(t.agentId)?.timers.delete(t.id)
        ops.push({ type: 'del', sublevel: this.o.rows, key: timerKey(t.agentId, t.id) })
        continue
      }
      t.record.fired = true
      messages.push(m)
      firing.push(t)
      ops.push({ type: 'put', sublevel: this.o.rows, key: timerKey(t.agentId, t.id), value: encodeTimer(t.record) })
    }
    if (ops.length > 0) {
      this.o.accept(messages, ops).then(() => {
        this.fired?.inc(firing.length)
      }, (err: Error) => {
        this.log.warn({ timers: firing.length, err: err.message }, 'timers could not fire; trying again')
        const retryAt = this.clock() + (this.o.retryMs ?? 1000)
        for (const t of firing) {
          // Unless the agent cancelled it (or got it) meanwhile.
          if (this.agents.get(t.agentId)?.timers.get(t.id) !== t.record) continue
          t.record.fired = false
          this.due.set(timerKey(t.agentId, t.id), retryAt)
        }
        if (this.running) this.arm()
      })
    }
    this.arm()
  }
}
