import { chmod, mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { AbstractSublevel } from 'abstract-level'
import { Level } from 'level'
import { StorageOpenError } from './errors.js'

/** Version of the on-disk layout; bumped when a sublevel's encoding changes. */
export const SCHEMA_VERSION = 1

/** Mode of the data folder: the node's private key is in it (sublevel `identity`). */
export const DATA_DIR_MODE = 0o700
/** Mode the database's files are narrowed to when found wider (a folder from an earlier version). */
const DATA_FILE_MODE = 0o600

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
 * Opens (creating if needed) the node's database under `dataDir`. The folder is made
 * private to the node's user (0700, and so are the folders created above it) and the
 * files already in it are narrowed to 0600: the node's private key is stored there.
 * Files LevelDB creates later get the process's umask (`caxton node start` runs with
 * 077); the folder's mode keeps other users out of them either way.
 * @throws StorageOpenError when the folder cannot be created or made private, is locked
 *   by another process, unreadable, or was written by a newer schema version.
 */
export async function openStorage (dataDir: string): Promise<NodeStorage> {
  try {
    await mkdir(dataDir, { recursive: true, mode: DATA_DIR_MODE })
    await chmod(dataDir, DATA_DIR_MODE)
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
  try {
    // After open: opening replays the log into new files.
    await narrowFiles(dataDir)
  } catch (err) {
    await db.close()
    throw new StorageOpenError(dataDir, `cannot make its files private: ${(err as Error).message}`, { cause: err })
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

/** Narrows every file directly in `dir` to {@link DATA_FILE_MODE} (LevelDB keeps no sub-folders). */
async function narrowFiles (dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile()) await chmod(join(dir, entry.name), DATA_FILE_MODE)
  }
}
