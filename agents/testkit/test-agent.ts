/**
 * One agent run in process, under a host the test controls: see `index.ts`.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { compileAgent } from '../build.mjs'
import {
  LOG_LEVELS, SEND_RESULT, checkFromAgent, decodeFromAgent, encodeForAgent, timerMessage, type AgentLogLevel
} from '../../protocols/agent-abi/index.js'
import { stampDraft, validateMessage } from '../../protocols/fipa/index.js'
import type { AclMessage, AgentId } from '../../protocols/fipa/types.js'
import type { Capability } from '../../protocols/registry/types.js'
import { silentLogger } from '../../src/observability/logger.js'
import { FUEL_EXPORT, REFUEL_IMPORT } from '../../src/runtime/fuel.js'
import {
  AgentHostState, DEFAULT_KV_QUOTA_BYTES, DEFAULT_MAX_TIMERS, seededRandom, type AgentStateSnapshot, type RandomSource
} from '../../src/runtime/host/index.js'
import { DEFAULT_AGENT_LIMITS } from '../../src/runtime/limits.js'
import { PolicyClient } from '../../src/runtime/policy-client.js'
import { START_EXPORT } from '../../src/runtime/policy.js'
import type { ModuleReport } from '../../src/runtime/types.js'

/** Options of {@link TestAgent.load}. Every limit defaults to the node's default. */
export interface TestAgentOptions {
  /** The agent's id. @default 'agent' */
  id?: AgentId
  /** The clock's start, ms since the epoch. @default 1_700_000_000_000 */
  now?: number
  /** Seed of the agent's `random` bytes: the same seed, the same bytes. @default 'caxton' */
  seed?: string
  /** The store's entries before the agent starts (keys and string values as UTF-8). */
  kv?: Record<string, string | Uint8Array>
  /** The capabilities it was deployed with. @default [] */
  capabilities?: Capability[]
  /** @default 1048576 */
  kvQuotaBytes?: number
  /** @default 1000 */
  maxTimers?: number
  /** @default 50_000_000 */
  fuelPerMessage?: number
  /** @default 256 */
  maxMemoryPages?: number
  /** @default 1000 */
  maxSendsPerMessage?: number
  /** @default 1048576 */
  maxSendBytes?: number
}

/** What one call into the agent (a message, or its start) did. */
export interface Handled {
  /** What `handle_message` returned (0 = handled); 0 for a start, or a message dropped unhandled. */
  status: number
  /** What it sent, as the node's router would stamp and validate it (`sender` the agent). */
  sent: AclMessage[]
  /** Sends the node would refuse or answer with NOT-UNDERSTOOD, with the reason. */
  refused: string[]
  logs: Array<{ level: AgentLogLevel, text: string }>
  /** Fuel spent. */
  fuel: number
  /** Why the agent failed (trap, out of fuel, abort); it handles nothing more. */
  failed?: string
  /** The message was a cancelled timer's and never reached the handler. */
  dropped?: boolean
}

/** A pending timer. */
export interface PendingTimer {
  id: number
  /** When it fires, ms since the epoch (the test's clock). */
  due: number
  payload: Uint8Array
}

const utf8 = new TextDecoder()
const utf16 = new TextDecoder('utf-16le')
const encoder = new TextEncoder()

let policy: PolicyClient | undefined
const compiled = new Map<string, Promise<Uint8Array>>()
const modules = new Map<string, Promise<{ module: WebAssembly.Module, report: Omit<ModuleReport, 'hash'> }>>()

/** Checks and instruments a module as a node does on deploy (once per module). */
async function sandbox (wasm: Uint8Array): Promise<{ module: WebAssembly.Module, report: Omit<ModuleReport, 'hash'> }> {
  const hash = createHash('sha256').update(wasm).digest('hex')
  let entry = modules.get(hash)
  if (entry === undefined) {
    // The policy worker (binaryen) ends itself after 2 s unused, so test runs exit.
    policy ??= new PolicyClient({ logger: silentLogger(), idleMs: 2000 })
    const p = policy
    entry = (async () => {
      const result = await p.check(wasm, true)
      return { module: new WebAssembly.Module(result.instrumented as Uint8Array<ArrayBuffer>), report: result.report }
    })()
    modules.set(hash, entry)
    entry.catch(() => { modules.delete(hash) })
  }
  return await entry
}

/** Stops the kit's policy worker now (it also stops by itself when unused for 2 s). */
export async function closeTestKit (): Promise<void> {
  const p = policy
  policy = undefined
  await p?.stop()
}

/** Key as the store holds it: its UTF-8 bytes, one latin1 char each. */
function storeKey (key: string | Uint8Array): string {
  return Buffer.from(typeof key === 'string' ? encoder.encode(key) : key).toString('latin1')
}

