/**
 * A Caxton node: `compose.ts` wires storage, libp2p, membership, the registry, agent
 * resolution, the agent runtime, durable delivery, conversations and the router;
 * `node.ts` starts and stops them from one list and serves the REST API's facade;
 * `agents.ts` deploys, removes and restores agents.
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
export { AgentIdTakenError, AgentVersionNotFoundError, NotReadyError } from './errors.js'
