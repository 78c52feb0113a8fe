/**
 * The node's audit log: an append-only, hash-chained list of what was changed through the
 * REST API and what was refused, in the node's LevelDB (sublevel `audit`).
 *
 * Rows (docs/api.md "Audit log" has the same):
 * - key `<seq>` (16 decimal digits, from 1): the entry, msgpack of
 *   `{ seq, at, action, outcome, status?, actor?: { id, name, role }, source?, target?,
 *   request?, detail?, prev }`, where `prev` is the SHA-256 of the previous entry's stored
 *   bytes (32 zero bytes for entry 1);
 * - key `head`: `{ seq, hash }` of the last entry, written in the same batch, so that
 *   entries removed from the end, or a changed last entry, are noticed too.
 *
 * Changing or removing an entry breaks the chain at that entry; {@link AuditLog.verify}
 * names the first break. Someone who can write the database can of course rewrite the
 * whole chain from the changed entry on: compare the head hash (`caxton audit verify`
 * prints it) with a copy kept elsewhere to notice that.
 */
import { createHash } from 'node:crypto'
import { Packr } from 'msgpackr'
import type { Sublevel } from '../storage/index.js'

const packr = new Packr({ useRecords: false, mapsAsObjects: true })

const HEAD_KEY = 'head'
const SEQ_DIGITS = 16
const GENESIS = new Uint8Array(32)
/** Longest `detail`, characters (longer ones are cut). */
export const MAX_DETAIL_CHARS = 1000
/** Longest `target`, `source` and `request`, characters. */
const MAX_FIELD_CHARS = 256

/** `ok`: done; `failed`: asked for by a permitted caller, but it failed; `refused`: not permitted (401/403, a rejected peer frame). */
export type AuditOutcome = 'ok' | 'failed' | 'refused'

/** What a caller records. */
export interface AuditInput {
  /** What was done or tried, `<noun>.<verb>`: `agent.deploy`, `token.revoke`, `auth.refused`, ... */
  action: string
  outcome: AuditOutcome
  /** HTTP status answered, when the entry is about a request. */
  status?: number
  /** Who asked: the token's id, name and role. */
  actor?: { id: string, name: string, role: string }
  /** Where from: the client's address, or a peer id. */
  source?: string
  /** What it was about: an agent id, a token id, a dead letter's id. */
  target?: string
  /** `METHOD /path?query` of the request. */
  request?: string
  /** Anything else worth knowing (an error code, a reason); cut to {@link MAX_DETAIL_CHARS}. */
  detail?: string
}

/** A stored entry. */
export interface AuditEntry extends AuditInput {
  /** Position in the log, from 1, without gaps. */
  seq: number
  /** ms since the epoch. */
  at: number
  /** SHA-256 of the previous entry's stored bytes. */
  prev: Uint8Array
}

/** An entry as the REST API shows it: hashes in hex, and the entry's own hash. */
export type AuditEntryJson = Omit<AuditEntry, 'prev'> & { prev: string, hash: string }

export interface AuditHead {
  /** Seq of the last entry (0: empty log). */
  seq: number
  /** Hex SHA-256 of the last entry's stored bytes (64 zeros: empty log). */
  hash: string
}

/** The result of {@link AuditLog.verify}. */
export interface AuditVerification {
  ok: boolean
  /** Entries read. */
  entries: number
  head: AuditHead
  /** The first broken link: the entry that was changed or is missing, and why that is known. */
  broken?: { seq: number, reason: string }
}

export interface AuditLogOptions {
  /** ms since the epoch. @default Date.now */
  now?: () => number
}

/**
 * @example
 * ```ts
 * const audit = await AuditLog.open(storage.sublevel('audit'))
 * await audit.append({ action: 'agent.deploy', outcome: 'ok', status: 201, target: 'echo', actor })
 * await audit.verify()   // { ok: true, entries: 1, head: { seq: 1, hash: '…' } }
 * ```
 */
export class AuditLog {
  private readonly rows: Sublevel
  private readonly now: () => number
  private head: { seq: number, hash: Uint8Array } = { seq: 0, hash: GENESIS }
  /** Appends run one after the other, so the chain on disk follows the order of the calls. */
  private tail: Promise<unknown> = Promise.resolve()

  private constructor (rows: Sublevel, options: AuditLogOptions) {
    this.rows = rows
    this.now = options.now ?? Date.now
  }

  /** Opens the log and reads its head. @throws the database's error */
  static async open (rows: Sublevel, options: AuditLogOptions = {}): Promise<AuditLog> {
    const log = new AuditLog(rows, options)
    const head = await rows.get(HEAD_KEY) as Uint8Array | undefined
    if (head != null) {
      const { seq, hash } = packr.unpack(head) as { seq: number, hash: Uint8Array }
      log.head = { seq, hash: new Uint8Array(hash) }
    }
    return log
  }

  /**
   * Appends an entry, chained to the one before; resolves once it is written. Other
   * modules call this too (e.g. for rejected peer frames).
   * @throws the database's error (the entry is then not in the log)
   */
  async append (input: AuditInput): Promise<AuditEntry> {
    const run = this.tail.then(async () => await this.write(input))
    this.tail = run.catch(() => {})
    return await run
  }

