/**
 * The sandbox policy: what a deployed module may be, checked with binaryen, and the
 * rewriting that makes it safe to run (host-owned memory, deferred start, fuel).
 *
 * Allowed: WebAssembly MVP plus sign-extension, non-trapping float-to-int and mutable
 * globals (binaryen's validator with exactly that feature mask: `WebAssembly.validate`
 * accepts SIMD, threads, bulk memory, ... by default and is no policy check). Imports:
 * only `env.memory` and the host functions of `ALLOWED_IMPORTS` (messages, log, abort,
 * time, randomness, the agent's store, timers, capabilities), with the ABI's signatures.
 * Exports: `alloc` and `handle_message` with the ABI's signatures; names starting with
 * `__caxton_` are reserved. One linear memory, 32-bit, not shared.
 *
 * A module that defines its memory instead of importing it is converted: the memory
 * becomes the import `env.memory` with the same limits and data segments, so the host
 * owns and caps it either way (an AssemblyScript module without `--importMemory` works).
 *
 * Runs where binaryen is loaded: the policy worker (binaryen costs ~330 ms to load).
 */
import {
  ALLOWED_IMPORTS, IMPORT_MODULE, REQUIRED_EXPORTS, RESERVED_EXPORT_PREFIX
} from '../../protocols/agent-abi/index.js'
import { readBinary, type Binaryen, type BinaryenModule } from './binaryen.js'
import { meterFuel } from './fuel.js'
import type { ModuleReport } from './types.js'

/** Export the deferred start function is renamed to; the host calls it once, with fuel set. */
export const START_EXPORT = '__caxton_start'

/** A module breaks the policy: `reasons` says how, one entry per problem. */
export class PolicyViolation extends Error {
  readonly reasons: string[]

  constructor (reasons: string[]) {
    super(reasons.join('; '))
    this.name = 'PolicyViolation'
    this.reasons = reasons
  }
}

/** The policy's verdict on an acceptable module. */
export interface PolicyResult {
  /** What the module is (without `hash`, which the caller computes). */
  report: Omit<ModuleReport, 'hash'>
  /** The module rewritten to run in the sandbox, when asked for. */
  instrumented?: Uint8Array
  /**
   * `instrumented`, compiled (by the policy worker; absent if it did not compile there,
   * and the caller's own compile then reports why).
   */
  module?: WebAssembly.Module
  /** Milliseconds spent checking, and instrumenting. */
  timings: { checkMs: number, instrumentMs: number }
}

export interface PolicyOptions {
  /** Also produce the rewritten module (deploy), not only the verdict (inspect). */
  instrument: boolean
  /** Returns (and clears) what binaryen's validator printed since the last call. */
  takeValidatorOutput: () => string
  /** A clock in ms, for `timings`. */
  now: () => number
}

function allowedFeatures (B: Binaryen): number {
  return B.Features.MutableGlobals | B.Features.NontrappingFPToInt | B.Features.SignExt
}

const ALLOWED_DESCRIPTION = 'allowed: MVP, sign-extension, non-trapping float-to-int, mutable globals'

/** binaryen's `--enable-<flag>` hints, in the validator's messages, → feature names. */
const FLAG_NAMES: Record<string, string> = {
  simd: 'SIMD',
  'relaxed-simd': 'relaxed SIMD',
  'bulk-memory': 'bulk memory',
  'bulk-memory-opt': 'bulk memory',
  threads: 'threads (shared memory, atomics)',
  memory64: 'memory64',
  'reference-types': 'reference types',
  multivalue: 'multi-value',
  'tail-call': 'tail calls',
  'exception-handling': 'exception handling',
  gc: 'GC',
  multimemory: 'multi-memory',
  'extended-const': 'extended constant expressions',
  strings: 'strings',
  fp16: 'FP16',
  'stack-switching': 'stack switching',
  'shared-everything': 'shared-everything threads',
  'custom-page-sizes': 'custom page sizes',
  'wide-arithmetic': 'wide arithmetic',
  'call-indirect-overlong': 'overlong call_indirect encoding'
}