/** A byte string of the store, as text. */
function keyText (key: string): string {
  return utf8.decode(Buffer.from(key, 'latin1'))
}

/**
 * A WebAssembly agent run in process under a host the test controls: its clock (moved
 * by {@link advance}, which fires timers that fall due), its random bytes (seeded), its
 * key-value store and its timers (read and seeded by the test), and what it sends
 * (returned, not delivered). The module is checked and metered by the node's own sandbox
 * policy, and the host functions of the store, time and timers are the node's own code,
 * so what passes here behaves the same on a node.
 */
export class TestAgent {
  readonly id: AgentId
  /** Everything the agent sent, in order. */
  readonly sent: AclMessage[] = []
  readonly logs: Array<{ level: AgentLogLevel, text: string }> = []
  private clock: number
  private readonly random: RandomSource
  /** The committed store: what a node would have written (a failed call's writes are not). */
  private readonly committed = new Map<string, Uint8Array>()
  private readonly pending = new Map<number, PendingTimer>()
  private offered: Capability[]
  private state!: AgentHostState
  private memory!: WebAssembly.Memory
  private exports!: WebAssembly.Exports
  private failure: string | undefined
  private call: Handled | undefined
  private sends = 0
  private nextMessage = 1

  private constructor (
    private readonly module: WebAssembly.Module,
    private readonly report: Omit<ModuleReport, 'hash'>,
    private readonly options: TestAgentOptions
  ) {
    this.id = options.id ?? 'agent'
    this.clock = options.now ?? 1_700_000_000_000
    this.random = seededRandom(options.seed ?? 'caxton')
    this.offered = [...options.capabilities ?? []]
    for (const [k, v] of Object.entries(options.kv ?? {})) this.committed.set(storeKey(k), typeof v === 'string' ? encoder.encode(v) : v)
  }

  /**
   * Checks and meters `wasm` as a node does on deploy, instantiates it and runs its start
   * function (top-level code).
   * @throws InvalidModuleError naming what the node would refuse, Error when the start function fails
   */
  static async load (wasm: Uint8Array, options: TestAgentOptions = {}): Promise<TestAgent> {
    const { module, report } = await sandbox(wasm)
    const agent = new TestAgent(module, report, options)
    agent.instantiate()
    return agent
  }

  /** {@link load} of a `.wasm` file. */
  static async fromFile (path: string | URL, options: TestAgentOptions = {}): Promise<TestAgent> {
    return await TestAgent.load(new Uint8Array(await readFile(path)), options)
  }

  /**
   * Compiles an AssemblyScript entry file with the SDK's flags (agents/build.mjs), once per
   * process, then {@link load}s it.
   * @throws Error with the compiler's diagnostics
   */
  static async fromSource (entry: string | URL, options: TestAgentOptions = {}): Promise<TestAgent> {
    const path = typeof entry === 'string' ? entry : fileURLToPath(entry)
    let binary = compiled.get(path)
    if (binary === undefined) {
      binary = compileAgent(path).then(r => r.binary)
      compiled.set(path, binary)
      binary.catch(() => { compiled.delete(path) })
    }
    return await TestAgent.load(await binary, options)
  }

  /** The clock, ms since the epoch. */
  get now (): number {
    return this.clock
  }

  /** Why the agent failed, if it did. */
  get failed (): string | undefined {
    return this.failure
  }

  /** The agent's store as committed (reads), and a way to seed it (writes). */
  readonly kv = {
    get: (key: string | Uint8Array): Uint8Array | undefined => this.committed.get(storeKey(key)),
    getString: (key: string | Uint8Array): string | undefined => {
      const v = this.committed.get(storeKey(key))
      return v === undefined ? undefined : utf8.decode(v)
    },
    /** A value `kv.putI64` wrote (8 bytes, little-endian). */
    getI64: (key: string | Uint8Array): bigint | undefined => {
      const v = this.committed.get(storeKey(key))
      return v?.length === 8 ? Buffer.from(v).readBigInt64LE() : undefined
    },
    /** Keys starting with `prefix`, in byte order, as UTF-8 text. */
    keys: (prefix = ''): string[] => {
      const p = storeKey(prefix)
      return [...this.committed.keys()].filter(k => k.startsWith(p)).sort().map(keyText)
    },
    /** Sets a key as if the agent had written it in an earlier message (no quota check). */
    put: (key: string | Uint8Array, value: string | Uint8Array): void => {
      const k = storeKey(key)
      const v = typeof value === 'string' ? encoder.encode(value) : value
      this.committed.set(k, v)
      this.state.kv.set(k, v)
    }
  }

