import type { AgentId } from '../../protocols/fipa/types.js'

/** Where the router asks which node hosts an agent (implemented by `routing/`). */
export interface AgentLocator {
  /** The hosting peer from what this node already knows (no I/O), or undefined. */
  lookup: (agentId: AgentId) => string | undefined
  /** Like `lookup`, then asks the cluster (kad-dht provider records), bounded in time. */
  resolve: (agentId: AgentId, options?: { exclude?: string }) => Promise<string | undefined>
  /** Inbound traffic showed that `agentId` (a sender) is reachable through `peer`. */
  learn: (agentId: AgentId, peer: string) => void
  /** The node the cluster registry names for `agentId` (registered agents only). */
  registeredOn: (agentId: AgentId) => string | undefined
  /** `peer` answered that it does not host `agentId`. */
  forget: (agentId: AgentId, peer: string) => void
}
