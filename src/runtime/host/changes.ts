/**
 * What crosses between the runtime and its host about an agent's durable state: the
 * state an instance is loaded with ({@link AgentStateSnapshot}) and what handling one
 * message changed ({@link StateChanges}), which a worker writes at the end of the
 * message's `Handled` record in this layout (little-endian):
 *
 * ```
 * changes := change*
 * change  := 1 key-length u32 key value-length u32 value   a key set
 *          | 2 key-length u32 key                          a key deleted
 *          | 3 id u32 delay f64 (ms) length u32 payload    a timer scheduled
 *          | 4 id u32                                      a timer cancelled
 *          | 5 id u32                                      a timer's message handed to the handler
 *          | 6 length u32 JSON                             the agent's capabilities now (UTF-8 JSON array)
 * ```
 */
import type { Capability } from '../../../protocols/registry/types.js'
import type { ByteWriter } from '../worker-protocol.js'

/** A change to an agent's timers, in the order the agent made it. */
export type TimerChange =
  | { kind: 'schedule', id: number, delayMs: number, payload: Uint8Array }
  | { kind: 'cancel', id: number }
  /** Its message reached the handler: the timer is over. */
  | { kind: 'fired', id: number }

/** What handling one message changed in an agent's durable state. */
export interface StateChanges {
  /** Keys written (bytes as latin1 strings) → their new value, or null when deleted; one entry per key. */
  kv: Array<[string, Uint8Array | null]>
  timers: TimerChange[]
  /** The capabilities the agent offers now, when the handler declared or withdrew one (SPEC.md §9). */
  capabilities?: Capability[]
}

/** The durable state an agent's instance starts from, and its bounds. */
export interface AgentStateSnapshot {
  /** The store's entries, keys as latin1 strings (one char per byte). */
  kv: Array<[string, Uint8Array]>
  /** Ids of its pending timers. */
  timers: number[]
  /** The id its next timer gets. */
  nextTimerId: number
  /** The store's quota, bytes (SPEC.md §7). */
  kvQuotaBytes: number
  /** Most timers pending at once. */
  maxTimers: number
  /** Draw `random` bytes from a generator seeded with this (tests), not the OS. */
  randomSeed?: string
  /** The capabilities it offers (as deployed, and declared since). @default [] */
  capabilities?: Capability[]
}

const PUT = 1
const DELETE = 2
const SCHEDULE = 3
const CANCEL = 4
const FIRED = 5
const CAPABILITIES = 6

/**
 * Writes `u32 length | changes` to `out`; a length of 0 when nothing changed.
 * `capabilities` is the agent's list when the message changed it.
 */
export function writeChanges (out: ByteWriter, kv: ReadonlyMap<string, Uint8Array | null>, timers: readonly TimerChange[], capabilities?: readonly Capability[]): void {
  let size = 0
  for (const [key, value] of kv) size += 5 + key.length + (value === null ? 0 : 4 + value.length)
  for (const t of timers) size += t.kind === 'schedule' ? 17 + t.payload.length : 5
  const caps = capabilities === undefined ? undefined : Buffer.from(JSON.stringify(capabilities))
  if (caps !== undefined) size += 5 + caps.length
  out.u32(size)
  if (size === 0) return
  for (const [key, value] of kv) {
    out.u8(value === null ? DELETE : PUT)
    out.u32(key.length)
    out.raw(Buffer.from(key, 'latin1'))
    if (value !== null) { out.u32(value.length); out.raw(value) }
  }
  for (const t of timers) {
    switch (t.kind) {
      case 'schedule': out.u8(SCHEDULE); out.u32(t.id); out.f64(t.delayMs); out.u32(t.payload.length); out.raw(t.payload); break
      case 'cancel': out.u8(CANCEL); out.u32(t.id); break
      case 'fired': out.u8(FIRED); out.u32(t.id); break
    }
  }
  if (caps !== undefined) { out.u8(CAPABILITIES); out.u32(caps.length); out.raw(caps) }
}

/**
 * Reads what {@link writeChanges} wrote (without its length). Values and payloads are
 * copied out: `bytes` is a view of a results buffer that must not be kept alive.
 * @throws RangeError when the bytes are not in the layout (a bug: they come from the worker)
 */
export function readChanges (bytes: Uint8Array): StateChanges {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const changes: StateChanges = { kv: [], timers: [] }
  let off = 0
  const take = (n: number): Uint8Array => {
    if (off + n > bytes.length) throw new RangeError(`state changes truncated at byte ${off}`)
    const out = bytes.slice(off, off + n)
    off += n
    return out
  }
  while (off < bytes.length) {
    const kind = bytes[off]
    off += 1
    switch (kind) {
      case PUT: case DELETE: {
        const n = view.getUint32(off, true)
        off += 4
        if (off + n > bytes.length) throw new RangeError(`state changes truncated at byte ${off}`)
        const key = buf.toString('latin1', off, off + n)
        off += n
        if (kind === DELETE) {
          changes.kv.push([key, null])
        } else {
          const len = view.getUint32(off, true)
          off += 4
          changes.kv.push([key, take(len)])
        }
        break
      }
      case SCHEDULE: {
        const id = view.getUint32(off, true)
        const delayMs = view.getFloat64(off + 4, true)
        const len = view.getUint32(off + 12, true)
        off += 16
        changes.timers.push({ kind: 'schedule', id, delayMs, payload: take(len) })
        break
      }
      case CANCEL: case FIRED:
        changes.timers.push({ kind: kind === CANCEL ? 'cancel' : 'fired', id: view.getUint32(off, true) })
        off += 4
        break
      case CAPABILITIES: {
        const len = view.getUint32(off, true)
        off += 4
        changes.capabilities = JSON.parse(Buffer.from(take(len)).toString('utf8')) as Capability[]
        break
      }
      default:
        throw new RangeError(`unknown state change ${kind} at byte ${off - 1}`)
    }
  }
  return changes
}
