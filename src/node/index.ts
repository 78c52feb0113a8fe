/**
 * A Caxton node: the composition root that wires storage, libp2p, the agent runtime,
 * the router, agent resolution and the REST API.
 *
 * @example
 * ```ts
 * import { loadConfig } from '../config/index.js'
 * import { startNode } from './node/index.js'
 * const node = await startNode(loadConfig({ flags: { name: 'n1' } }), { logger })
 * console.log(node.info().multiaddrs)
 * await node.stop()
 * ```
 */
export { CaxtonNode, startNode, type StartNodeOptions } from './node.js'
export { AgentIdTakenError, NotReadyError } from './errors.js'
