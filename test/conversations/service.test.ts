import assert from 'node:assert/strict'
import { DEFAULT_ACL_LIMITS, type AclMessage } from '../../protocols/fipa/index.js'
import { ConversationService } from '../../src/conversations/index.js'
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
  const service = (): ConversationService => new ConversationService({
    rows,
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

  beforeEach(async () => {
    rows = memoryRows()('conversations')
    await rows.open()
    written = []
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
})
