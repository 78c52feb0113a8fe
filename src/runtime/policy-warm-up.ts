/**
 * Modules for warming the policy worker up. The smallest module the sandbox policy
 * accepts ({@link policyWarmUpModule}): the worker checks, instruments and compiles it
 * before it reports ready, and a node inspects it at start (`runtime.inspect`), which
 * also makes the worker warm binaryen up with generated modules of an agent's size and
 * shape ({@link policyWarmUpAgent}) before it answers. So a node's first deploy finds
 * binaryen loaded (0.3-0.5 s) and its code tiered up by V8 (a cold check of an agent
 * costs 25-90 ms, a warm one 7-20 ms; docs/performance.md, "First deploy after start").
 *
 * No binaryen in this file: it is imported on the node's main thread. The loop in the small
 * module's `handle_message` is there for the fuel pass, which meters loop headers as well as
 * function entries.
 */
import { ALLOWED_IMPORTS } from '../../protocols/agent-abi/index.js'
import { mulberry32 } from '../../protocols/mulberry32.js'

/** The module as WAT; {@link policyWarmUpModule} is it assembled by binaryen with the sandbox's features (a test checks that). */
export const POLICY_WARM_UP_WAT = `(module
 (import "env" "memory" (memory 1))
 (func (export "alloc") (param i32) (result i32) (local.get 0))
 (func (export "handle_message") (param i32 i32) (result i32)
  (loop $l (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
  (i32.const 0)))`

const BASE64 = 'AGFzbQEAAAABDAJgAX8Bf2ACf38BfwIPAQNlbnYGbWVtb3J5AgABAwMCAAEHGgIFYWxsb2MAAA5oYW5kbGVfbWVzc2FnZQABChcCBAAgAAsQAANAIABBAWsiAA0AC0EACw=='

/** A fresh copy of the warm-up module's bytes (a copy: a caller may transfer or detach it). */
export function policyWarmUpModule (): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(BASE64, 'base64'))
}

/** WebAssembly value types, as their binary codes. */
const I32 = 0x7f
const I64 = 0x7e
const F64 = 0x7c
/** A value type's binary code (I32, I64, F64). */
type ValType = number
const VALTYPE: Record<string, ValType> = { i32: I32, i64: I64, f64: F64 }

/** Signatures of the generated functions (besides `alloc` and `handle_message`). */
const SIGNATURES: Array<{ params: ValType[], results: ValType[] }> = [
  { params: [I32], results: [I32] },
  { params: [I32, I32], results: [I32] },
  { params: [I32, I64], results: [] },
  { params: [], results: [I32] },
  { params: [F64, I32], results: [F64] },
  { params: [I32, I32, I32], results: [] },
  { params: [I64, I64], results: [I64] }
]

function uleb (out: number[], n: number): void {
  do {
    let b = n & 0x7f
    n >>>= 7
    if (n !== 0) b |= 0x80
    out.push(b)
  } while (n !== 0)
}

function sleb (out: number[], n: number): void {
  for (;;) {
    const b = n & 0x7f
    n >>= 7
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) { out.push(b); return }
    out.push(b | 0x80)
  }
}

function name (out: number[], s: string): void {
  uleb(out, s.length)
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i))
}

function section (out: number[], id: number, body: number[]): void {
  out.push(id)
  uleb(out, body.length)
  for (const b of body) out.push(b)
}

interface FunctionType { params: ValType[], results: ValType[] }
interface Callee { index: number, type: FunctionType }

/**
 * Writes function bodies of random, well-typed expressions in the mix compiled agents
 * have: locals and globals, i32/i64/f64 arithmetic and comparisons, conversions
 * (sign-extension, non-trapping float-to-int), loads and stores of every width, calls
 * (host functions, other functions, `call_indirect`), blocks with `br_if`, counted loops,
 * `if`/`else`, `br_table`, `select`, `memory.size`/`memory.grow`.
 */
class BodyWriter {
  constructor (
    private readonly random: () => number,
    private readonly callees: Callee[],
    private readonly typeIndex: (t: FunctionType) => number
  ) {}

