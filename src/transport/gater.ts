/**
 * Connection gaters (libp2p's `ConnectionGater`: consulted on every dial and every inbound
 * connection) for cluster admission, and how several are combined into the one libp2p
 * takes.
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { AllowListError } from './errors.js'

/**
 * Admits only the listed peers: dials to other peers are refused, and a connection whose
 * Noise handshake authenticates another peer is closed, whichever side opened it.
 * @param peers PeerId strings
 * @throws AllowListError for a string that is not a peer id
 */
export function allowListGater (peers: readonly string[]): ConnectionGater {
  const allowed = new Set(peers.map(p => {
    try {
      return peerIdFromString(p).toString()
    } catch (err) {
      throw new AllowListError(p, { cause: err })
    }
  }))
  const denies = (peer: PeerId): boolean => !allowed.has(peer.toString())
  return {
    denyDialPeer: denies,
    denyInboundEncryptedConnection: denies,
    denyOutboundEncryptedConnection: denies
  }
}

type GaterMethod = keyof ConnectionGater

/**
 * One gater that denies what any of `gaters` denies (`deny*`) and keeps an address only if
 * all of them keep it (`filterMultiaddrForPeer`). Undefined entries are skipped; undefined
 * when none is left.
 */
export function composeGaters (gaters: ReadonlyArray<ConnectionGater | undefined>): ConnectionGater | undefined {
  const present = gaters.filter((g): g is ConnectionGater => g !== undefined)
  if (present.length <= 1) return present[0]
  const methods = new Set(present.flatMap(g => Object.keys(g) as GaterMethod[]))
  const composed: Record<string, (...args: unknown[]) => Promise<boolean>> = {}
  for (const method of methods) {
    const keep = method === 'filterMultiaddrForPeer'
    const own = present.flatMap(g => {
      const f = g[method] as ((...args: unknown[]) => Promise<boolean> | boolean) | undefined
      return f === undefined ? [] : [f.bind(g)]
    })
    composed[method] = async (...args: unknown[]): Promise<boolean> => {
      for (const f of own) {
        const answer = await f(...args)
        // A deny ends it; so does a filter that drops the address.
        if (answer !== keep) return answer
      }
      return keep
    }
  }
  return composed as ConnectionGater
}
