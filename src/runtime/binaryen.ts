/**
 * The slice of binaryen.js (npm `binaryen`) the sandbox uses, typed. binaryen.js is ESM
 * with top-level await and costs ~330 ms and ~73 MiB to load, so it is only ever loaded
 * lazily, inside the policy worker (`policy-worker.ts`), never on the node's main thread.
 */
import type binaryenModule from 'binaryen'

export type Binaryen = typeof binaryenModule
export type BinaryenModule = InstanceType<Binaryen['Module']>

/**
 * Per-expression accessors binaryen.js exposes at runtime but does not declare in its
 * typings (`binaryen.Block.getChildAt`, ...). Only the MVP expressions the fuel pass
 * walks are listed.
 */
export interface ExpressionAccessors {
  Block: { getNumChildren: (e: number) => number, getChildAt: (e: number, i: number) => number }
  If: { getCondition: (e: number) => number, getIfTrue: (e: number) => number, getIfFalse: (e: number) => number }
  Loop: { getBody: (e: number) => number, setBody: (e: number, body: number) => void }
  Break: { getCondition: (e: number) => number, getValue: (e: number) => number }
  Switch: { getCondition: (e: number) => number, getValue: (e: number) => number }
  Call: { getNumOperands: (e: number) => number, getOperandAt: (e: number, i: number) => number, isReturn: (e: number) => boolean }
  CallIndirect: { getTarget: (e: number) => number, getNumOperands: (e: number) => number, getOperandAt: (e: number, i: number) => number, isReturn: (e: number) => boolean }
  LocalSet: { getValue: (e: number) => number }
  GlobalSet: { getValue: (e: number) => number }
  Load: { getPtr: (e: number) => number, isAtomic: (e: number) => boolean }
  Store: { getPtr: (e: number) => number, getValue: (e: number) => number, isAtomic: (e: number) => boolean }
  Unary: { getValue: (e: number) => number }
  Binary: { getLeft: (e: number) => number, getRight: (e: number) => number }
  Select: { getIfTrue: (e: number) => number, getIfFalse: (e: number) => number, getCondition: (e: number) => number }
  Drop: { getValue: (e: number) => number }
  Return: { getValue: (e: number) => number }
  MemoryGrow: { getDelta: (e: number) => number }
  Function: { setBody: (fn: number, body: number) => void }
}

/**
 * `binaryen.readBinary(bytes, features)`: binaryen.js takes the feature set as a second
 * argument (its typings declare a separate `readBinaryWithFeatures` it does not export).
 */
export function readBinary (B: Binaryen, bytes: Uint8Array, features: number): BinaryenModule {
  return (B.readBinary as unknown as (data: Uint8Array, features: number) => BinaryenModule)(bytes, features)
}

/** Loads binaryen.js (once per thread: the import is cached by the module loader). */
export async function loadBinaryen (): Promise<Binaryen> {
  const mod = await import('binaryen')
  return mod.default
}
