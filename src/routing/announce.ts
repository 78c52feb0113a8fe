/**
 * The agent announcement carried on gossipsub topic `caxton/agents/1`: a node's full list
 * of hosted agents with a sequence number, so a newer announcement from the same node
 * replaces an older one and a missed one is repaired by the next. (Interim: the CRDT
 * registry of issue 4, on `caxton/registry/1`, supersedes it.)
 */
import { Packr } from 'msgpackr'

export const AGENTS_TOPIC = 'caxton/agents/1'

export interface AgentAnnouncement {
  /** Format version. */
  v: 1
  /** Announcing node's PeerId. */
  peer: string
  /** Increases with every announcement of that node (ms since the epoch at the sender). */
  seq: number
  agents: string[]
}

const packr = new Packr({ useRecords: false })

export function encodeAnnouncement (a: AgentAnnouncement): Uint8Array {
  return packr.pack(a)
}

/** @returns the announcement, or undefined when the bytes are not one (never throws). */
export function decodeAnnouncement (bytes: Uint8Array): AgentAnnouncement | undefined {
  let v: unknown
  try {
    v = packr.unpack(bytes)
  } catch {
    return undefined
  }
  const a = v as Partial<AgentAnnouncement>
  if (a == null || a.v !== 1 || typeof a.peer !== 'string' || typeof a.seq !== 'number' ||
    !Array.isArray(a.agents) || !a.agents.every(x => typeof x === 'string')) return undefined
  return a as AgentAnnouncement
}
