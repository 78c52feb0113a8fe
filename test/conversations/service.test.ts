import assert from 'node:assert/strict'
import { DEFAULT_ACL_LIMITS, type AclMessage } from '../../protocols/fipa/index.js'
import { ConversationService, FLUSH_BATCH, MINTED_GENERATION } from '../../src/conversations/index.js'
import type { StorageOp, Sublevel } from '../../src/storage/index.js'
import { memoryRows } from '../api/auth-fixture.js'

describe('conversation service: what it writes', () => {
  let now = 1_000_000
  let rows: Sublevel
  let written: StorageOp[][]
  const write = async (ops: StorageOp[]): Promise<void> => {
    written.push(ops)
    for (const op of ops) {
      if (op.type === 'put') await op.sublevel.put(op.key, op.value)
      else await op.sublevel.del(op.key)
    }
  }
  const service = (maxInMemory?: number): ConversationService => new ConversationService({
    rows,
    maxInMemory,
    idleMs: 60_000,
    isLocal: () => true,
    pending: () => false,
    accept: async () => {},
    write,
    newId: () => 'id',
    limits: DEFAULT_ACL_LIMITS,
    clock: () => now
  })
  const msg = (id: string, conversationId: string, performative: AclMessage['performative'], sender: string, receiver: string): AclMessage =>
    ({ messageId: id, createdAt: now, performative, sender, receivers: [receiver], conversationId, content: '' })
  const keys = async (): Promise<string[]> => await rows.keys().all()
  /** Keys read synchronously (the reads a message could wait for). */
  let probes: string[]
  const countProbes = (): void => {
    const getSync = rows.getSync.bind(rows)
    rows.getSync = ((key: string) => {
      probes.push(key)
      return getSync(key)
    }) as typeof rows.getSync
  }
  /** A first run: conversation `pair` of two messages (a → b, b → a) at 1,000,000, stored. */
  const storedPair = async (): Promise<void> => {
    const s = service()
    s.observe(msg('p1', 'pair', 'REQUEST', 'a', 'b'), false, [])
    now += 10
    s.observe(msg('p2', 'pair', 'INFORM', 'b', 'a'), false, [])
    await s.stop()
    assert.deepEqual(await keys(), ['pair'])
    now += 1000
    probes = []
    written = []
  }

  beforeEach(async () => {
    now = 1_000_000
    rows = memoryRows()('conversations')
    await rows.open()
    written = []
    probes = []
    countProbes()
  })

  it('keeps a conversation of one message in memory only, writes it once a second message joins', async () => {
    const s = service()
    const ops: StorageOp[] = []
    s.observe(msg('m1', 'lone', 'INFORM', 'a', 'b'), false, ops)
    s.observe(msg('m2', 'pair', 'INFORM', 'a', 'b'), false, ops)
    s.observe(msg('m3', 'pair', 'INFORM', 'b', 'a'), false, ops)
    assert.deepEqual(ops, [], 'nothing awaited: nothing written with the messages')
    await s.stop()
    assert.deepEqual(await keys(), ['pair'])
    assert.equal((await s.get('lone'))?.messages, 1, 'the lone one is still there to read')

    // A new service over the same rows (a restart) reads the stored one back.
    const again = service()
    await again.load()
    assert.equal((await again.get('pair'))?.messages, 2)
    assert.equal(await again.get('lone'), undefined)
  })

  it('writes a request awaiting a reply with the message, and deletes on idleness only what it wrote', async () => {
    const s = service()
    s.start()
    const ops: StorageOp[] = []
    s.observe({ ...msg('q', 'asks', 'REQUEST', 'a', 'b'), replyBy: now + 5000 }, true, ops)
    assert.deepEqual(ops.map(o => [o.type, o.key]), [['put', 'asks']])
    await write(ops)
    const reply: StorageOp[] = []
    s.observe({ ...msg('r', 'asks', 'INFORM', 'b', 'a'), inReplyTo: 'q' }, false, reply)
    await write(reply)
    s.observe(msg('m', 'lone', 'INFORM', 'a', 'b'), false, [])
    await s.stop()
    written = []
    now += 120_000
    // Idle: the next sweep forgets both; only the stored one costs a delete.
    s.start()
    await s.stop()
    assert.deepEqual(written.flat().map(o => [o.type, o.key]), [['del', 'asks']])
    assert.deepEqual(await keys(), [])
  })

  it('looks for no stored row of a conversation whose id it made up, in the flush or with the message', async () => {
    const s = service()
    const reads: string[] = []
    const getMany = rows.getMany.bind(rows)
    rows.getMany = (async (keys: string[]) => { reads.push(...keys); return await getMany(keys) }) as typeof rows.getMany
    const ours = s.minted('ours')
    s.observe(msg('q1', ours, 'REQUEST', 'a', 'b'), true, [])
    s.observe(msg('r1', ours, 'INFORM', 'b', 'a'), false, [])
    s.observe(msg('q2', 'theirs', 'REQUEST', 'a', 'b'), false, [])
    s.observe(msg('r2', 'theirs', 'INFORM', 'b', 'a'), false, [])
    // A reply awaited is written with its message: for an id made up here, with no read.
    const ops: StorageOp[] = []
    s.observe({ ...msg('q3', s.minted('asked'), 'REQUEST', 'a', 'b'), replyBy: now + 5000 }, true, ops)
    s.observe({ ...msg('q4', 'asking', 'REQUEST', 'a', 'b'), replyBy: now + 5000 }, true, ops)
    assert.deepEqual(probes, ['asking'])
    await write(ops)
    // A one-off conversation of an id made up here: not read at stop either.
    s.observe(msg('m', s.minted('lone'), 'INFORM', 'a', 'b'), true, [])
    await s.stop()
    assert.deepEqual(reads, ['theirs'])
    assert.deepEqual(await keys(), ['asked', 'asking', 'ours', 'theirs'])
    assert.equal((await s.get('ours'))?.messages, 2)
  })

  it('remembers the ids it made up for two generations only: an older one is read as any other', async () => {
    const s = service()
    const reads: string[] = []
    const getMany = rows.getMany.bind(rows)
    rows.getMany = (async (keys: string[]) => { reads.push(...keys); return await getMany(keys) }) as typeof rows.getMany
    s.minted('old')
    for (let i = 0; i < 2 * MINTED_GENERATION; i++) s.minted(`new${i}`)
    s.observe(msg('q', 'old', 'REQUEST', 'a', 'b'), true, [])
    s.observe(msg('r', 'old', 'INFORM', 'b', 'a'), false, [])
    const last = `new${2 * MINTED_GENERATION - 1}`
    s.observe(msg('q', last, 'REQUEST', 'a', 'b'), true, [])
    s.observe(msg('r', last, 'INFORM', 'b', 'a'), false, [])
    await s.stop()
    assert.deepEqual(reads, ['old'])
    assert.deepEqual(await keys(), [last, 'old'])
  })

  it('continues a stored conversation after a restart without reading the disk for its messages; get and stop merge it', async () => {
    await storedPair()
    const s = service()
    await s.load()
    const ops: StorageOp[] = []
    s.observe({ ...msg('p3', 'pair', 'INFORM', 'a', 'c'), protocol: 'fipa-request' }, false, ops)
    assert.deepEqual(ops, [])
    assert.deepEqual(probes, [], 'no read of the disk on the message path')
    const expected = { id: 'pair', initiator: 'a', participants: ['a', 'b', 'c'], startedAt: 1_000_000, lastActivity: 1_001_010, messages: 3, awaiting: [], protocol: 'fipa-request' }
    assert.deepEqual(await s.get('pair'), expected)
    await s.stop()
    const again = service()
    await again.load()
    assert.deepEqual(await again.get('pair'), expected, 'the part of one message was written at stop, merged')

    // Two more messages: written behind, merged with the row (read off the event loop, by
    // getMany: no synchronous read at all).
    now += 10
    again.observe(msg('p4', 'pair', 'INFORM', 'c', 'a'), false, [])
    again.observe(msg('p5', 'pair', 'INFORM', 'a', 'c'), false, [])
    assert.deepEqual(probes, [])
    await again.stop()
    assert.deepEqual(probes, [])
    assert.equal((await service().get('pair'))?.messages, 5)
  })

  it('flushes behind in slices, without holding the event loop for all of them', async () => {
    const s = service(3000)
    s.start()
    for (let i = 0; i < 2000; i++) {
      s.observe(msg(`q${i}`, `c${i}`, 'REQUEST', 'a', 'b'), false, [])
      s.observe(msg(`r${i}`, `c${i}`, 'INFORM', 'b', 'a'), false, [])
    }
    // Turns of the event loop before the flush's write: one a slice of 256 rows made.
    let turns = 0
    let ticking = true
    const tick = (): void => { if (written.length === 0) turns++; if (ticking) setImmediate(tick) }
    setImmediate(tick)
    await s.stop()
    ticking = false
    assert.ok(turns >= 7, `the rows were made in ${turns} turns`)
    assert.equal((await keys()).length, 2000)
    assert.equal((await s.get('c1999'))?.messages, 2)
  })

  it('writes a flush in batches of at most FLUSH_BATCH rows, one after the other', async () => {
    const s = service(3 * FLUSH_BATCH)
    const n = 2 * FLUSH_BATCH + 10
    for (let i = 0; i < n; i++) {
      s.observe(msg(`q${i}`, `c${i}`, 'REQUEST', 'a', 'b'), false, [])
      s.observe(msg(`r${i}`, `c${i}`, 'INFORM', 'b', 'a'), false, [])
    }
    await s.stop()
    assert.ok(written.length >= 3, `${written.length} batches`)
    assert.ok(written.every(ops => ops.length <= FLUSH_BATCH), `batches of ${written.map(ops => ops.length).join(', ')} rows`)
    assert.equal(written.flat().length, n)
    assert.equal((await keys()).length, n)
  })

  it('writes a reply awaited in a stored conversation with the message, merged with its row', async () => {
    await storedPair()
    const s = service()
    await s.load()
    s.start()
    const ops: StorageOp[] = []
    s.observe({ ...msg('q', 'pair', 'REQUEST', 'a', 'b'), replyBy: now + 5000 }, true, ops)
    assert.deepEqual(probes, ['pair'], 'read once, to write it whole')
    assert.deepEqual(ops.map(o => [o.type, o.key]), [['put', 'pair']])
    await write(ops)
    const reply: StorageOp[] = []
    s.observe({ ...msg('r', 'pair', 'INFORM', 'b', 'a'), inReplyTo: 'q' }, false, reply)
    await write(reply)
    assert.deepEqual(probes, ['pair'])
    await s.stop()
    const c = await service().get('pair')
    assert.equal(c?.messages, 4)
    assert.deepEqual(c?.awaiting, [])
  })

  it('writes a changed part it evicts merged with its stored row; drops a part of one message unwritten', async () => {
    await storedPair()
    const s = service(2)
    s.observe(msg('p3', 'pair', 'INFORM', 'a', 'b'), false, [])
    s.observe(msg('p4', 'pair', 'INFORM', 'b', 'a'), false, [])
    s.observe(msg('x1', 'x', 'INFORM', 'a', 'b'), false, [])
    const ops: StorageOp[] = []
    s.observe(msg('y1', 'y', 'INFORM', 'a', 'b'), false, ops)
    assert.deepEqual(ops.map(o => [o.type, o.key]), [['put', 'pair']])
    await write(ops)
    assert.equal((await s.get('pair'))?.messages, 4)
    s.observe(msg('z1', 'z', 'INFORM', 'a', 'b'), false, ops)
    assert.equal(ops.length, 1, 'x (one message) left memory unwritten')
    assert.equal(await s.get('x'), undefined)
  })

  it('forgets an idle part without a write; its stored row then answers as forgotten', async () => {
    await storedPair()
    const s = service()
    s.observe(msg('p3', 'pair', 'INFORM', 'a', 'b'), false, [])
    assert.equal((await s.get('pair'))?.messages, 3)
    now += 60_001
    s.start()
    await s.stop()
    assert.deepEqual(written, [], 'no delete: the sweep collects a row idle on disk')
    assert.equal(await s.get('pair'), undefined)
  })
})