  private pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.random() * xs.length)] }
  private chance (p: number): boolean { return this.random() < p }

  /** One function's body (locals declaration and code, with the size prefix). */
  body (type: FunctionType): number[] {
    // Declared locals: 3 × i32, 1 × i64, 1 × f64, after the parameters.
    const locals = [...type.params, I32, I32, I32, I64, F64]
    const code: number[] = []
    const ctx = { locals, depth: 0 }
    const statements = 4 + Math.floor(this.random() * 6)
    for (let i = 0; i < statements; i++) this.statement(code, ctx, 3)
    for (const r of type.results) this.expr(code, ctx, r, 3)
    code.push(0x0b)
    const fn: number[] = []
    uleb(fn, 3)
    uleb(fn, 3); fn.push(I32)
    uleb(fn, 1); fn.push(I64)
    uleb(fn, 1); fn.push(F64)
    const out: number[] = []
    uleb(out, fn.length + code.length)
    for (const b of fn) out.push(b)
    for (const b of code) out.push(b)
    return out
  }

  private localOf (ctx: { locals: ValType[] }, t: ValType): number | undefined {
    const idx: number[] = []
    ctx.locals.forEach((l, i) => { if (l === t) idx.push(i) })
    return idx.length === 0 ? undefined : this.pick(idx)
  }

  private memarg (out: number[], align: number): void {
    uleb(out, align)
    uleb(out, Math.floor(this.random() * 64) * 4)
  }

  private readonly byResult = new Map<ValType | undefined, Callee[]>()

  private call (out: number[], ctx: { locals: ValType[], depth: number }, result: ValType | undefined, budget: number): boolean {
    let fits = this.byResult.get(result)
    if (fits === undefined) {
      fits = this.callees.filter(c => result === undefined ? c.type.results.length === 0 : c.type.results[0] === result)
      this.byResult.set(result, fits)
    }
    if (fits.length === 0) return false
    const c = this.pick(fits)
    for (const p of c.type.params) this.expr(out, ctx, p, budget - 1)
    if (c.index >= 0 && this.chance(0.8)) {
      out.push(0x10); uleb(out, c.index)
    } else {
      // Through the table: any function of that type may be there.
      this.expr(out, ctx, I32, 0)
      out.push(0x11); uleb(out, this.typeIndex(c.type)); out.push(0x00)
    }
    return true
  }

  expr (out: number[], ctx: { locals: ValType[], depth: number }, t: ValType, budget: number): void {
    if (budget <= 0 || this.chance(0.25)) {
      const local = this.localOf(ctx, t)
      if (local !== undefined && this.chance(0.6)) { out.push(0x20); uleb(out, local); return }
      if (t === I32) { out.push(0x41); sleb(out, Math.floor(this.random() * 70000) - 1000) } else if (t === I64) { out.push(0x42); sleb(out, Math.floor(this.random() * 1e6)) } else { out.push(0x44); const f = new DataView(new ArrayBuffer(8)); f.setFloat64(0, this.random() * 100, true); out.push(...new Uint8Array(f.buffer)) }
      return
    }
    const b = budget - 1
    const r = this.random()
    if (t === I32) {
      if (r < 0.3) { this.expr(out, ctx, I32, b); this.expr(out, ctx, I32, b); out.push(this.pick([0x6a, 0x6b, 0x6c, 0x71, 0x72, 0x73, 0x74, 0x76, 0x46, 0x47, 0x48, 0x4b, 0x4d])) } else if (r < 0.45) { this.expr(out, ctx, I32, b); out.push(this.pick([0x28, 0x2d, 0x2e, 0x2c])); this.memarg(out, 0) } else if (r < 0.55) { if (!this.call(out, ctx, I32, b)) out.push(0x3f, 0x00) } else if (r < 0.62) { this.expr(out, ctx, I32, b); out.push(this.pick([0x45, 0x67, 0x68, 0x69, 0xc0, 0xc1])) } else if (r < 0.67) { this.expr(out, ctx, I64, b); this.expr(out, ctx, I64, b); out.push(this.pick([0x51, 0x53, 0x56])) } else if (r < 0.7) { this.expr(out, ctx, I64, b); out.push(0xa7) } else if (r < 0.73) { this.expr(out, ctx, F64, b); out.push(0xfc, 0x02) } else if (r < 0.78) { const l = this.localOf(ctx, I32) as number; this.expr(out, ctx, I32, b); out.push(0x22); uleb(out, l) } else if (r < 0.82) { this.expr(out, ctx, I32, b); this.expr(out, ctx, I32, b); this.expr(out, ctx, I32, b); out.push(0x1b) } else if (r < 0.9) {
        this.expr(out, ctx, I32, b); out.push(0x04, I32); this.expr(out, ctx, I32, b); out.push(0x05); this.expr(out, ctx, I32, b); out.push(0x0b)
      } else if (r < 0.95) {
        out.push(0x02, I32); this.statement(out, ctx, b); this.expr(out, ctx, I32, b); this.expr(out, ctx, I32, b); out.push(0x0d, 0x00); out.push(0x0b)
      } else { out.push(0x23, 0x00) }
    } else if (t === I64) {
      if (r < 0.4) { this.expr(out, ctx, I64, b); this.expr(out, ctx, I64, b); out.push(this.pick([0x7c, 0x7d, 0x7e, 0x83, 0x84, 0x86, 0x88])) } else if (r < 0.6) { this.expr(out, ctx, I32, b); out.push(this.pick([0xad, 0xac])) } else if (r < 0.75) { this.expr(out, ctx, I32, b); out.push(0x29); this.memarg(out, 3) } else if (r < 0.85) { if (!this.call(out, ctx, I64, b)) out.push(0x42, 0x00) } else { out.push(0x23, 0x01) }
    } else {
      if (r < 0.4) { this.expr(out, ctx, F64, b); this.expr(out, ctx, F64, b); out.push(this.pick([0xa0, 0xa1, 0xa2, 0xa3])) } else if (r < 0.55) { this.expr(out, ctx, I32, b); out.push(0xb7) } else if (r < 0.7) { this.expr(out, ctx, I32, b); out.push(0x2b); this.memarg(out, 3) } else if (r < 0.8) { this.expr(out, ctx, F64, b); out.push(this.pick([0x9f, 0x99, 0x9b])) } else { if (!this.call(out, ctx, F64, b)) out.push(0x44, 0, 0, 0, 0, 0, 0, 0, 0) }
    }
  }

  statement (out: number[], ctx: { locals: ValType[], depth: number }, budget: number): void {
    const r = this.random()
    if (r < 0.25) {
      const t = this.pick([I32, I32, I32, I64, F64]); const l = this.localOf(ctx, t) as number
      this.expr(out, ctx, t, budget); out.push(0x21); uleb(out, l)
    } else if (r < 0.42) {
      const [op, t, align] = this.pick([[0x36, I32, 2], [0x3a, I32, 0], [0x3b, I32, 1], [0x37, I64, 3], [0x39, F64, 3]] as Array<[number, ValType, number]>)
      this.expr(out, ctx, I32, budget - 1); this.expr(out, ctx, t, budget - 1); out.push(op); this.memarg(out, align)
    } else if (r < 0.52) {
      if (!this.call(out, ctx, undefined, budget)) { this.expr(out, ctx, I32, budget); out.push(0x1a) }
    } else if (r < 0.6) {
      this.expr(out, ctx, I32, budget); out.push(0x24, 0x00)
    } else if (r < 0.66) {
      this.expr(out, ctx, I32, budget); out.push(0x1a)
    } else if (r < 0.76 && budget > 0) {
      // A counted loop, as compiled code has them: block { loop { ...; br_if 0 (--i) } }
      const counter = this.localOf(ctx, I32) as number
      out.push(0x02, 0x40, 0x03, 0x40)
      this.statement(out, ctx, budget - 1)
      this.statement(out, ctx, budget - 1)
      out.push(0x20); uleb(out, counter); out.push(0x45, 0x0d, 0x01)
      out.push(0x20); uleb(out, counter); out.push(0x41, 0x01, 0x6b, 0x22); uleb(out, counter); out.push(0x0d, 0x00)
      out.push(0x0b, 0x0b)
    } else if (r < 0.86 && budget > 0) {
      this.expr(out, ctx, I32, budget - 1); out.push(0x04, 0x40); this.statement(out, ctx, budget - 1)
      if (this.chance(0.5)) { out.push(0x05); this.statement(out, ctx, budget - 1) }
      out.push(0x0b)
    } else if (r < 0.93 && budget > 0) {
      // A switch: block { block { block { br_table 0 1 2 (x) } ... } ... }
      out.push(0x02, 0x40, 0x02, 0x40, 0x02, 0x40)
      this.expr(out, ctx, I32, budget - 1)
      out.push(0x0e, 0x02, 0x00, 0x01, 0x02, 0x0b)
      this.statement(out, ctx, budget - 1)
      out.push(0x0b)
      this.statement(out, ctx, budget - 1)
      out.push(0x0b)
    } else if (r < 0.96) {
      this.expr(out, ctx, I32, budget); out.push(0x40, 0x00, 0x1a)
    } else {
      out.push(0x01)
    }
  }
}

