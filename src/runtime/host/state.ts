/**
 * The host functions of ABI SPEC.md §6-§9 for one agent instance: `now`, `random`, the
 * key-value store (`kv_get`, `kv_put`, `kv_delete`, `kv_next`), timers (`schedule`,
 * `cancel`) and capabilities (`capability_declare`, `capability_withdraw`), each charging
 * its fuel. An agent worker binds them beside `send` and `log`;
 * the test kit (agents/testkit) binds the same code with a clock and a random source the
 * test controls.
 *
 * The whole store is held in the instance's thread, loaded with the instance: a handler's
 * reads must be answered synchronously, and a read across threads costs a round trip of
 * ~60 µs (a worker blocked on the main thread, which may itself be busy), against well
 * under a µs for a Map. The store's quota bounds what this holds. Writes are applied here
 * at once (a handler reads its own writes) and reported with the message's `Handled`
 * record; the host commits them with the message and keeps the state that instances are
 * loaded from ({@link AgentStateSnapshot}).
 */
import {
  HOST_FUEL, HOST_RESULT, MAX_CAPABILITY_BYTES, MAX_KEY_BYTES, MAX_RANDOM_BYTES, MAX_TIMER_DELAY_MS, MAX_TIMER_PAYLOAD_BYTES, timerIdIn
} from '../../../protocols/agent-abi/index.js'
import type { ByteWriter } from '../worker-protocol.js'
import { CapabilityBook } from './capability-book.js'
import { writeChanges, type AgentStateSnapshot, type StateChanges } from './changes.js'
import { KvStore } from './kv-store.js'
import { osRandom, seededRandom, type RandomSource } from './random.js'
import { TimerBook } from './timer-book.js'

const utf8 = new TextDecoder()

/** Quota of an agent's store when its host gives none, bytes. */
export const DEFAULT_KV_QUOTA_BYTES = 1024 * 1024
/** Most pending timers of an agent when its host gives no bound. */
export const DEFAULT_MAX_TIMERS = 1000

export interface AgentHostStateOptions {
  /** Wall clock for `now`, ms since the epoch. @default Date.now */
  clock?: () => number
  /** Source of `random`'s bytes. @default the snapshot's seed if it has one, else the OS CSPRNG */
  random?: RandomSource
}

/** The memory and fuel of the instance the functions are bound to. */
export interface InstanceAccess {
  /** The instance's linear memory now (it may have grown since the last call). */
  memory: () => ArrayBuffer
  /**
   * Takes `fuel` from the current call's budget.
   * @throws WebAssembly.RuntimeError when the budget goes below zero (out of fuel)
   */
  charge: (fuel: number) => void
}

export class AgentHostState {
  readonly kv: KvStore
  readonly timers: TimerBook
  readonly capabilities: CapabilityBook
  /** Writes answer `HOST_RESULT.readOnly`: the start function runs. */
  readOnly = false
  readonly clock: () => number
  readonly random: RandomSource

  constructor (snapshot?: AgentStateSnapshot, options: AgentHostStateOptions = {}) {
    this.kv = new KvStore(snapshot?.kvQuotaBytes ?? DEFAULT_KV_QUOTA_BYTES, snapshot?.kv)
    this.timers = new TimerBook(snapshot?.maxTimers ?? DEFAULT_MAX_TIMERS, snapshot?.timers, snapshot?.nextTimerId)
    this.capabilities = new CapabilityBook(snapshot?.capabilities)
    this.clock = options.clock ?? Date.now
    this.random = options.random ?? (snapshot?.randomSeed !== undefined ? seededRandom(snapshot.randomSeed) : osRandom)
  }

  /**
   * Whether a message (encoded for the agent) is to reach the handler of `agentId`: false
   * for the message of a timer cancelled after it fired (SPEC.md §8). A timer's message
   * that does reach it ends the timer.
   */
  admit (message: Uint8Array, agentId: string): boolean {
    const id = timerIdIn(message, agentId)
    return id === 0 || this.timers.fire(id)
  }

  /** Writes the changes of the message just handled to a `Handled` record (see `changes.ts`). */
  writeChanges (out: ByteWriter): void {
    writeChanges(out, this.kv.takeChanges(), this.timers.takeChanges(), this.capabilities.takeChanges())
  }

  /** The changes of the message just handled, and forgets them. */
  takeChanges (): StateChanges {
    const changes: StateChanges = { kv: [...this.kv.takeChanges()], timers: this.timers.takeChanges() }
    const capabilities = this.capabilities.takeChanges()
    if (capabilities !== undefined) changes.capabilities = capabilities
    return changes
  }

