/**
 * The node's embedded storage: one LevelDB per node, split into sublevels
 * (`identity`, `agents`, `modules`, `meta`, and those components open by name, e.g.
 * `metered-modules`).
 *
 * @example
 * ```ts
 * const storage = await openStorage('.caxton/n1')
 * const { privateKey } = await loadOrCreateIdentity(storage)
 * const agents = new AgentStore(storage)
 * await storage.close()
 * ```
 */
export { openStorage, SCHEMA_VERSION, DATA_DIR_MODE, type NodeStorage, type Sublevel } from './storage.js'
export { loadOrCreateIdentity } from './identity.js'
export { AgentStore, type AgentVersion, type NextVersion, type StoredAgent, type StorageOp } from './agent-store.js'
export { MeteredModuleRows } from './metered-modules.js'
export { StorageOpenError, StorageCorruptError } from './errors.js'
export { writeSecretFile, SECRET_FILE_MODE } from './secret-file.js'
