/**
 * Who may speak for whom (protocols/delivery/SPEC.md §5): a node delivers only messages
 * whose sender it hosts, or one of its own API clients, or its AMS. An API client's id
 * carries the tag of its node, so that any node can tell whose client it is.
 */

/** The tag of a node in its API clients' ids: the last 8 characters of its PeerId (base58). */
export function clientTag (peerId: string): string {
  return peerId.slice(-8)
}

/** Characters of an API client id's random part (lower-case hex). */
export const CLIENT_ID_RANDOM_CHARS = 8

/** What every API client id of the node with tag `tag` starts with: `client-<tag>-`. */
export function clientIdPrefix (tag: string): string {
  return `client-${tag}-`
}

/**
 * A new API client id of the node `peerId`: `client-<node tag>-<8 hex>`.
 * @param random8 {@link CLIENT_ID_RANDOM_CHARS} random lower-case hex characters
 */
export function newClientId (peerId: string, random8: string): string {
  return clientIdPrefix(clientTag(peerId)) + random8
}

/** The node tag inside an API client id, or undefined when `id` is not one. */
export function clientTagIn (id: string): string | undefined {
  const m = /^client-([1-9A-HJ-NP-Za-km-z]{8})-[0-9a-f]{8}$/.exec(id)
  return m === null ? undefined : m[1]
}

/** What a receiving node knows of a sender, to judge a frame from `from`. */
export interface SenderFacts {
  /** The node the cluster registry names for the sender, if it is a registered agent. */
  registeredOn?: string
  /** The node this receiver has seen the sender write from before (an unregistered id). */
  boundTo?: string
}

/**
 * Why peer `from` may not carry a message from `sender`, or undefined when it may: the
 * sender is an agent registered on `from`, an API client of `from` (its tag), the AMS, or
 * an unregistered id not already bound to another node.
 */
export function senderProblem (sender: string, from: string, facts: SenderFacts, systemAgent: string): string | undefined {
  if (sender === systemAgent) return undefined
  if (facts.registeredOn !== undefined) {
    return facts.registeredOn === from ? undefined : `sender ${sender} is an agent of node ${facts.registeredOn}, not of node ${from}`
  }
  const tag = clientTagIn(sender)
  if (tag !== undefined) {
    return tag === clientTag(from) ? undefined : `sender ${sender} is an API client of another node than ${from}`
  }
  if (facts.boundTo !== undefined && facts.boundTo !== from) return `sender ${sender} writes from node ${facts.boundTo}, not from node ${from}`
  return undefined
}
