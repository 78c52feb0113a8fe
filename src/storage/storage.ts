import { mkdir } from 'node:fs/promises'
import type { AbstractSublevel } from 'abstract-level'
import { Level } from 'level'
import { StorageOpenError } from './errors.js'

/** Version of the on-disk layout; bumped when a sublevel's encoding changes. */
export const SCHEMA_VERSION = 1

type Root = Level<string, Uint8Array>
/** A sublevel of the node's database: string keys, byte values (`get` resolves undefined for a missing key). */
export type Sublevel = AbstractSublevel<Root, string | Buffer | Uint8Array, string, Uint8Array>

/**
 * The node's one LevelDB (DESIGN.md "State on disk"), split into sublevels. Values are
 * bytes; each owner encodes its own records (msgpack).
 */
export interface NodeStorage {
  readonly dataDir: string
  readonly db: Root
  /** The node's libp2p private key, so its PeerId is stable across restarts. */
  readonly identity: Sublevel
  /** Deployed agents: id → record (module hash, limits, deployed-at). */
  readonly agents: Sublevel
  /** Agent modules by sha256: hash → bytes (shared by agents with the same module). */
  readonly modules: Sublevel
  /** Schema version and node-wide facts. */
  readonly meta: Sublevel
  /** A sublevel by name, for components that bring their own (registry, outbox, ...). */
  sublevel: (name: string) => Sublevel
  close: () => Promise<void>
}

/**
 * Opens (creating if needed) the node's database under `dataDir`.
 * @throws StorageOpenError when the folder is locked by another process, unreadable, or
 *   was written by a newer schema version.
 */
export async function openStorage (dataDir: string): Promise<NodeStorage> {
  try {
    await mkdir(dataDir, { recursive: true })
  } catch (err) {
    throw new StorageOpenError(dataDir, (err as Error).message, { cause: err })
  }
  const db: Root = new Level<string, Uint8Array>(dataDir, { valueEncoding: 'view' })
  try {
    await db.open()
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    const reason = cause?.code === 'LEVEL_LOCKED'
      ? 'it is locked: another Caxton node is using this data folder (give each node its own --data)'
      : (err as Error).message
    throw new StorageOpenError(dataDir, reason, { cause: err })
  }
  const sub = (name: string): Sublevel => db.sublevel<string, Uint8Array>(name, { valueEncoding: 'view' })
  const meta = sub('meta')
  const stored = await meta.get('schemaVersion') as Uint8Array | undefined
  if (stored == null) {
    await meta.put('schemaVersion', Uint8Array.of(SCHEMA_VERSION))
  } else if (stored[0] > SCHEMA_VERSION) {
    await db.close()
    throw new StorageOpenError(dataDir, `it was written by a newer Caxton (schema ${stored[0]}, this one reads ${SCHEMA_VERSION})`)
  }
  return {
    dataDir,
    db,
    identity: sub('identity'),
    agents: sub('agents'),
    modules: sub('modules'),
    meta,
    sublevel: sub,
    close: async () => { await db.close() }
  }
}
