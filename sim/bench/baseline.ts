/**
 * The raw `node:net` baseline, measured in the same run as the Caxton figures: an echo
 * server in a child process, the client here, length-prefixed frames of the same size as
 * the benchmark's messages. No encryption, no multiplexing, no validation: the ceiling
 * that libp2p + Caxton are compared against.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { connect, createServer, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { summarize, type LatencySummary } from './stats.js'

export interface BaselineResult {
  /** One-way frames/s, one socket write per frame. */
  oneWritePerMessage: number
  /** One-way frames/s, 64 frames per socket write. */
  batched64: number
  /** Round trips/s with `window` requests in flight (echoed by the server). */
  roundTrips: number
  /** Round-trip latency with one request in flight, ms. */
  latency: LatencySummary
}

/** Child side: echo every length-prefixed frame back; report the port on the IPC channel. */
function serve (): void {
  const server = createServer(socket => {
    socket.setNoDelay(true)
    socket.on('data', chunk => { socket.write(chunk) })
    socket.on('error', () => {})
  })
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address()
    process.send?.({ port: typeof addr === 'object' && addr != null ? addr.port : 0 })
  })
}

if (process.argv[2] === '--serve') serve()

/** Reads length-prefixed (u32 BE) frames from a socket, calling `onFrame` per frame. */
function frameReader (onFrame: () => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0)
  return chunk => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    let off = 0
    while (pending.length - off >= 4) {
      const len = pending.readUInt32BE(off)
      if (pending.length - off - 4 < len) break
      off += 4 + len
      onFrame()
    }
    pending = pending.subarray(off)
  }
}

function frame (size: number): Buffer {
  const b = Buffer.alloc(4 + size, 7)
  b.writeUInt32BE(size, 0)
  return b
}

async function startServer (): Promise<{ child: ChildProcess, port: number }> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => { resolve(m.port) })
    child.once('exit', code => { reject(new Error(`baseline server exited with ${code}`)) })
  })
  return { child, port }
}

async function dial (port: number): Promise<Socket> {
  return await new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => { s.setNoDelay(true); resolve(s) })
    s.once('error', reject)
  })
}

/** Sends `count` frames (`perWrite` per socket write) and waits for all echoes: frames/s. */
async function oneWay (port: number, count: number, size: number, perWrite: number): Promise<number> {
  const s = await dial(port)
  const one = frame(size)
  const batch = Buffer.concat(Array.from({ length: perWrite }, () => one))
  let got = 0
  const done = new Promise<void>(resolve => { s.on('data', frameReader(() => { if (++got === count) resolve() })) })
  const t0 = performance.now()
  for (let sent = 0; sent < count; sent += perWrite) {
    if (!s.write(perWrite === 1 ? one : batch)) await new Promise(resolve => s.once('drain', resolve))
  }
  await done
  const secs = (performance.now() - t0) / 1000
  s.destroy()
  return count / secs
}

/** Request/response with `window` in flight; with window 1, also per-request latency. */
async function roundTrip (port: number, count: number, size: number, window: number): Promise<{ rate: number, samples: number[] }> {
  const s = await dial(port)
  const one = frame(size)
  const samples: number[] = []
  const started: number[] = []
  let sent = 0
  let got = 0
  const t0 = performance.now()
  await new Promise<void>(resolve => {
    s.on('data', frameReader(() => {
      samples.push(performance.now() - started[got])
      got++
      if (got === count) { resolve(); return }
      if (sent < count) { started[sent++] = performance.now(); s.write(one) }
    }))
    for (; sent < Math.min(window, count);) { started[sent++] = performance.now(); s.write(one) }
  })
  const rate = count / ((performance.now() - t0) / 1000)
  s.destroy()
  return { rate, samples }
}

export async function measureBaseline (options: { messages: number, size: number, window: number }): Promise<BaselineResult> {
  const { child, port } = await startServer()
  try {
    const oneWrite = await oneWay(port, options.messages, options.size, 1)
    const batched = await oneWay(port, options.messages, options.size, 64)
    const rt = await roundTrip(port, options.messages, options.size, options.window)
    const lat = await roundTrip(port, Math.min(options.messages, 5000), options.size, 1)
    return { oneWritePerMessage: oneWrite, batched64: batched, roundTrips: rt.rate, latency: summarize(lat.samples) }
  } finally {
    child.kill()
  }
}