  /** The last entry's seq and hash. */
  lastEntry (): AuditHead {
    return { seq: this.head.seq, hash: hex(this.head.hash) }
  }

  /** Entries after `after` (a seq), oldest first, at most `limit`. */
  async list (query: { after?: number, limit: number }): Promise<AuditEntryJson[]> {
    const out: AuditEntryJson[] = []
    const from = query.after ?? 0
    for await (const [, bytes] of this.rows.iterator({ gt: keyOf(from), lt: keyOf(Number.MAX_SAFE_INTEGER), limit: query.limit })) {
      out.push(toJson(packr.unpack(bytes) as AuditEntry, bytes))
    }
    return out
  }

  /** Reads the whole log and checks every link and the head. */
  async verify (): Promise<AuditVerification> {
    const stored = await this.rows.get(HEAD_KEY) as Uint8Array | undefined
    let recorded: { seq: number, hash: Uint8Array } = { seq: 0, hash: GENESIS }
    if (stored != null) {
      try {
        const h = packr.unpack(stored) as { seq: number, hash: Uint8Array }
        recorded = { seq: h.seq, hash: new Uint8Array(h.hash) }
      } catch {
        return { ok: false, entries: 0, head: this.lastEntry(), broken: { seq: 0, reason: 'the head row cannot be read' } }
      }
    }
    const head = { seq: recorded.seq, hash: hex(recorded.hash) }
    let expected = 1
    let prevHash: Uint8Array = GENESIS
    let entries = 0
    const broken = (seq: number, reason: string): AuditVerification => ({ ok: false, entries, head, broken: { seq, reason } })
    for await (const [key, bytes] of this.rows.iterator({ gte: keyOf(1), lt: keyOf(Number.MAX_SAFE_INTEGER) })) {
      const seq = Number(key)
      if (seq !== expected) return broken(expected, `entry ${expected} is missing (the next entry is ${seq})`)
      let entry: AuditEntry
      try {
        entry = packr.unpack(bytes) as AuditEntry
      } catch {
        return broken(seq, `entry ${seq} cannot be read`)
      }
      entries++
      if (entry.seq !== seq) return broken(seq, `entry ${seq} was changed: it says it is entry ${String(entry.seq)}`)
      if (!equal(entry.prev, prevHash)) {
        return seq === 1
          ? broken(1, 'entry 1 was changed: it does not start the chain')
          : broken(seq - 1, `entry ${seq - 1} was changed or replaced: entry ${seq} carries another hash of it`)
      }
      prevHash = sha256(bytes)
      expected++
    }
    const last = expected - 1
    if (recorded.seq > last) return broken(last + 1, `entries ${last + 1} to ${recorded.seq} were removed (the head records ${recorded.seq} entries)`)
    if (recorded.seq < last) return broken(recorded.seq + 1, `entries after ${recorded.seq} are not in the head: they were added outside the log`)
    if (!equal(recorded.hash, prevHash)) return broken(last, `entry ${last} was changed: its hash differs from the one the head records`)
    return { ok: true, entries, head }
  }

  private async write (input: AuditInput): Promise<AuditEntry> {
    const seq = this.head.seq + 1
    const entry = { seq, at: this.now(), ...bounded(input), prev: this.head.hash } as AuditEntry
    const bytes = packr.pack(entry)
    const hash = sha256(bytes)
    await this.rows.batch([
      { type: 'put', key: keyOf(seq), value: bytes },
      { type: 'put', key: HEAD_KEY, value: packr.pack({ seq, hash }) }
    ])
    this.head = { seq, hash }
    return entry
  }
}

/** The input with its fields in a fixed order, undefined ones left out, long strings cut. */
function bounded (input: AuditInput): AuditInput {
  const out: AuditInput = { action: cut(input.action, MAX_FIELD_CHARS), outcome: input.outcome }
  if (input.status !== undefined) out.status = input.status
  if (input.actor !== undefined) out.actor = { id: input.actor.id, name: input.actor.name, role: input.actor.role }
  if (input.source !== undefined) out.source = cut(input.source, MAX_FIELD_CHARS)
  if (input.target !== undefined) out.target = cut(input.target, MAX_FIELD_CHARS)
  if (input.request !== undefined) out.request = cut(input.request, MAX_FIELD_CHARS)
  if (input.detail !== undefined) out.detail = cut(input.detail, MAX_DETAIL_CHARS)
  return out
}

function cut (text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…'
}

function keyOf (seq: number): string {
  return String(seq).padStart(SEQ_DIGITS, '0')
}

function sha256 (bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

function hex (bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

function equal (a: unknown, b: Uint8Array): boolean {
  return a instanceof Uint8Array && a.length === b.length && Buffer.compare(a, b) === 0
}

function toJson (entry: AuditEntry, bytes: Uint8Array): AuditEntryJson {
  return { ...entry, prev: hex(entry.prev), hash: hex(sha256(bytes)) }
}
