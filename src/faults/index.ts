/**
 * Self-inflicted network faults for tests and chaos scripts: partition this node from
 * some peers or from everyone, then heal. Only on a node started with `--enable-faults`
 * (REST: `GET /faults`, `POST /faults/partition`, `POST /faults/heal`).
 *
 * @example
 * ```ts
 * const faults = new FaultInjector({ logger })
 * const libp2p = await createTransport({ ..., connectionGater: faults.gater })
 * faults.attach(libp2p)
 * await faults.partition()                    // isolated: every connection closed, none accepted
 * await faults.partition({ peers: [peerId] }) // or just from one peer
 * await faults.heal()                         // gate lifted, cut peers redialled
 * ```
 */
export { FaultInjector, isLoopbackHost, type FaultState, type FaultRequest, type FaultLibp2p } from './injector.js'
export { FaultInjectionRefusedError, InvalidFaultRequestError, FAULT_ERROR_STATUS } from './errors.js'
