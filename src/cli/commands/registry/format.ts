/**
 * Shared rendering of registry entries for `caxton registry list|find|show`.
 */
import type { RegisteredAgentJson } from '../../../api/types.js'
import type { Output } from '../../output.js'
import { formatDuration } from '../../output.js'

/** `12D3KooWAbCd…xYz123`: enough of a PeerId to tell nodes apart in a table. */
export function shortPeer (peerId: string): string {
  return peerId.length > 20 ? `${peerId.slice(0, 12)}…${peerId.slice(-6)}` : peerId
}

/** `echo@1.0.0, ping` (a dash when none). */
export function capabilityList (a: RegisteredAgentJson): string {
  return a.capabilities.length === 0 ? '-' : a.capabilities.map(c => c.version === undefined ? c.name : `${c.name}@${c.version}`).join(', ')
}

/** The registry table: one row per agent. */
export function agentTable (out: Output, agents: RegisteredAgentJson[], now: number): void {
  out.table(
    ['id', 'node', 'status', 'capabilities', 'updated'],
    agents.map(a => [
      a.id,
      shortPeer(a.node) + (a.local ? ' (this node)' : ''),
      out.state(a.status),
      capabilityList(a),
      `${formatDuration(now - a.updatedAt)} ago`
    ])
  )
}