/**
 * A module the sandbox policy accepts, of the size and shape of a compiled agent
 * (AssemblyScript's output for agents/examples: 9-24 KiB, 28-72 functions of blocks,
 * loops, calls and memory accesses, host imports, a table, globals, a data segment, a
 * start function), generated from `seed`: only to be checked, its functions other than
 * the start function compute nothing meaningful. The policy worker checks a few of them after
 * binaryen loads, so that binaryen's code is tiered up before the first deploy
 * (docs/performance.md, "First deploy after start").
 * @param functions how many functions besides `alloc`, `handle_message` and the start function (~200 bytes each)
 */
export function policyWarmUpAgent (seed: number, functions = 80): Uint8Array<ArrayBuffer> {
  const random = mulberry32(seed)
  const types: FunctionType[] = []
  const typeKey = (t: FunctionType): string => `${t.params.join(',')}:${t.results.join(',')}`
  const typeIndex = (t: FunctionType): number => {
    const i = types.findIndex(x => typeKey(x) === typeKey(t))
    if (i >= 0) return i
    types.push(t)
    return types.length - 1
  }
  // Imports: every host function of the ABI, as agents built with the SDK import most of them.
  const hostFunctions = Object.entries(ALLOWED_IMPORTS).flatMap(([n, spec]) => spec.kind === 'function' ? [[n, spec] as const] : [])
  const imported: Callee[] = hostFunctions.map(([, sig], i) => ({ index: i, type: { params: sig.params.map(p => VALTYPE[p]), results: sig.results.map(p => VALTYPE[p]) } }))
  const first = imported.length
  const defined: FunctionType[] = [
    { params: [I32], results: [I32] }, // alloc
    { params: [I32, I32], results: [I32] }, // handle_message
    { params: [], results: [] } // start
  ]
  for (let i = 0; i < functions; i++) defined.push(SIGNATURES[Math.floor(random() * SIGNATURES.length)])
  const callees: Callee[] = [...imported, ...defined.map((type, i) => ({ index: first + i, type }))]
  for (const t of defined) typeIndex(t)
  for (const c of imported) typeIndex(c.type)
  const tableSize = defined.length
  const writer = new BodyWriter(random, callees, typeIndex)
  // The start function runs when an agent is deployed: it only sets memory and the stack
  // pointer, as AssemblyScript's does, and calls nothing generated.
  const start = [0x00, 0x41, 0x80, 0x08, 0x41, 0x01, 0x36, 0x02, 0x00, 0x23, 0x00, 0x41, 0x10, 0x6b, 0x24, 0x00, 0x0b]
  const bodies = defined.map((t, i) => i === 2 ? [start.length, ...start] : writer.body(t))

  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]
  const typeSec: number[] = []
  uleb(typeSec, types.length)
  for (const t of types) {
    typeSec.push(0x60)
    uleb(typeSec, t.params.length); typeSec.push(...t.params)
    uleb(typeSec, t.results.length); typeSec.push(...t.results)
  }
  section(out, 1, typeSec)
  const importSec: number[] = []
  uleb(importSec, hostFunctions.length + 1)
  name(importSec, 'env'); name(importSec, 'memory'); importSec.push(0x02, 0x00, 0x01)
  hostFunctions.forEach(([n], i) => { name(importSec, 'env'); name(importSec, n); importSec.push(0x00); uleb(importSec, typeIndex(imported[i].type)) })
  section(out, 2, importSec)
  const funcSec: number[] = []
  uleb(funcSec, defined.length)
  for (const t of defined) uleb(funcSec, typeIndex(t))
  section(out, 3, funcSec)
  section(out, 4, [0x01, 0x70, 0x00, ...((): number[] => { const b: number[] = []; uleb(b, tableSize); return b })()])
  // Globals: an i32 stack pointer, an i64.
  section(out, 6, [0x02, I32, 0x01, 0x41, 0x80, 0x80, 0x04, 0x0b, I64, 0x01, 0x42, 0x00, 0x0b])
  const exportSec: number[] = []
  uleb(exportSec, 2)
  name(exportSec, 'alloc'); exportSec.push(0x00); uleb(exportSec, first)
  name(exportSec, 'handle_message'); exportSec.push(0x00); uleb(exportSec, first + 1)
  section(out, 7, exportSec)
  const startSec: number[] = []
  uleb(startSec, first + 2)
  section(out, 8, startSec)
  const elemSec: number[] = [0x01, 0x00, 0x41, 0x00, 0x0b]
  uleb(elemSec, tableSize)
  for (let i = 0; i < tableSize; i++) uleb(elemSec, first + i)
  section(out, 9, elemSec)
  const codeSec: number[] = []
  uleb(codeSec, bodies.length)
  for (const b of bodies) for (const x of b) codeSec.push(x)
  section(out, 10, codeSec)
  const data: number[] = []
  for (let i = 0; i < 512; i++) data.push(Math.floor(random() * 256))
  const dataSec: number[] = [0x01, 0x00, 0x41, 0x80, 0x08, 0x0b]
  uleb(dataSec, data.length)
  for (const b of data) dataSec.push(b)
  section(out, 11, dataSec)
  return new Uint8Array(out)
}
