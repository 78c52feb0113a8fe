/**
 * The durable floor under one-way delivery, measured in the same run as the Caxton figures:
 * what "accepted means durable, acked means durable at the receiver" costs on this machine
 * with the project's own libraries and no Caxton logic, to read beside `caxton one-way A → B
 * handled, durable`.
 *
 * Node A is this process, node B a child process; each runs the project's libp2p peer
 * (`createTransport`: TCP + Noise + yamux with corked writes, and the services every node
 * runs) on 127.0.0.1 and its own LevelDB in a temp dir, written as a node writes it (the
 * node's group commit, `src/delivery/commit.ts`: the rows staged in one turn share one
 * batch, one batch in flight at a time; rows in a sublevel, keyed by `orderKey`, the
 * outbox's key; an acked row's delete rides in the next batch). A sends messages on
 * one long-lived stream, one length-prefixed frame per message (`FrameWriter`: the frames
 * of a tick share one stream write); each message is a msgpack array shaped like a FIPA-ACL
 * message (performative, sender, receiver, `size` bytes of content, conversation id, a
 * 16-byte id, a timestamp, a protocol).
 * - `perMessage` (Caxton's rows and acks): A stages an outbox row per message and sends it
 *   while the row is being written (as Caxton does for an API client's message); the next
 *   messages wait until those rows are written (accepted). B decodes the frame and the
 *   message, writes a seen row per message, then acks each message; A deletes each acked
 *   message's row.
 * - `perBatch`: A writes one outbox row per batch of up to {@link BATCH} messages; B one
 *   seen row per turn of its event loop (the ids received in it) and one cumulative ack per row;
 *   A deletes a batch's row once all of its messages are acked.
 * At most `window` messages are unacked. After a warm-up of {@link WARM_UP} messages, the
 * rate is messages acked per second from the first send until the last ack.
 *
 * Left out: everything Caxton adds on that path: the API client's call, validation of the
 * message (B only decodes it), routing and the outbox scheduler's bookkeeping, the per-pair
 * order and duplicate rules, inbox rows and the sink agent's WASM call, held acks
 * (`ACK_HOLD_MS`), statuses, metrics and logs. No fsync (`sync: false`, as Caxton's default).
 */
import '../../src/polyfill.js'
import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { Level } from 'level'
import { Packr } from 'msgpackr'
import { orderKey } from '../../protocols/delivery/index.js'
import { GroupCommit } from '../../src/delivery/index.js'
import type { StorageOp, Sublevel } from '../../src/storage/index.js'
import { createTransport, fewerWindowUpdates, FrameWriter, readFrames, type CaxtonLibp2p } from '../../src/transport/index.js'

/** Figures of one variant. */
export interface FloorFigures {
  /** Messages/s acked, from the first send until the last ack of the measured run. */
  rate: number
  /**
   * CPU per message over the measured run, µs, all threads: node A's (this process:
   * encoding, its outbox rows, the transport) and node B's (the child process).
   */
  cpuUsPerMessage: { a: number, b: number }
}

export interface DurableFloorResult {
  /** An outbox row, a frame, a seen row and an ack per message (Caxton's rows and acks). */
  perMessage: FloorFigures
  /** An outbox row per batch of up to 256 messages; a seen row and a cumulative ack per turn of B's event loop. */
  perBatch: FloorFigures
  /** Messages measured per variant (after the warm-up). */
  messages: number
  /** Messages sent per variant before the measured run. */
  warmUp: number
  /** Most messages unacked at a time. */
  window: number
  /** Content per message, bytes. */
  size: number
}

export interface DurableFloorOptions {
  /** Messages measured per variant. */
  messages: number
  /** Content per message, bytes. */
  size: number
  /** Most messages unacked at a time. */
  window: number
}

type Variant = 'perMessage' | 'perBatch'

/** The stream's protocol id; nothing but this benchmark speaks it. */
const PROTOCOL = '/caxton-bench/durable-floor/1.0.0'
/** Most messages A sends (and, in `perBatch`, puts in one outbox row) per turn. */
const BATCH = 256
const WARM_UP = 20_000
/** The run fails when no ack arrives for this long, ms. */
const STALL_MS = 30_000
/** Argument that makes this module node B (see the bottom). */
const NODE_B = '--durable-floor-node-b'
const MAX_FRAME_BYTES = 1024 * 1024 + 64 * 1024
const MAX_QUEUED_BYTES = 64 * 1024 * 1024

