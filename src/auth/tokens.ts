/**
 * The REST API's bearer tokens, kept in the node's LevelDB (sublevel `tokens`) as
 * SHA-256 hashes: the token itself is shown once, when it is created, and never stored.
 *
 * A token is `cxt_<id>_<secret>`: `id` is 12 hex digits (the row's key, shown in lists
 * and the audit log), `secret` 32 random bytes in base64url. A plain SHA-256 is enough
 * (no slow password hash): 256 random bits cannot be guessed, so the hash only has to
 * keep a stolen copy of the database from yielding usable tokens.
 */
import { hash, randomBytes as cryptoRandomBytes, timingSafeEqual } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { Packr } from 'msgpackr'
import type { Sublevel } from '../storage/index.js'
import { InvalidTokenRequestError, TokenNotFoundError, type AuthFailureReason } from './errors.js'
import { isRole, type Role } from './roles.js'

const packr = new Packr({ useRecords: false, mapsAsObjects: true })

const TOKEN_PATTERN = /^cxt_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/

/** A token's name: 1-64 letters, digits, `.`, `_`, `-`, `@`, starting with a letter or digit. */
export const TOKEN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/

/** Longest lifetime a token may be given, ms (10 years). */
export const MAX_TOKEN_TTL_MS = 10 * 365 * 86_400_000

/** Shortest lifetime, ms. */
export const MIN_TOKEN_TTL_MS = 1000

/** Tokens kept as verified (see {@link TokenStore.verify}), least recently used dropped first. */
export const VERIFIED_TOKENS_CACHED = 1024

/** Who a valid token says the caller is. */
export interface Principal {
  /** The token's id (12 hex digits). */
  id: string
  name: string
  role: Role
}

/** A token as lists show it: never the token or its hash. */
export interface TokenInfo extends Principal {
  /** ms since the epoch. */
  createdAt: number
  /** ms since the epoch; absent: never expires. */
  expiresAt?: number
  /** ms since the epoch, once revoked. */
  revokedAt?: number
  /** Id of the token that created it (absent for the node's bootstrap admin token). */
  createdBy?: string
}

/** The stored row: {@link TokenInfo} plus the SHA-256 of the token. */
interface TokenRow extends TokenInfo {
  hash: Uint8Array
}

export type Verification = { ok: true, principal: Principal } | { ok: false, reason: AuthFailureReason, id?: string }

export interface TokenStoreOptions {
  /** ms since the epoch. @default Date.now */
  now?: () => number
  /** @default node:crypto randomBytes */
  randomBytes?: (n: number) => Uint8Array
}

export interface CreateTokenRequest {
  name: string
  role: Role
  /** Lifetime, ms ({@link MIN_TOKEN_TTL_MS}..{@link MAX_TOKEN_TTL_MS}); absent: no expiry. */
  ttlMs?: number
  /** Id of the token that asks. */
  createdBy?: string
}

/**
 * Every token of the node, held in memory (a verification is a hash and a map lookup)
 * and written through to its sublevel. The last {@link VERIFIED_TOKENS_CACHED} tokens
 * that verified are remembered, so that a caller's next request skips the SHA-256;
 * revocation and expiry are checked on every call all the same.
 *
 * @example
 * ```ts
 * const tokens = await TokenStore.open(storage.sublevel('tokens'))
 * const { token } = await tokens.create({ name: 'ci', role: 'deployer', ttlMs: 86_400_000 })
 * tokens.verify(token)   // { ok: true, principal: { id, name: 'ci', role: 'deployer' } }
 * ```
 */
export class TokenStore {
  private readonly rows: Sublevel
  private readonly byId = new Map<string, TokenRow>()
  /** Token → the row it matched and the principal it names (see the class's note). */
  private readonly verified = new LRUCache<string, { row: TokenRow, principal: Principal }>({ max: VERIFIED_TOKENS_CACHED })
  private readonly now: () => number
  private readonly randomBytes: (n: number) => Uint8Array

  private constructor (rows: Sublevel, options: TokenStoreOptions) {
    this.rows = rows
    this.now = options.now ?? Date.now
    this.randomBytes = options.randomBytes ?? ((n) => cryptoRandomBytes(n))
  }

  /** Loads every stored token. @throws the database's error */
  static async open (rows: Sublevel, options: TokenStoreOptions = {}): Promise<TokenStore> {
    const store = new TokenStore(rows, options)
    for await (const [id, value] of rows.iterator()) {
      const row = packr.unpack(value) as TokenRow
      store.byId.set(id, { ...row, hash: new Uint8Array(row.hash) })
    }
    return store
  }

