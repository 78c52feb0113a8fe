/**
 * The registry's timing, defined beside the sync policy that runs on it
 * (`protocols/registry/timing.ts`). Re-exported here because the node's config module
 * imports this file directly (the registry's index would load libp2p into every CLI command).
 */
export { REGISTRY_TIMING, type RegistryTiming } from '../../protocols/registry/timing.js'
