/**
 * A bound on the inbound connections one host may hold in their handshake at a time.
 *
 * libp2p refuses every new inbound connection while `maxIncomingPendingConnections` of
 * them are being upgraded (its default: 10), and an upgrade waits for the other side up
 * to `inboundUpgradeTimeout` (10 s). The private network's handshake (the cluster key) is
 * part of the upgrade, so no key is needed to take those places: twelve TCP connections
 * to a node's port that sent nothing kept out every member that dialled it (libp2p 3.3;
 * test/transport/pending-limit.test.ts shows the bound holding). So each host (an IPv4
 * address, an IPv6 /64 prefix) may hold at most {@link INBOUND_PENDING_PER_HOST} connections
 * in their upgrade; a connection over that is closed at once, before libp2p counts it; and
 * the node-wide cap (`INBOUND_PENDING_TOTAL`, create.ts) is far above one host's share.
 * Connections that finished their upgrade are not counted.
 *
 * What it does not stop: a peer with many addresses (many machines, IPv4 addresses or IPv6
 * /64 prefixes) can still fill the node-wide cap.
 */
import { getNetConfig } from '@libp2p/utils'
import ipaddr from 'ipaddr.js'
import type { MultiaddrConnection, Transport } from '@libp2p/interface'
import { TooManyPendingError } from './errors.js'
import { withUpgraderHooks, type Upgrade } from './upgrader-hooks.js'

/** Inbound connections one host may hold in their upgrade (handshakes) at a time. */
export const INBOUND_PENDING_PER_HOST = 32

/** Counts the connections in their upgrade by host. */
export class PendingByHost {
  private readonly pending = new Map<string, number>()

  /** @param perHost connections one host may have pending */
  constructor (private readonly perHost: number) {}

  /** Counts one more for `host`; false (and nothing counted) when it already has `perHost`. */
  tryAcquire (host: string): boolean {
    const n = this.pending.get(host) ?? 0
    if (n >= this.perHost) return false
    this.pending.set(host, n + 1)
    return true
  }

  /** One of `host`'s ended its upgrade (upgraded, failed or timed out). */
  release (host: string): void {
    const n = (this.pending.get(host) ?? 0) - 1
    if (n <= 0) this.pending.delete(host)
    else this.pending.set(host, n)
  }

  /** Connections `host` has pending now. */
  count (host: string): number {
    return this.pending.get(host) ?? 0
  }
}

/**
 * Whom a connection is counted against: its IPv4 address, or the /64 prefix of its IPv6
 * address (`2001:db8:0:1::/64`: one site, which can use any address in it); an IPv4 address
 * mapped into IPv6 counts as the IPv4 address. Undefined for an address without an IP.
 */
export function remoteHost (maConn: MultiaddrConnection): string | undefined {
  try {
    const net = getNetConfig(maConn.remoteAddr)
    return net.type === 'ip4' || net.type === 'ip6' ? hostKey(net.host) : undefined
  } catch {
    return undefined
  }
}

/**
 * {@link remoteHost} for an address string: `1.2.3.4`, or an IPv6 address's /64 prefix.
 * @throws Error when `address` is not an IP address
 */
export function hostKey (address: string): string {
  const ip = ipaddr.process(address)
  if (ip.kind() === 'ipv4') return ip.toString()
  return `${(ip as ipaddr.IPv6).parts.slice(0, 4).map(p => p.toString(16)).join(':')}::/64`
}

/** Told of each connection closed over its host's bound: the host (IP address) and why. */
export type RefusedConnectionSink = (host: string, reason: string) => void

/**
 * Makes `transport`'s listeners close an inbound connection at once when its host already
 * has `perHost` in their upgrade (see the module comment), telling `onRefused`. Dials are
 * left as they are.
 * @returns the same transport
 */
export function withPendingLimit<T extends Transport> (transport: T, perHost = INBOUND_PENDING_PER_HOST, onRefused?: RefusedConnectionSink): T {
  const pending = new PendingByHost(perHost)
  return withUpgraderHooks(transport, {
    inbound: (upgrade: Upgrade): Upgrade => async (maConn, opts) => {
      const host = remoteHost(maConn)
      if (host === undefined) return await upgrade(maConn, opts)
      // The listener aborts the connection when this throws.
      if (!pending.tryAcquire(host)) {
        const err = new TooManyPendingError(host, perHost)
        onRefused?.(host, err.message)
        throw err
      }
      try {
        return await upgrade(maConn, opts)
      } finally {
        pending.release(host)
      }
    }
  })
}
