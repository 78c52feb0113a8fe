import { CaxtonError } from '../../protocols/errors.js'

/**
 * The cluster key (a libp2p private-network pre-shared key) cannot be used: the file is
 * missing or unreadable, or its content is not the three-line format `caxton cluster
 * keygen` prints. The node does not start.
 */
export class ClusterKeyError extends CaxtonError {
  /** Where the key was read from (a file path). */
  readonly source: string

  constructor (source: string, reason: string, options?: { cause?: unknown }) {
    super('CLUSTER_KEY_INVALID', `cannot use the cluster key in ${source}: ${reason}`, options)
    this.name = 'ClusterKeyError'
    this.source = source
  }
}

/** An entry of the allow-list (`cluster.allowPeers`) is not a peer id. The node does not start. */
export class AllowListError extends CaxtonError {
  readonly peer: string

  constructor (peer: string, options?: { cause?: unknown }) {
    super('ALLOW_LIST_INVALID', `cluster.allowPeers: ${JSON.stringify(peer)} is not a peer id`, options)
    this.name = 'AllowListError'
    this.peer = peer
  }
}

/**
 * An inbound connection was closed before its handshake because its host already had as
 * many in their handshake as one host may (src/transport/pending-limit.ts). Thrown into
 * libp2p's upgrade, which logs it and closes the connection; the node goes on.
 */
export class TooManyPendingError extends CaxtonError {
  /** The remote host (IP address). */
  readonly host: string

  constructor (host: string, perHost: number) {
    super('TOO_MANY_PENDING', `host ${host} already has ${perHost} connections in their handshake`)
    this.name = 'TooManyPendingError'
    this.host = host
  }
}
