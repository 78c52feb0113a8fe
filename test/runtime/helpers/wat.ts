/**
 * WAT → WebAssembly for hostile test modules, with binaryen's `parseText`. binaryen runs
 * in a worker started without tsx: under tsx's loader binaryen.js takes ~8 s to load
 * instead of ~0.3 s (tsx rewrites its 14 MB of JavaScript).
 */
import { Worker } from 'node:worker_threads'

const CODE = `
const { parentPort, workerData } = require('node:worker_threads')
import(workerData.binaryenUrl).then(({ default: B }) => {
  const features = { mvp: 0, simd: B.Features.SIMD128, threads: B.Features.Atomics, bulk: B.Features.BulkMemory,
    signext: B.Features.SignExt, mutableGlobals: B.Features.MutableGlobals, nontrapping: B.Features.NontrappingFPToInt,
    multivalue: B.Features.Multivalue, memory64: B.Features.Memory64 }
  parentPort.on('message', ({ id, text, extra }) => {
    const printErr = console.error
    let err = ''
    console.error = (...a) => { err += a.join(' ') }
    try {
      const m = B.parseText(text)
      m.setFeatures(extra.reduce((f, name) => f | features[name], features.signext | features.mutableGlobals | features.nontrapping))
      const bytes = m.emitBinary()
      m.dispose()
      parentPort.postMessage({ id, bytes })
    } catch (e) {
      parentPort.postMessage({ id, error: String(e && e.message || e) + ' ' + err })
    } finally {
      console.error = printErr
    }
  })
  parentPort.postMessage({ ready: true })
})
`

let worker: Worker | undefined
let ready: Promise<void> | undefined
let nextId = 1
const pending = new Map<number, { resolve: (b: Uint8Array) => void, reject: (e: Error) => void }>()

/** Features a module may need beyond the sandbox's own (to build modules the policy must reject). */
export type WatFeature = 'simd' | 'threads' | 'bulk' | 'multivalue' | 'memory64'

/** Assembles WAT text into a module. */
export async function wat (text: string, extra: WatFeature[] = []): Promise<Uint8Array> {
  if (worker === undefined) {
    const w = new Worker(CODE, { eval: true, execArgv: [], workerData: { binaryenUrl: import.meta.resolve('binaryen') } })
    worker = w
    const { promise, resolve, reject } = Promise.withResolvers<void>()
    ready = promise
    w.on('message', (msg: { ready?: true, id: number, bytes?: Uint8Array, error?: string }) => {
      if (msg.ready === true) { resolve(); return }
      const p = pending.get(msg.id)
      pending.delete(msg.id)
      if (msg.bytes !== undefined) p?.resolve(msg.bytes)
      else p?.reject(new Error(`WAT did not assemble: ${msg.error ?? ''}`))
    })
    w.on('error', reject)
  }
  await ready
  const id = nextId++
  const { promise, resolve, reject } = Promise.withResolvers<Uint8Array>()
  pending.set(id, { resolve, reject })
  worker.postMessage({ id, text, extra })
  return await promise
}

/** Stops the assembler's worker. */
export async function closeWat (): Promise<void> {
  const w = worker
  worker = undefined
  ready = undefined
  await w?.terminate()
}