  /**
   * Checks a token (the text after `Bearer `). Constant-time in the secret's bytes.
   * @returns the principal, or why it is refused (`malformed`, `unknown`, `expired`, `revoked`)
   */
  verify (token: string): Verification {
    let known = this.verified.get(token)
    // A remembered token stands for the row it matched only while that row is the live
    // one: revoke() replaces the row, so a revoked token is checked from scratch below.
    if (known !== undefined && this.byId.get(known.principal.id) !== known.row) {
      this.verified.delete(token)
      known = undefined
    }
    let row: TokenRow
    let principal: Principal
    if (known !== undefined) {
      ({ row, principal } = known)
    } else {
      const m = TOKEN_PATTERN.exec(token)
      if (m === null) return { ok: false, reason: 'malformed' }
      const id = m[1]
      const found = this.byId.get(id)
      if (found === undefined || !timingSafeEqual(sha256(token), found.hash)) return { ok: false, reason: 'unknown', id }
      row = found
      principal = { id, name: row.name, role: row.role }
    }
    if (row.revokedAt !== undefined || (row.expiresAt !== undefined && row.expiresAt <= this.now())) {
      this.verified.delete(token)
      return { ok: false, reason: row.revokedAt !== undefined ? 'revoked' : 'expired', id: principal.id }
    }
    // Saves 0.7 µs per request (the hash, Node 20.20 on this project's machine): 3% of
    // the API's CPU on `POST /agents/:id/messages` (docs/performance.md, "REST").
    if (known === undefined) this.verified.set(token, { row, principal })
    return { ok: true, principal: { ...principal } }
  }

  /**
   * Creates a token; the returned `token` is the only copy.
   * @throws InvalidTokenRequestError for a bad name, role or ttl
   */
  async create (req: CreateTokenRequest): Promise<{ token: string, info: TokenInfo }> {
    if (typeof req.name !== 'string' || !TOKEN_NAME_PATTERN.test(req.name)) {
      throw new InvalidTokenRequestError('name', 'must be 1-64 letters, digits, ".", "_", "-" or "@", starting with a letter or digit')
    }
    if (!isRole(req.role)) throw new InvalidTokenRequestError('role', 'must be admin, deployer, sender or reader')
    if (req.ttlMs !== undefined && (!Number.isSafeInteger(req.ttlMs) || req.ttlMs < MIN_TOKEN_TTL_MS || req.ttlMs > MAX_TOKEN_TTL_MS)) {
      throw new InvalidTokenRequestError('ttlMs', `must be a whole number of ms from ${MIN_TOKEN_TTL_MS} to ${MAX_TOKEN_TTL_MS}`)
    }
    let id: string
    do id = Buffer.from(this.randomBytes(6)).toString('hex')
    while (this.byId.has(id))
    const token = `cxt_${id}_${Buffer.from(this.randomBytes(32)).toString('base64url')}`
    const createdAt = this.now()
    const row: TokenRow = { id, name: req.name, role: req.role, createdAt, hash: sha256(token) }
    if (req.ttlMs !== undefined) row.expiresAt = createdAt + req.ttlMs
    if (req.createdBy !== undefined) row.createdBy = req.createdBy
    await this.rows.put(id, packr.pack(row))
    this.byId.set(id, row)
    return { token, info: infoOf(row) }
  }

  /** Every token, revoked and expired ones too, oldest first. */
  list (): TokenInfo[] {
    return [...this.byId.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id)).map(infoOf)
  }

  /** @throws TokenNotFoundError */
  get (id: string): TokenInfo {
    const row = this.byId.get(id)
    if (row === undefined) throw new TokenNotFoundError(id)
    return infoOf(row)
  }

  /**
   * Revokes a token: it is refused from now on, and stays listed. Revoking a revoked
   * token changes nothing.
   * @throws TokenNotFoundError
   */
  async revoke (id: string): Promise<TokenInfo> {
    const row = this.byId.get(id)
    if (row === undefined) throw new TokenNotFoundError(id)
    if (row.revokedAt !== undefined) return infoOf(row)
    const revoked: TokenRow = { ...row, revokedAt: this.now() }
    await this.rows.put(id, packr.pack(revoked))
    this.byId.set(id, revoked)
    return infoOf(revoked)
  }
}

function sha256 (text: string): Buffer {
  // One call instead of a Hash object's create/update/digest: 0.7 µs against 1.9 µs per
  // token checked (Node 20.20, this project's 2-core machine); every request pays it.
  return hash('sha256', text, 'buffer')
}

function infoOf (row: TokenRow): TokenInfo {
  const { hash: _hash, ...info } = row
  return info
}