/** Opcode prefixes of an offending expression (`(v128.const ...`) → feature names. */
const OPCODE_NAMES: Array<[RegExp, string]> = [
  [/^\((v128|i8x16|i16x8|i32x4|i64x2|f16x8|f32x4|f64x2)\./, 'SIMD'],
  [/^\((ref|table)\./, 'reference types'],
  [/^\((struct|array|i31|br_on|call_ref)/, 'GC'],
  [/^\(string/, 'strings'],
  [/^\(tuple/, 'multi-value'],
  [/^\((try|throw|rethrow)/, 'exception handling'],
  [/^\(memory\.(fill|copy|init)|^\(data\.drop/, 'bulk memory'],
  [/^\(\w+\.atomic/, 'threads (shared memory, atomics)']
]

/** Names the disallowed features behind binaryen's validator output. */
function featuresFromValidator (output: string): Set<string> {
  const found = new Set<string>()
  for (const m of output.matchAll(/--enable-([a-z0-9-]+)/g)) found.add(FLAG_NAMES[m[1]] ?? m[1])
  if (/[Tt]uples are not allowed|[Mm]ultivalue/.test(output)) found.add('multi-value')
  // Generic messages ("all used features should be allowed, on <expr>") name the feature
  // only through the offending expression printed after them.
  for (const m of output.matchAll(/should be allowed, on \n(\(.*)/g)) {
    for (const [re, name] of OPCODE_NAMES) if (re.test(m[1])) found.add(name)
  }
  return found
}

function typeName (B: Binaryen, t: number): string {
  switch (t) {
    case B.i32: return 'i32'
    case B.i64: return 'i64'
    case B.f32: return 'f32'
    case B.f64: return 'f64'
    case B.v128: return 'v128'
    case B.none: return 'none'
    default: return 'ref'
  }
}

/** Features implied by the value types of signatures, locals and globals. */
function featuresFromTypes (B: Binaryen, mod: BinaryenModule): Set<string> {
  const found = new Set<string>()
  const note = (t: number, isResult = false): void => {
    const parts = B.expandType(t)
    if (isResult && parts.length > 1) found.add('multi-value')
    for (const p of parts) {
      if (p === B.v128) found.add('SIMD')
      else if (![B.i32, B.i64, B.f32, B.f64, B.none, B.unreachable].includes(p)) found.add('reference types')
    }
  }
  for (let i = 0; i < mod.getNumFunctions(); i++) {
    const info = B.getFunctionInfo(mod.getFunctionByIndex(i))
    note(info.params)
    note(info.results, true)
    for (const v of info.vars) note(v)
  }
  for (let i = 0; i < mod.getNumGlobals(); i++) note(B.getGlobalInfo(mod.getGlobalByIndex(i)).type)
  return found
}

function signature (B: Binaryen, params: number, results: number): string {
  const list = (t: number): string => B.expandType(t).map(x => typeName(B, x)).join(', ')
  const r = B.expandType(results)
  return `(${list(params)}) -> ${r.length === 0 ? '()' : r.length === 1 ? typeName(B, r[0]) : `(${list(results)})`}`
}

function expectedSignature (spec: { params: readonly string[], results: readonly string[] }): string {
  const r = spec.results
  return `(${spec.params.join(', ')}) -> ${r.length === 0 ? '()' : r.length === 1 ? r[0] : `(${r.join(', ')})`}`
}

const ALLOWED_IMPORT_LIST = Object.keys(ALLOWED_IMPORTS).map(n => `${IMPORT_MODULE}.${n}`).join(', ')

function isImported (info: { module: string | null, base: string | null }): boolean {
  return info.base !== null && info.base !== ''
}

/**
 * Checks `bytes` against the policy and, with `instrument`, rewrites it for the sandbox.
 * @throws PolicyViolation listing every problem found
 */
export function applyPolicy (B: Binaryen, bytes: Uint8Array, options: PolicyOptions): PolicyResult {
  const t0 = options.now()
  // V8 first: binaryen's reader is not built for hostile input, V8's is, and its
  // CompileError says exactly what is malformed.
  if (!WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)) {
    let detail = 'invalid module'
    try {
      // Compiling an invalid module only serves to obtain V8's reason.
      void new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>)
    } catch (err) {
      detail = (err as Error).message.replace(/^WebAssembly\.Module\(\): /, '')
    }
    throw new PolicyViolation([`not a valid WebAssembly module: ${detail}`])
  }
  options.takeValidatorOutput()
  let mod: BinaryenModule
  try {
    mod = readBinary(B, bytes, B.Features.All)
  } catch (err) {
    throw new PolicyViolation([`binaryen cannot read the module: ${(err as Error).message}`])
  }
  try {
    const reasons = new Set<string>()
    mod.setFeatures(allowedFeatures(B))
    if (mod.validate() === 0) {
      const output = options.takeValidatorOutput()
      const features = featuresFromValidator(output)
      for (const f of featuresFromTypes(B, mod)) features.add(f)
      if (features.size > 0) {
        for (const f of features) reasons.add(`uses disallowed WebAssembly feature ${f} (${ALLOWED_DESCRIPTION})`)
      } else {
        const first = output.split('\n').find(l => l.includes('error')) ?? output.slice(0, 200)
        reasons.add(`fails validation with the allowed features (${ALLOWED_DESCRIPTION}): ${first.trim()}`)
      }
    }

    const imports: string[] = []
    const checkImport = (kind: 'function' | 'global' | 'table' | 'memory', module: string, base: string, sig?: string): void => {
      const name = `${module}.${base}`
      imports.push(name)
      const spec = module === IMPORT_MODULE ? (ALLOWED_IMPORTS as Record<string, { kind: string, params?: readonly string[], results?: readonly string[] }>)[base] : undefined
      if (spec === undefined || spec.kind !== kind) {
        reasons.add(`imports "${name}": only ${ALLOWED_IMPORT_LIST} are allowed`)
      } else if (sig !== undefined && spec.params !== undefined && spec.results !== undefined) {
        const expected = expectedSignature({ params: spec.params, results: spec.results })
        if (sig !== expected) reasons.add(`import ${name} has signature ${sig}, expected ${expected}`)
      }
    }
    for (let i = 0; i < mod.getNumFunctions(); i++) {
      const info = B.getFunctionInfo(mod.getFunctionByIndex(i))
      if (isImported(info)) checkImport('function', info.module ?? '', info.base ?? '', signature(B, info.params, info.results))
    }
    for (let i = 0; i < mod.getNumGlobals(); i++) {
      const info = B.getGlobalInfo(mod.getGlobalByIndex(i))
      if (isImported(info)) checkImport('global', info.module ?? '', info.base ?? '')
    }
    for (let i = 0; i < mod.getNumTables(); i++) {
      const info = B.getTableInfo(mod.getTableByIndex(i))
      if (isImported(info)) checkImport('table', info.module ?? '', info.base ?? '')
    }

    let memory: ModuleReport['memory'] = { initial: 0 }
    let definesMemory = false
    if (!mod.hasMemory()) {
      reasons.add(`declares no linear memory: import ${IMPORT_MODULE}.memory`)
    } else {
      const info = mod.getMemoryInfo()
      memory = info.max === undefined ? { initial: info.initial } : { initial: info.initial, maximum: info.max }
      if (isImported(info)) checkImport('memory', info.module ?? '', info.base ?? '')
      else definesMemory = true
      if (info.shared) reasons.add('shared memory is not allowed')
      if (info.is64) reasons.add('64-bit memory (memory64) is not allowed')
    }

    const exports: string[] = []
    const exported = new Map<string, { kind: number, value: string }>()
    for (let i = 0; i < mod.getNumExports(); i++) {
      const info = B.getExportInfo(mod.getExportByIndex(i))
      exports.push(info.name)
      exported.set(info.name, info)
      if (info.name.startsWith(RESERVED_EXPORT_PREFIX)) reasons.add(`export name "${info.name}" is reserved (prefix ${RESERVED_EXPORT_PREFIX})`)
    }
    for (const [name, spec] of Object.entries(REQUIRED_EXPORTS)) {
      const expected = expectedSignature(spec)
      const e = exported.get(name)
      if (e === undefined) {
        reasons.add(`missing export "${name}": a function ${expected}`)
      } else if (e.kind !== B.ExternalFunction) {
        reasons.add(`export "${name}" must be a function ${expected}`)
      } else {
        const info = B.getFunctionInfo(mod.getFunction(e.value))
        const actual = signature(B, info.params, info.results)
        if (actual !== expected) reasons.add(`export "${name}" has signature ${actual}, expected ${expected}`)
      }
    }
    if (reasons.size > 0) throw new PolicyViolation([...reasons])

    const t1 = options.now()
    const report = { bytes: bytes.length, imports, exports, memory }
    if (!options.instrument) return { report, timings: { checkMs: t1 - t0, instrumentMs: 0 } }
    const instrumented = instrument(B, mod, definesMemory, options)
    return { report, instrumented, timings: { checkMs: t1 - t0, instrumentMs: options.now() - t1 } }
  } finally {
    mod.dispose()
  }
}

/** Rewrites a module that passed the check: host-owned memory, deferred start, fuel. */
function instrument (B: Binaryen, checked: BinaryenModule, definesMemory: boolean, options: PolicyOptions): Uint8Array {
  // binaryen.js has no getter for a memory's internal name, which `addMemoryImport` needs:
  // re-read without a names section, where the single memory is named "0". Only modules
  // that define their memory pay for the second read.
  const mod = definesMemory ? readBinary(B, checked.emitBinary(), allowedFeatures(B)) : checked
  try {
    mod.setFeatures(allowedFeatures(B))
    // On an existing memory, addMemoryImport only sets its module and base.
    if (definesMemory) mod.addMemoryImport('0', IMPORT_MODULE, 'memory')
    // The start function would run at instantiation, before the host can set fuel.
    const start = mod.getStart()
    if (start !== 0) {
      const name = B.getFunctionInfo(start).name
      mod.setStart(0)
      mod.addFunctionExport(name, START_EXPORT)
    }
    meterFuel(B, mod)
    options.takeValidatorOutput()
    if (mod.validate() === 0) {
      throw new PolicyViolation([`instrumented module fails validation (a bug in the sandbox): ${options.takeValidatorOutput().slice(0, 300)}`])
    }
    return mod.emitBinary()
  } finally {
    if (mod !== checked) mod.dispose()
  }
}
