/**
 * The fuel pass: instruments a module so that it traps deterministically after a
 * budget of work, the way wasmtime's fuel does (`Config::consume_fuel`: a counter
 * decremented at function entries and loop headers, checked for exhaustion there).
 *
 * Each function entry and each loop header subtracts the static size of the code it
 * guards — the number of expressions in that function body or loop body, not counting
 * the bodies of nested loops, which pay for themselves — from a fuel counter, and
 * executes `unreachable` when the counter goes negative. The count over-approximates
 * the instructions run (both arms of an `if` are counted), so fuel ≈ instructions.
 * Straight-line code between those points is bounded by the module's size, so no
 * execution can run unmetered for long: an infinite loop traps after about
 * `budget / body size` iterations, at the same place every run.
 *
 * The counter is a mutable i32 global exported as {@link FUEL_EXPORT}. The host hands
 * the budget out in slices: it writes one slice before each call, and when the counter
 * goes negative the module calls the import {@link REFUEL_IMPORT} `(counter) -> counter`,
 * which charges the overshoot to what is left of the budget and returns the next slice,
 * or throws when the budget is spent (out of fuel: the same place as with one slice, as
 * the sum charged is the same) or when the watchdog asked the call to stop. So a call
 * that runs too long is stopped inside its own instance, within one slice, and no other
 * agent of its worker notices.
 * Must run after the policy check, which guarantees only MVP expressions (plus
 * sign-extension and non-trapping float-to-int, which are plain unary operations).
 */
import type { Binaryen, BinaryenModule, ExpressionAccessors } from './binaryen.js'

/** Name of the exported fuel counter (an i32 global). */
export const FUEL_EXPORT = '__caxton_fuel'
const FUEL_GLOBAL = '__caxton_fuel'
/** The import (module `env`) the module calls when its counter goes negative: `(i32) -> i32`. */
export const REFUEL_IMPORT = '__caxton_refuel'
const REFUEL_FUNCTION = '__caxton_refuel'

/** What the pass did, for logs. */
export interface FuelPassReport {
  /** Functions instrumented (imports excluded). */
  functions: number
  /** Loop headers instrumented. */
  loops: number
}

/** Thrown when the module holds an expression the pass does not know (the policy check should have rejected it). */
export class FuelPassError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'FuelPassError'
  }
}

/** Instruments `mod` in place. @throws FuelPassError on a non-MVP expression. */
export function meterFuel (binaryen: Binaryen, mod: BinaryenModule): FuelPassReport {
  const B = binaryen
  const X = binaryen as unknown as ExpressionAccessors
  mod.addGlobal(FUEL_GLOBAL, B.i32, true, mod.i32.const(0))
  mod.addGlobalExport(FUEL_GLOBAL, FUEL_EXPORT)
  mod.addFunctionImport(REFUEL_FUNCTION, 'env', REFUEL_IMPORT, B.i32, B.i32)

  const charge = (cost: number): number[] => [
    mod.global.set(FUEL_GLOBAL, mod.i32.sub(mod.global.get(FUEL_GLOBAL, B.i32), mod.i32.const(cost))),
    mod.if(
      mod.i32.lt_s(mod.global.get(FUEL_GLOBAL, B.i32), mod.i32.const(0)),
      mod.global.set(FUEL_GLOBAL, mod.call(REFUEL_FUNCTION, [mod.global.get(FUEL_GLOBAL, B.i32)], B.i32))
    )
  ]

  let functions = 0
  let loops = 0
  const count = mod.getNumFunctions()
  for (let f = 0; f < count; f++) {
    const fn = mod.getFunctionByIndex(f)
    const info = B.getFunctionInfo(fn)
    if (info.base !== null && info.base !== '') continue // an import has no body
    functions++
    // Region 0 is the function body; each loop opens a region of its own.
    const costs: number[] = [0]
    const loopExprs: number[] = []
    const loopRegions: number[] = []
    // Iterative walk: a deeply nested module must not overflow the host's stack.
    const stack: number[] = [info.body]
    const regions: number[] = [0]
    const push = (e: number, r: number): void => {
      if (e !== 0) { stack.push(e); regions.push(r) }
    }
    while (stack.length > 0) {
      const e = stack.pop() as number
      const r = regions.pop() as number
      costs[r]++
      switch (B.getExpressionId(e)) {
        case B.LoopId: {
          const region = costs.length
          costs.push(0)
          loopExprs.push(e)
          loopRegions.push(region)
          push(X.Loop.getBody(e), region)
          break
        }
        case B.BlockId: {
          const n = X.Block.getNumChildren(e)
          for (let i = 0; i < n; i++) push(X.Block.getChildAt(e, i), r)
          break
        }
        case B.IfId:
          push(X.If.getCondition(e), r); push(X.If.getIfTrue(e), r); push(X.If.getIfFalse(e), r)
          break
        case B.BreakId:
          push(X.Break.getCondition(e), r); push(X.Break.getValue(e), r)
          break
        case B.SwitchId:
          push(X.Switch.getCondition(e), r); push(X.Switch.getValue(e), r)
          break
        case B.CallId: {
          const n = X.Call.getNumOperands(e)
          for (let i = 0; i < n; i++) push(X.Call.getOperandAt(e, i), r)
          break
        }
        case B.CallIndirectId: {
          push(X.CallIndirect.getTarget(e), r)
          const n = X.CallIndirect.getNumOperands(e)
          for (let i = 0; i < n; i++) push(X.CallIndirect.getOperandAt(e, i), r)
          break
        }
        case B.LocalSetId: push(X.LocalSet.getValue(e), r); break
        case B.GlobalSetId: push(X.GlobalSet.getValue(e), r); break
        case B.LoadId: push(X.Load.getPtr(e), r); break
        case B.StoreId: push(X.Store.getPtr(e), r); push(X.Store.getValue(e), r); break
        case B.UnaryId: push(X.Unary.getValue(e), r); break
        case B.BinaryId: push(X.Binary.getLeft(e), r); push(X.Binary.getRight(e), r); break
        case B.SelectId:
          push(X.Select.getIfTrue(e), r); push(X.Select.getIfFalse(e), r); push(X.Select.getCondition(e), r)
          break
        case B.DropId: push(X.Drop.getValue(e), r); break
        case B.ReturnId: push(X.Return.getValue(e), r); break
        case B.MemoryGrowId: push(X.MemoryGrow.getDelta(e), r); break
        case B.LocalGetId: case B.GlobalGetId: case B.ConstId: case B.NopId:
        case B.UnreachableId: case B.MemorySizeId:
          break
        default:
          throw new FuelPassError(`fuel pass: unexpected expression (id ${B.getExpressionId(e)}) in function ${info.name}`)
      }
    }
    for (let i = 0; i < loopExprs.length; i++) {
      const loop = loopExprs[i]
      const body = X.Loop.getBody(loop)
      X.Loop.setBody(loop, mod.block(null, [...charge(costs[loopRegions[i]]), body], B.auto))
      loops++
    }
    X.Function.setBody(fn, mod.block(null, [...charge(costs[0]), info.body], B.auto))
  }
  return { functions, loops }
}
