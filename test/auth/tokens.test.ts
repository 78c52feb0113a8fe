import assert from 'node:assert/strict'
import { TokenNotFoundError, TokenStore, InvalidTokenRequestError, permits, ROLES, type Requirement } from '../../src/auth/index.js'
import { memoryRows } from '../api/auth-fixture.js'

describe('auth: tokens', () => {
  let now: number
  const clock = (): number => now

  beforeEach(() => { now = 1_700_000_000_000 })

  it('verifies a token it created, names its role; the database holds only its hash', async () => {
    const rows = memoryRows()('tokens')
    const tokens = await TokenStore.open(rows, { now: clock })
    const { token, info } = await tokens.create({ name: 'ci', role: 'deployer' })
    assert.match(token, /^cxt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/)
    assert.deepEqual(tokens.verify(token), { ok: true, principal: { id: info.id, name: 'ci', role: 'deployer' } })
    for await (const [, value] of rows.iterator()) {
      const stored = Buffer.from(value).toString('latin1')
      assert.ok(!stored.includes(token.slice(17)), 'the secret is not stored')
    }
    // A second store on the same rows (a restart) knows it.
    const again = await TokenStore.open(rows, { now: clock })
    assert.equal(again.verify(token).ok, true)
  })

  it('refuses malformed, unknown (also a right id with a wrong secret), expired and revoked tokens, saying which', async () => {
    const tokens = await TokenStore.open(memoryRows()('tokens'), { now: clock })
    const { token, info } = await tokens.create({ name: 'short', role: 'reader', ttlMs: 60_000 })
    assert.deepEqual(tokens.verify('hunter2'), { ok: false, reason: 'malformed' })
    const forged = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA')
    assert.deepEqual(tokens.verify(forged), { ok: false, reason: 'unknown', id: info.id })
    assert.deepEqual(tokens.verify(`cxt_000000000000_${token.slice(17)}`), { ok: false, reason: 'unknown', id: '000000000000' })
    now += 59_999
    assert.equal(tokens.verify(token).ok, true)
    now += 1
    assert.deepEqual(tokens.verify(token), { ok: false, reason: 'expired', id: info.id })

    const other = await tokens.create({ name: 'gone', role: 'admin' })
    const revoked = await tokens.revoke(other.info.id)
    assert.equal(revoked.revokedAt, now)
    assert.deepEqual(tokens.verify(other.token), { ok: false, reason: 'revoked', id: other.info.id })
    assert.equal((await tokens.revoke(other.info.id)).revokedAt, now, 'revoking twice changes nothing')
    await assert.rejects(tokens.revoke('0123456789ab'), TokenNotFoundError)
  })

  it('refuses a token it verified before (remembered) once revoked or expired; a forged secret for its id stays unknown', async () => {
    const tokens = await TokenStore.open(memoryRows()('tokens'), { now: clock })
    const a = await tokens.create({ name: 'a', role: 'sender', ttlMs: 10_000 })
    const b = await tokens.create({ name: 'b', role: 'admin' })
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(tokens.verify(a.token), { ok: true, principal: { id: a.info.id, name: 'a', role: 'sender' } })
      assert.equal(tokens.verify(b.token).ok, true)
    }
    const forged = b.token.slice(0, -4) + (b.token.endsWith('AAAA') ? 'BBBB' : 'AAAA')
    assert.deepEqual(tokens.verify(forged), { ok: false, reason: 'unknown', id: b.info.id })

    const principal = tokens.verify(b.token)
    assert.ok(principal.ok)
    principal.principal.role = 'reader'
    assert.deepEqual(tokens.verify(b.token), { ok: true, principal: { id: b.info.id, name: 'b', role: 'admin' } }, 'a caller cannot change what is remembered')

    await tokens.revoke(b.info.id)
    assert.deepEqual(tokens.verify(b.token), { ok: false, reason: 'revoked', id: b.info.id })
    assert.deepEqual(tokens.verify(b.token), { ok: false, reason: 'revoked', id: b.info.id })

    now += 10_000
    assert.deepEqual(tokens.verify(a.token), { ok: false, reason: 'expired', id: a.info.id })
    now -= 1
    assert.equal(tokens.verify(a.token).ok, true, 'the clock is read on every call')
  })

  it('lists tokens oldest first without secrets or hashes', async () => {
    const tokens = await TokenStore.open(memoryRows()('tokens'), { now: clock })
    await tokens.create({ name: 'a', role: 'reader' })
    now += 1
    await tokens.create({ name: 'b', role: 'sender', ttlMs: 1000, createdBy: 'abcdefabcdef' })
    const list = tokens.list()
    assert.deepEqual(list.map(t => [t.name, t.role, t.expiresAt, t.createdBy]), [['a', 'reader', undefined, undefined], ['b', 'sender', now + 1000, 'abcdefabcdef']])
    for (const t of list) assert.deepEqual(Object.keys(t).filter(k => k === 'hash' || k === 'token'), [])
  })

  it('refuses a bad name, role or lifetime', async () => {
    const tokens = await TokenStore.open(memoryRows()('tokens'))
    await assert.rejects(tokens.create({ name: '', role: 'reader' }), (e: unknown) => e instanceof InvalidTokenRequestError && e.field === 'name')
    await assert.rejects(tokens.create({ name: 'x', role: 'root' as 'admin' }), (e: unknown) => e instanceof InvalidTokenRequestError && e.field === 'role')
    await assert.rejects(tokens.create({ name: 'x', role: 'reader', ttlMs: 5 }), (e: unknown) => e instanceof InvalidTokenRequestError && e.field === 'ttlMs')
    assert.deepEqual(tokens.list(), [])
  })
})

describe('auth: roles', () => {
  it('admin may do everything, reader only read; deployer and sender each add their own', () => {
    const table: Record<string, Record<Requirement, boolean>> = {
      admin: { public: true, reader: true, sender: true, deployer: true, admin: true },
      deployer: { public: true, reader: true, sender: false, deployer: true, admin: false },
      sender: { public: true, reader: true, sender: true, deployer: false, admin: false },
      reader: { public: true, reader: true, sender: false, deployer: false, admin: false }
    }
    for (const have of ROLES) {
      for (const need of ['public', ...ROLES] as Requirement[]) assert.equal(permits(have, need), table[have][need], `${have} → ${need}`)
    }
  })
})
