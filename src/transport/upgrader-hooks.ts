/**
 * Hooks around libp2p's connection upgrade (the encryption and muxer handshakes), for a
 * transport: its dials and its listeners hand their new connections to an upgrader whose
 * `upgradeOutbound` / `upgradeInbound` are wrapped. Used by fewer-writes.ts (corked
 * sockets) and pending-limit.ts (handshakes per host).
 */
import type { MultiaddrConnection, Transport, Upgrader } from '@libp2p/interface'

/** One side's upgrade: resolves once the connection is upgraded (a `Connection` outbound). */
export type Upgrade = (maConn: MultiaddrConnection, opts: unknown) => Promise<unknown>

export interface UpgraderHooks {
  /** Wraps the upgrade of a connection a listener accepted. */
  inbound?: (upgrade: Upgrade) => Upgrade
  /** Wraps the upgrade of a connection a dial opened. */
  outbound?: (upgrade: Upgrade) => Upgrade
}

/**
 * Makes `transport` upgrade through `hooks`: dials with `hooks.outbound`, listeners with
 * `hooks.inbound`; a side without a hook is left as it is.
 * @returns the same transport
 */
export function withUpgraderHooks<T extends Transport> (transport: T, hooks: UpgraderHooks): T {
  if (hooks.outbound !== undefined) {
    const dial = transport.dial.bind(transport)
    transport.dial = async (ma, options) => await dial(ma, { ...options, upgrader: hooked(options.upgrader, hooks) })
  }
  if (hooks.inbound !== undefined) {
    const createListener = transport.createListener.bind(transport)
    transport.createListener = (options) => createListener({ ...options, upgrader: hooked(options.upgrader, hooks) })
  }
  return transport
}

function hooked (upgrader: Upgrader, hooks: UpgraderHooks): Upgrader {
  return new Proxy(upgrader, {
    get (target, property) {
      const hook = property === 'upgradeInbound' ? hooks.inbound : property === 'upgradeOutbound' ? hooks.outbound : undefined
      if (hook !== undefined) return hook((target[property as 'upgradeInbound'] as Upgrade).bind(target))
      const value: unknown = Reflect.get(target, property)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
}