const packr = new Packr({ useRecords: false })
/** A seen row's value in `perMessage` (the key is the message id, in hex). */
const SEEN = new Uint8Array([1])

/**
 * A node: its libp2p peer, and its LevelDB written the way a Caxton node writes it: the
 * node's own group commit (src/delivery/commit.ts), rows in a sublevel, keyed as the outbox
 * keys its rows (`orderKey`).
 */
interface FloorNode {
  libp2p: CaxtonLibp2p
  db: Level<string, Uint8Array>
  rows: Sublevel
  commit: GroupCommit
}

async function openNode (dir: string): Promise<FloorNode> {
  const db = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' })
  await db.open()
  const rows: Sublevel = db.sublevel<string, Uint8Array>('rows', { valueEncoding: 'view' })
  const libp2p = await createTransport({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  try {
    await libp2p.start()
  } catch (err) {
    await db.close()
    throw err
  }
  return { libp2p, db, rows, commit: new GroupCommit(db) }
}

async function closeNode (node: FloorNode): Promise<void> {
  await node.commit.flushed()
  await node.libp2p.stop()
  await node.db.close()
}

// --- node B (the child process) ---------------------------------------------------------

/** Messages from the parent. */
type ToNodeB = { type: 'cpu' } | { type: 'stop' }
/** Messages to the parent. */
type FromNodeB = { type: 'ready', addr: string } | { type: 'cpu', cpu: NodeJS.CpuUsage } | { type: 'error', message: string }

/** Child side: takes A's stream, writes the seen rows, acks; answers CPU queries until told to stop. */
async function serveNodeB (variant: Variant, dir: string): Promise<void> {
  const send = (m: FromNodeB): void => { process.send?.(m) }
  const fail = (err: Error): void => { exitWith(err) }
  const node = await openNode(dir)
  let acks: FrameWriter | undefined
  const ack = (seq: number) => (err?: Error): void => {
    if (err !== undefined) fail(err)
    else acks?.write(packr.pack(seq))
  }
  // perBatch: the ids received in this turn, written as one row once the turn ends.
  let ids: Buffer[] = []
  let last = -1
  const stageTurn = (): void => {
    node.commit.stage([{ type: 'put', sublevel: node.rows, key: orderKey(last), value: Buffer.concat(ids) }], ack(last))
    ids = []
  }
  await node.libp2p.handle(PROTOCOL, (stream: Stream) => {
    fewerWindowUpdates(stream)
    acks = new FrameWriter(stream, { maxQueuedBytes: MAX_QUEUED_BYTES, onError: fail })
    readFrames(stream, MAX_FRAME_BYTES, bytes => {
      const [seq, message] = packr.unpack(bytes) as [number, Uint8Array]
      const id = (packr.unpack(message) as unknown[])[5]
      if (!(id instanceof Uint8Array) || id.byteLength !== 16) {
        fail(new Error('a message without its 16-byte id'))
        return
      }
      if (variant === 'perMessage') {
        node.commit.stage([{ type: 'put', sublevel: node.rows, key: Buffer.from(id).toString('hex'), value: SEEN }], ack(seq))
        return
      }
      if (ids.length === 0) setImmediate(stageTurn)
      ids.push(Buffer.from(id))
      last = seq
    }, fail)
  }, { maxInboundStreams: 4 })
  let stopping = false
  const stop = async (): Promise<void> => {
    if (stopping) return
    stopping = true
    await closeNode(node)
    process.exit(0)
  }
  process.on('message', (m: ToNodeB) => {
    if (m.type === 'cpu') send({ type: 'cpu', cpu: process.cpuUsage() })
    else if (m.type === 'stop') void stop()
  })
  // The parent went away without a word: do not outlive it.
  process.on('disconnect', () => { void stop() })
  send({ type: 'ready', addr: node.libp2p.getMultiaddrs()[0].toString() })
}

/** Node B failed: tells the parent (when it still listens), then exits. */
function exitWith (err: Error): void {
  const m: FromNodeB = { type: 'error', message: `node B: ${err.message}` }
  if (process.send === undefined || !process.connected) process.exit(1)
  process.send(m, () => { process.exit(1) })
}

if (process.argv[2] === NODE_B) serveNodeB(process.argv[3] as Variant, process.argv[4]).catch(exitWith)

// --- node A (this process) --------------------------------------------------------------

/** The next message of `type` from node B; rejects when B reports an error or exits first. */
async function fromNodeB<T extends FromNodeB['type']> (child: ChildProcess, type: T, timeoutMs: number): Promise<Extract<FromNodeB, { type: T }>> {
  return await new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
    }
    const onMessage = (m: FromNodeB): void => {
      if (m.type === 'error') { done(); reject(new Error(m.message)); return }
      if (m.type === type) { done(); resolve(m as Extract<FromNodeB, { type: T }>) }
    }
    const onExit = (code: number | null, signal: string | null): void => { done(); reject(new Error(`node B exited (${signal ?? code})`)) }
    const timer = setTimeout(() => { done(); reject(new Error(`node B sent no "${type}" within ${timeoutMs} ms`)) }, timeoutMs)
    child.on('message', onMessage)
    child.on('exit', onExit)
  })
}