  /** The host functions of SPEC.md §6-§9 (module `env`), bound to one instance. */
  imports (access: InstanceAccess): WebAssembly.ModuleImports {
    const { memory, charge } = access
    const kv = this.kv
    const timers = this.timers
    /** `len` bytes at `ptr`, or undefined when outside linear memory. */
    const bytesAt = (ptr: number, len: number): Uint8Array | undefined => {
      const buffer = memory()
      return ptr + len <= buffer.byteLength ? new Uint8Array(buffer, ptr, len) : undefined
    }
    /** A key (or prefix) as a latin1 string, or a negative result. */
    const keyAt = (ptr: number, len: number, mayBeEmpty: boolean): string | number => {
      if (len > MAX_KEY_BYTES || (len === 0 && !mayBeEmpty)) return HOST_RESULT.badKey
      const buffer = memory()
      if (ptr + len > buffer.byteLength) return HOST_RESULT.bounds
      return Buffer.from(buffer, ptr, len).toString('latin1')
    }
    /** Copies a latin1 key to `ptr`; false when outside linear memory. */
    const writeKey = (key: string, ptr: number): boolean => {
      const dest = bytesAt(ptr, key.length)
      if (dest === undefined) return false
      for (let i = 0; i < key.length; i++) dest[i] = key.charCodeAt(i)
      return true
    }
    return {
      now: (): number => {
        charge(HOST_FUEL.now)
        return this.clock()
      },
      random: (ptr: number, len: number): number => {
        charge(HOST_FUEL.random)
        ptr >>>= 0
        len >>>= 0
        if (len > MAX_RANDOM_BYTES) return HOST_RESULT.tooLarge
        const dest = bytesAt(ptr, len)
        if (dest === undefined) return HOST_RESULT.bounds
        charge(len * HOST_FUEL.perByte)
        this.random(dest)
        return HOST_RESULT.ok
      },
      kv_get: (keyPtr: number, keyLen: number, valPtr: number, valCap: number): number => {
        charge(HOST_FUEL.kvGet)
        const key = keyAt(keyPtr >>> 0, keyLen >>> 0, false)
        if (typeof key === 'number') return key
        charge(key.length * HOST_FUEL.perByte)
        const value = kv.get(key)
        if (value === undefined) return HOST_RESULT.notFound
        if (value.length <= valCap >>> 0) {
          const dest = bytesAt(valPtr >>> 0, value.length)
          if (dest === undefined) return HOST_RESULT.bounds
          charge(value.length * HOST_FUEL.perByte)
          dest.set(value)
        }
        return value.length
      },
      kv_put: (keyPtr: number, keyLen: number, valPtr: number, valLen: number): number => {
        charge(HOST_FUEL.kvPut)
        if (this.readOnly) return HOST_RESULT.readOnly
        const key = keyAt(keyPtr >>> 0, keyLen >>> 0, false)
        if (typeof key === 'number') return key
        const value = bytesAt(valPtr >>> 0, valLen >>> 0)
        if (value === undefined) return HOST_RESULT.bounds
        charge((key.length + value.length) * HOST_FUEL.perByte)
        return kv.put(key, value.slice())
      },
      kv_delete: (keyPtr: number, keyLen: number): number => {
        charge(HOST_FUEL.kvDelete)
        if (this.readOnly) return HOST_RESULT.readOnly
        const key = keyAt(keyPtr >>> 0, keyLen >>> 0, false)
        if (typeof key === 'number') return key
        charge(key.length * HOST_FUEL.perByte)
        return kv.delete(key) ? HOST_RESULT.ok : HOST_RESULT.notFound
      },
      kv_next: (prefixPtr: number, prefixLen: number, afterPtr: number, afterLen: number, outPtr: number, outCap: number): number => {
        charge(HOST_FUEL.kvNext)
        const prefix = keyAt(prefixPtr >>> 0, prefixLen >>> 0, true)
        if (typeof prefix === 'number') return prefix
        const after = afterLen >>> 0 === 0 ? undefined : keyAt(afterPtr >>> 0, afterLen >>> 0, false)
        if (typeof after === 'number') return after
        charge((prefix.length + (after?.length ?? 0)) * HOST_FUEL.perByte)
        const key = kv.next(prefix, after)
        if (key === undefined) return HOST_RESULT.notFound
        if (key.length <= outCap >>> 0) {
          charge(key.length * HOST_FUEL.perByte)
          if (!writeKey(key, outPtr >>> 0)) return HOST_RESULT.bounds
        }
        return key.length
      },
      schedule: (delayMs: number, ptr: number, len: number): number => {
        charge(HOST_FUEL.schedule)
        if (this.readOnly) return HOST_RESULT.readOnly
        len >>>= 0
        if (len > MAX_TIMER_PAYLOAD_BYTES) return HOST_RESULT.tooLarge
        if (!(delayMs >= 0 && delayMs <= MAX_TIMER_DELAY_MS)) return HOST_RESULT.badDelay
        const payload = bytesAt(ptr >>> 0, len)
        if (payload === undefined) return HOST_RESULT.bounds
        charge(len * HOST_FUEL.perByte)
        return timers.schedule(delayMs, payload.slice())
      },
      cancel: (id: number): number => {
        charge(HOST_FUEL.cancel)
        if (this.readOnly) return HOST_RESULT.readOnly
        return timers.cancel(id | 0)
      },
      capability_declare: (ptr: number, len: number): number => {
        charge(HOST_FUEL.capabilityDeclare)
        if (this.readOnly) return HOST_RESULT.readOnly
        len >>>= 0
        if (len > MAX_CAPABILITY_BYTES) return HOST_RESULT.tooLarge
        const json = bytesAt(ptr >>> 0, len)
        if (json === undefined) return HOST_RESULT.bounds
        charge(len * HOST_FUEL.perByte)
        return this.capabilities.declare(json)
      },
      capability_withdraw: (namePtr: number, nameLen: number, versionPtr: number, versionLen: number): number => {
        charge(HOST_FUEL.capabilityWithdraw)
        if (this.readOnly) return HOST_RESULT.readOnly
        const name = bytesAt(namePtr >>> 0, nameLen >>> 0)
        const version = bytesAt(versionPtr >>> 0, versionLen >>> 0)
        if (name === undefined || version === undefined) return HOST_RESULT.bounds
        charge((name.length + version.length) * HOST_FUEL.perByte)
        return this.capabilities.withdraw(utf8.decode(name), version.length === 0 ? undefined : utf8.decode(version))
      }
    }
  }
}