  /** The capabilities it offers as committed (deployed with, declared and withdrawn since): what a node would publish. */
  capabilities (): Capability[] {
    return [...this.offered]
  }

  /** Pending timers, by id. */
  timers (): PendingTimer[] {
    return [...this.pending.values()].sort((a, b) => a.id - b.id)
  }

  /**
   * Delivers a message and runs the handler. Unset fields get: a message-id, created-at
   * = the clock, sender `tester`, receivers [the agent], performative INFORM.
   * @throws Error when the agent has failed, AclValidationError when the message is not valid
   */
  deliver (message: Partial<AclMessage>): Handled {
    const m = validateMessage({
      messageId: `m-${this.nextMessage++}`,
      createdAt: this.clock,
      performative: 'INFORM',
      sender: 'tester',
      receivers: [this.id],
      ...message
    })
    return this.handle(m)
  }

  /** Delivers a REQUEST with `text` as its content (and `fields` over the defaults of {@link deliver}). */
  request (text: string, fields: Partial<AclMessage> = {}): Handled {
    return this.deliver({ performative: 'REQUEST', content: text, ...fields })
  }

  /**
   * Moves the clock `ms` forward. Each timer that falls due fires on the way, in due order
   * (the clock set to its due time): its message is delivered as a node would.
   * @returns what each fired timer's message did
   */
  advance (ms: number): Handled[] {
    if (!(ms >= 0)) throw new RangeError(`advance: expected ms ≥ 0, got ${ms}`)
    const until = this.clock + ms
    const out: Handled[] = []
    for (;;) {
      let next: PendingTimer | undefined
      for (const t of this.pending.values()) if (t.due <= until && (next === undefined || t.due < next.due || (t.due === next.due && t.id < next.id))) next = t
      if (next === undefined || this.failure !== undefined) break
      this.clock = Math.max(this.clock, next.due)
      const fired = next
      const m = validateMessage(timerMessage(this.id, fired.id, fired.payload, { messageId: `timer-${fired.id}`, createdAt: this.clock }))
      // Fired: delivered only while pending, as a node's host does.
      const result = this.handle(m)
      this.pending.delete(fired.id)
      out.push(result)
    }
    this.clock = until
    return out
  }

  /**
   * A new instance from the module, from the committed store and timers, as after a
   * restart of its node: module globals start over, the store and timers do not. A failed
   * agent runs again.
   */
  restart (): Handled {
    this.failure = undefined
    return this.instantiate()
  }

  private snapshot (): AgentStateSnapshot {
    return {
      kv: [...this.committed],
      timers: [...this.pending.keys()],
      nextTimerId: this.state?.timers.next ?? 1,
      kvQuotaBytes: this.options.kvQuotaBytes ?? DEFAULT_KV_QUOTA_BYTES,
      maxTimers: this.options.maxTimers ?? DEFAULT_MAX_TIMERS,
      capabilities: this.offered
    }
  }

  private instantiate (): Handled {
    this.state = new AgentHostState(this.snapshot(), { clock: () => this.clock, random: this.random })
    const declared = this.report.memory
    const cap = this.options.maxMemoryPages ?? DEFAULT_AGENT_LIMITS.maxMemoryPages
    if (declared.initial > cap) throw new RangeError(`initial memory of ${declared.initial} pages exceeds the cap of ${cap} pages`)
    this.memory = new WebAssembly.Memory({ initial: declared.initial, maximum: Math.min(cap, declared.maximum ?? cap) })
    const instance = new WebAssembly.Instance(this.module, { env: this.imports() })
    this.exports = instance.exports
    const start = this.exports[START_EXPORT]
    this.state.readOnly = true
    const result = this.run(() => {
      if (typeof start === 'function') (start as () => void)()
      return 0
    })
    this.state.readOnly = false
    if (result.failed !== undefined) throw new Error(`the agent's start function failed: ${result.failed}`)
    return result
  }

  private handle (m: AclMessage): Handled {
    if (this.failure !== undefined) throw new Error(`agent ${this.id} has failed: ${this.failure}`)
    const bytes = encodeForAgent(m)
    if (!this.state.admit(bytes, this.id)) {
      const dropped = this.newCall()
      dropped.dropped = true
      this.commit()
      return dropped
    }
    return this.run(() => {
      const alloc = this.exports.alloc as (size: number) => number
      const ptr = alloc(bytes.length) >>> 0
      new Uint8Array(this.memory.buffer, ptr, bytes.length).set(bytes)
      return (this.exports.handle_message as (ptr: number, len: number) => number)(ptr, bytes.length)
    })
  }

  private newCall (): Handled {
    this.sends = 0
    this.call = { status: 0, sent: [], refused: [], logs: [], fuel: 0 }
    return this.call
  }