async function cpuOfNodeB (child: ChildProcess): Promise<NodeJS.CpuUsage> {
  const answer = fromNodeB(child, 'cpu', 10_000)
  child.send({ type: 'cpu' } satisfies ToNodeB)
  return (await answer).cpu
}

/** Asks node B to stop and waits for it to exit; kills it when it does not within 10 s. */
async function stopNodeB (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  if (child.connected) child.send({ type: 'stop' } satisfies ToNodeB)
  else child.kill()
  const timer = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
  await exited
  clearTimeout(timer)
}

/** A's side of one variant: the sends, its outbox rows, the acks. */
class Sender {
  /** Messages sent (the next message's sequence number). */
  private sent = 0
  /** Messages acked. */
  private acked = 0
  /** `perBatch`: the outbox rows not yet deleted, oldest first. */
  private readonly batches: Array<{ first: number, count: number }> = []
  private wake?: (err?: Error) => void
  private failure?: Error
  private readonly content: string
  /** The first half of every message id (the second: its sequence number). */
  private readonly idPrefix = randomBytes(8)

  constructor (
    private readonly variant: Variant,
    private readonly writer: FrameWriter,
    private readonly node: FloorNode,
    private readonly window: number,
    size: number
  ) {
    this.content = 'x'.repeat(size)
  }

  /** An ack frame from B: a sequence number (`perMessage`), or the last one of a row B wrote (`perBatch`: all before it too). */
  onAck (bytes: Uint8Array): void {
    const seq = packr.unpack(bytes) as number
    if (this.variant === 'perMessage') {
      this.acked++
      // As the outbox deletes a delivered entry: in whatever batch comes next.
      this.node.commit.stageLater([{ type: 'del', sublevel: this.node.rows, key: orderKey(seq) }], this.onWritten)
    } else {
      this.acked = seq + 1
      const ops: StorageOp[] = []
      while (this.batches.length > 0 && this.batches[0].first + this.batches[0].count <= this.acked) {
        ops.push({ type: 'del', sublevel: this.node.rows, key: orderKey(this.batches[0].first) })
        this.batches.shift()
      }
      if (ops.length > 0) this.node.commit.stageLater(ops, this.onWritten)
    }
    this.notify()
  }

  private readonly onWritten = (err?: Error): void => { if (err !== undefined) this.fail(err) }

  /** The run is broken (the stream, B, a write): every wait rejects with `err`. */
  fail (err: Error): void {
    this.failure ??= err
    this.notify()
  }

  /** Messages acked so far (the stall watchdog's progress). */
  get progress (): number {
    return this.acked
  }

  /** Sends `count` messages with at most `window` unacked; resolves with the ms until the last ack. */
  async run (count: number): Promise<number> {
    const end = this.sent + count
    const t0 = performance.now()
    while (this.sent < end) {
      const room = this.window - (this.sent - this.acked)
      if (room <= 0) {
        await this.nextAck()
        continue
      }
      const n = Math.min(BATCH, room, end - this.sent)
      const first = this.sent
      const ops: StorageOp[] = []
      const messages: Uint8Array[] = []
      for (let i = 0; i < n; i++) {
        const seq = this.sent++
        const message = this.message(seq)
        if (!this.writer.write(packr.pack([seq, message]))) throw this.failure ?? new Error('the frame writer refused a frame')
        if (this.variant === 'perMessage') ops.push({ type: 'put', sublevel: this.node.rows, key: orderKey(seq), value: message })
        else messages.push(message)
      }
      if (this.variant === 'perBatch') {
        ops.push({ type: 'put', sublevel: this.node.rows, key: orderKey(first), value: Buffer.concat(messages) })
        this.batches.push({ first, count: n })
      }
      // Accepted once durable: the next messages wait for these rows.
      await new Promise<void>((resolve, reject) => { this.node.commit.stage(ops, err => { err === undefined ? resolve() : reject(err) }) })
      if (this.failure !== undefined) throw this.failure
    }
    while (this.acked < end) await this.nextAck()
    return performance.now() - t0
  }

