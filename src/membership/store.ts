/**
 * The member table a node remembers across restarts, in its LevelDB (sublevel
 * `membership`): the members it knew, so that a restarted node rejoins them without an
 * operator (protocols/swim/SPEC.md §7, "known peers persisted"), and its own last
 * incarnation, so that it comes back above its old death instead of first refuting it.
 *
 * Rows (msgpack): `self` → `{ incarnation }`; `members` → `[[state, id, incarnation, [addr…]], …]`
 * with state 0 alive, 1 suspect, 2 dead, 3 left (the wire order of protocols/swim).
 */
import { Packr } from 'msgpackr'
import { MEMBER_STATES, type MemberRecord } from '../../protocols/swim/index.js'
import { StorageCorruptError } from '../storage/errors.js'
import type { NodeStorage, Sublevel } from '../storage/storage.js'

/** Name of the node's sublevel holding the member table. */
export const MEMBERSHIP_SUBLEVEL = 'membership'

/** What a node persists about membership. */
export interface MembershipSnapshot {
  /** This node's incarnation when the snapshot was taken. */
  incarnation: number
  /** Every other member it knew, in any state. */
  members: MemberRecord[]
}

/** Where membership persists its table. */
export interface MemberStore {
  /**
   * The last snapshot saved, or undefined if none.
   * @throws StorageCorruptError when what is stored does not decode
   */
  load: () => Promise<MembershipSnapshot | undefined>
  /** Replaces the stored snapshot. @throws LevelDB's error */
  save: (snapshot: MembershipSnapshot) => Promise<void>
}

const packr = new Packr({ useRecords: false })
const SELF = 'self'
const MEMBERS = 'members'

export class LevelMemberStore implements MemberStore {
  private readonly rows: Sublevel

  constructor (storage: Pick<NodeStorage, 'sublevel'>) {
    this.rows = storage.sublevel(MEMBERSHIP_SUBLEVEL)
  }

  async load (): Promise<MembershipSnapshot | undefined> {
    const [self, members] = await this.rows.getMany([SELF, MEMBERS])
    if (self === undefined && members === undefined) return undefined
    return {
      incarnation: self === undefined ? 0 : decodeSelf(self),
      members: members === undefined ? [] : decodeMembers(members)
    }
  }

  async save (snapshot: MembershipSnapshot): Promise<void> {
    const rows = snapshot.members.map(m => [MEMBER_STATES.indexOf(m.state), m.id, m.incarnation, [...m.addrs]])
    await this.rows.batch([
      { type: 'put', key: SELF, value: packr.pack({ incarnation: snapshot.incarnation }) },
      { type: 'put', key: MEMBERS, value: packr.pack(rows) }
    ])
  }
}

function unpack (key: string, bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes)
  } catch (err) {
    throw new StorageCorruptError(`${MEMBERSHIP_SUBLEVEL}/${key}`, (err as Error).message)
  }
}

function decodeSelf (bytes: Uint8Array): number {
  const value = unpack(SELF, bytes) as { incarnation?: unknown } | null
  const incarnation = value?.incarnation
  if (typeof incarnation !== 'number' || !Number.isSafeInteger(incarnation) || incarnation < 0) {
    throw new StorageCorruptError(`${MEMBERSHIP_SUBLEVEL}/${SELF}`, 'incarnation is not a non-negative integer')
  }
  return incarnation
}

function decodeMembers (bytes: Uint8Array): MemberRecord[] {
  const rows = unpack(MEMBERS, bytes)
  if (!Array.isArray(rows)) throw new StorageCorruptError(`${MEMBERSHIP_SUBLEVEL}/${MEMBERS}`, 'expected an array of members')
  return rows.map((row: unknown, i): MemberRecord => {
    const bad = (why: string): StorageCorruptError => new StorageCorruptError(`${MEMBERSHIP_SUBLEVEL}/${MEMBERS}[${i}]`, why)
    if (!Array.isArray(row) || row.length !== 4) throw bad('expected [state, id, incarnation, addrs]')
    const [state, id, incarnation, addrs] = row as unknown[]
    if (typeof state !== 'number' || MEMBER_STATES[state] === undefined) throw bad(`unknown state ${String(state)}`)
    if (typeof id !== 'string' || id.length === 0 || id.length > 256) throw bad('expected a member id')
    if (typeof incarnation !== 'number' || !Number.isSafeInteger(incarnation) || incarnation < 0) throw bad('expected a non-negative incarnation')
    if (!Array.isArray(addrs) || addrs.length > 32 || !addrs.every(a => typeof a === 'string' && a.length <= 1024)) throw bad('expected at most 32 addresses')
    return { id, state: MEMBER_STATES[state], incarnation, addrs: addrs as string[] }
  })
}