  /** Runs one call under the fuel budget; a throw fails the agent. */
  private run (fn: () => number): Handled {
    const call = this.newCall()
    const fuel = this.exports[FUEL_EXPORT] as WebAssembly.Global
    const budget = this.options.fuelPerMessage ?? DEFAULT_AGENT_LIMITS.fuelPerMessage
    fuel.value = budget
    try {
      call.status = fn() | 0
    } catch (err) {
      const left = fuel.value as number
      call.failed = left < 0
        ? `out of fuel: handling one message took more than ${budget} fuel (fuelPerMessage)`
        : `${err instanceof Error ? err.message : String(err)}`
      this.failure = call.failed
      this.state.takeChanges()
      call.fuel = budget - Math.max(0, left)
      return call
    }
    call.fuel = budget - (fuel.value as number)
    this.commit()
    return call
  }

  /** What the call changed, as the node commits it with the message. */
  private commit (): void {
    const changes = this.state.takeChanges()
    for (const [key, value] of changes.kv) {
      if (value === null) this.committed.delete(key)
      else this.committed.set(key, value)
    }
    for (const t of changes.timers) {
      if (t.kind === 'schedule') this.pending.set(t.id, { id: t.id, due: this.clock + t.delayMs, payload: t.payload })
      else this.pending.delete(t.id)
    }
    if (changes.capabilities !== undefined) this.offered = changes.capabilities
  }

  private imports (): WebAssembly.ModuleImports {
    const maxSends = this.options.maxSendsPerMessage ?? 1000
    const maxBytes = this.options.maxSendBytes ?? 1024 * 1024
    return {
      memory: this.memory,
      // The whole budget is handed out at once (the node hands it out in slices, to stop a
      // call past handlerTimeoutMs): the counter going negative is the end of it.
      [REFUEL_IMPORT]: (): never => { throw new WebAssembly.RuntimeError('out of fuel') },
      send: (ptr: number, len: number): number => {
        const call = this.call as Handled
        if (this.sends++ >= maxSends) {
          call.refused.push(`more than ${maxSends} sends while handling one message`)
          return SEND_RESULT.quotaExceeded
        }
        ptr >>>= 0
        len >>>= 0
        if (len > maxBytes) {
          call.refused.push(`message of ${len} bytes exceeds the limit of ${maxBytes} bytes`)
          return SEND_RESULT.tooLarge
        }
        if (ptr + len > this.memory.buffer.byteLength) {
          call.refused.push(`send(ptr=${ptr}, len=${len}) is outside linear memory`)
          return SEND_RESULT.malformed
        }
        const bytes = new Uint8Array(this.memory.buffer, ptr, len)
        const malformed = checkFromAgent(bytes)
        if (malformed !== undefined) {
          call.refused.push(malformed)
          return SEND_RESULT.malformed
        }
        try {
          const m = validateMessage(stampDraft(decodeFromAgent(bytes), { sender: this.id, messageId: `${this.id}-${this.sent.length + 1}`, createdAt: this.clock }))
          call.sent.push(m)
          this.sent.push(m)
        } catch (err) {
          // The node accepts the bytes, then answers the agent with NOT-UNDERSTOOD.
          call.refused.push((err as Error).message)
        }
        return SEND_RESULT.accepted
      },
      log: (level: number, ptr: number, len: number): void => {
        const line = { level: LOG_LEVELS[level] ?? 'info', text: utf8.decode(new Uint8Array(this.memory.buffer, ptr >>> 0, len >>> 0)) }
        this.call?.logs.push(line)
        this.logs.push(line)
      },
      abort: (msg: number, file: number, line: number, col: number): never => {
        const text = this.asString(msg) ?? 'abort called'
        const where = this.asString(file)
        throw new Error(`aborted: ${where === undefined ? text : `${text} at ${where}:${line >>> 0}:${col >>> 0}`}`)
      },
      ...this.state.imports({
        memory: () => this.memory.buffer,
        charge: (fuel: number) => {
          const g = this.exports[FUEL_EXPORT] as WebAssembly.Global
          const left = (g.value as number) - fuel
          g.value = left
          if (left < 0) throw new WebAssembly.RuntimeError('out of fuel in a host function')
        }
      })
    }
  }

  /** An AssemblyScript string (UTF-16LE, its byte length in the u32 before it). */
  private asString (ptr: number): string | undefined {
    ptr >>>= 0
    const buffer = this.memory.buffer
    if (ptr < 4 || ptr > buffer.byteLength) return undefined
    const n = new DataView(buffer).getUint32(ptr - 4, true) & ~1
    return ptr + n > buffer.byteLength ? undefined : utf16.decode(new Uint8Array(buffer, ptr, Math.min(n, 2048)))
  }
}
