/**
 * The yellow pages (the Directory Facilitator of FIPA SC00023K, "Agent Management
 * Specification"): capability name → agents offering it, and node → agents it hosts,
 * kept in step with the visible registry so a lookup is a hash-map read, O(matches).
 */
import type { AgentId, Capability, NodeId } from './types.js'

export class CapabilityIndex {
  private readonly byCapability = new Map<string, Set<AgentId>>()
  private readonly byNode = new Map<NodeId, Set<AgentId>>()

  /** Records an agent's capabilities and host (replacing `before`'s, when given). */
  update (agentId: AgentId, before: { node: NodeId, capabilities: readonly Capability[] } | undefined, after: { node: NodeId, capabilities: readonly Capability[] } | undefined): void {
    if (before !== undefined) {
      for (const c of before.capabilities) remove(this.byCapability, c.name, agentId)
      remove(this.byNode, before.node, agentId)
    }
    if (after !== undefined) {
      for (const c of after.capabilities) add(this.byCapability, c.name, agentId)
      add(this.byNode, after.node, agentId)
    }
  }

  /** Agents offering a capability of this exact name (live set; do not mutate). */
  withCapability (name: string): ReadonlySet<AgentId> {
    return this.byCapability.get(name) ?? EMPTY
  }

  /** Agents hosted by `node` (live set; do not mutate). */
  onNode (node: NodeId): ReadonlySet<AgentId> {
    return this.byNode.get(node) ?? EMPTY
  }

  /** Every capability name offered by at least one agent. */
  capabilityNames (): string[] {
    return [...this.byCapability.keys()].sort()
  }

  /** Every node hosting at least one agent. */
  nodes (): NodeId[] {
    return [...this.byNode.keys()].sort()
  }
}

const EMPTY: ReadonlySet<AgentId> = new Set()

function add (map: Map<string, Set<AgentId>>, key: string, id: AgentId): void {
  let set = map.get(key)
  if (set === undefined) {
    set = new Set()
    map.set(key, set)
  }
  set.add(id)
}

function remove (map: Map<string, Set<AgentId>>, key: string, id: AgentId): void {
  const set = map.get(key)
  if (set === undefined) return
  set.delete(id)
  if (set.size === 0) map.delete(key)
}
