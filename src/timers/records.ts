/**
 * The rows of sublevel `timers` (ABI SPEC.md §10): one per pending timer, and one per agent
 * holding the id its next timer gets, so ids are never reused across restarts.
 *
 * ```
 * <agent id> \0 <timer id, 10 decimal digits>  →  msgpack [1, due (ms since the epoch), fired (bool), payload (bytes)]
 * <agent id> \0 next                           →  msgpack [1, next timer id]
 * ```
 * Agent ids never contain `\0`; the 10-digit ids sort in numeric order.
 */
import { Packr } from 'msgpackr'
import type { AgentId } from '../../protocols/fipa/types.js'

const packr = new Packr({ useRecords: false })
const VERSION = 1
const NEXT = 'next'

/** A pending timer as stored. */
export interface TimerRecord {
  /** When it fires, ms since the epoch. */
  due: number
  /** Its message is in the agent's inbox (it stays pending until the handler gets it). */
  fired: boolean
  payload: Uint8Array
}

export function timerKey (agentId: AgentId, id: number): string {
  return `${agentId}\0${String(id).padStart(10, '0')}`
}

export function nextKey (agentId: AgentId): string {
  return `${agentId}\0${NEXT}`
}

export function encodeTimer (r: TimerRecord): Uint8Array {
  return packr.pack([VERSION, r.due, r.fired, r.payload])
}

export function encodeNext (next: number): Uint8Array {
  return packr.pack([VERSION, next])
}

/** A row, read back. */
export type TimerRow =
  | { kind: 'timer', agentId: AgentId, id: number, record: TimerRecord }
  | { kind: 'next', agentId: AgentId, next: number }

/** Reads a row back. @throws Error naming what is wrong */
export function decodeRow (key: string, value: Uint8Array): TimerRow {
  const sep = key.indexOf('\0')
  if (sep <= 0) throw new Error(`bad key ${JSON.stringify(key)}`)
  const agentId = key.slice(0, sep)
  const rest = key.slice(sep + 1)
  const v = packr.unpack(value) as unknown[]
  if (!Array.isArray(v) || v[0] !== VERSION) throw new Error(`unknown record version in ${JSON.stringify(key)}`)
  if (rest === NEXT) {
    if (typeof v[1] !== 'number') throw new Error(`bad next id in ${JSON.stringify(key)}`)
    return { kind: 'next', agentId, next: v[1] }
  }
  const id = Number(rest)
  if (!/^\d{10}$/.test(rest) || !Number.isSafeInteger(id)) throw new Error(`bad timer id in ${JSON.stringify(key)}`)
  if (typeof v[1] !== 'number' || typeof v[2] !== 'boolean' || !(v[3] instanceof Uint8Array)) throw new Error(`bad timer record ${JSON.stringify(key)}`)
  return { kind: 'timer', agentId, id, record: { due: v[1], fired: v[2], payload: v[3] } }
}