  private message (seq: number): Uint8Array {
    const id = Buffer.allocUnsafe(16)
    this.idPrefix.copy(id, 0)
    id.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), 8)
    id.writeUInt32BE(seq >>> 0, 12)
    return packr.pack(['INFORM', 'bench', 'sink', this.content, `conv-${seq}`, id, Date.now(), 'fipa-request'])
  }

  private async nextAck (): Promise<void> {
    if (this.failure !== undefined) throw this.failure
    await new Promise<void>((resolve, reject) => { this.wake = err => { err === undefined ? resolve() : reject(err) } })
  }

  private notify (): void {
    const wake = this.wake
    this.wake = undefined
    wake?.(this.failure)
  }
}

/** One variant on a fresh pair of nodes: warm-up, then the measured run. */
async function measureVariant (variant: Variant, options: DurableFloorOptions): Promise<FloorFigures> {
  const dirA = mkdtempSync(join(tmpdir(), 'caxton-floor-a-'))
  const dirB = mkdtempSync(join(tmpdir(), 'caxton-floor-b-'))
  let child: ChildProcess | undefined
  let a: FloorNode | undefined
  let watchdog: NodeJS.Timeout | undefined
  let onMessage: ((m: FromNodeB) => void) | undefined
  let onExit: ((code: number | null, signal: string | null) => void) | undefined
  try {
    child = fork(fileURLToPath(import.meta.url), [NODE_B, variant, dirB], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const nodeB = child
    const { addr } = await fromNodeB(nodeB, 'ready', 60_000)
    const nodeA = a = await openNode(dirA)
    const stream = await nodeA.libp2p.dialProtocol(multiaddr(addr), PROTOCOL, { signal: AbortSignal.timeout(10_000) })
    fewerWindowUpdates(stream)
    let sender: Sender | undefined
    const fail = (err: Error): void => { sender?.fail(err) }
    const writer = new FrameWriter(stream, { maxQueuedBytes: MAX_QUEUED_BYTES, onError: fail })
    const s = sender = new Sender(variant, writer, nodeA, options.window, options.size)
    readFrames(stream, 1024, bytes => { s.onAck(bytes) }, fail)
    stream.addEventListener('close', () => { fail(new Error('the stream to node B closed')) })
    onMessage = (m: FromNodeB) => { if (m.type === 'error') fail(new Error(m.message)) }
    onExit = (code: number | null, signal: string | null) => { fail(new Error(`node B exited (${signal ?? code})`)) }
    nodeB.on('message', onMessage)
    nodeB.on('exit', onExit)
    let seen = -1
    watchdog = setInterval(() => {
      if (s.progress === seen) fail(new Error(`no ack from node B for ${STALL_MS / 1000} s`))
      seen = s.progress
    }, STALL_MS)

    await s.run(WARM_UP)
    const cpuB0 = await cpuOfNodeB(nodeB)
    const cpuA0 = process.cpuUsage()
    const ms = await s.run(options.messages)
    const cpuA = process.cpuUsage(cpuA0)
    const cpuB1 = await cpuOfNodeB(nodeB)
    const cpuB = cpuB1.user - cpuB0.user + cpuB1.system - cpuB0.system
    return {
      rate: options.messages / (ms / 1000),
      cpuUsPerMessage: { a: (cpuA.user + cpuA.system) / options.messages, b: cpuB / options.messages }
    }
  } finally {
    clearInterval(watchdog)
    if (onMessage !== undefined) child?.off('message', onMessage)
    if (onExit !== undefined) child?.off('exit', onExit)
    try {
      if (a !== undefined) await closeNode(a)
    } finally {
      if (child !== undefined) await stopNodeB(child)
      rmSync(dirA, { recursive: true, force: true })
      rmSync(dirB, { recursive: true, force: true })
    }
  }
}

/**
 * Durable one-way delivery without Caxton: `perMessage`, then `perBatch`, each on its own
 * pair of nodes and databases (see the module comment).
 */
export async function measureDurableFloor (options: DurableFloorOptions): Promise<DurableFloorResult> {
  const perMessage = await measureVariant('perMessage', options)
  const perBatch = await measureVariant('perBatch', options)
  return { perMessage, perBatch, messages: options.messages, warmUp: WARM_UP, window: options.window, size: options.size }
}
