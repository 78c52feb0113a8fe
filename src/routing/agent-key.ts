import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'

const encoder = new TextEncoder()

/**
 * The kad-dht content key under which a node provides an agent: a CIDv1 (raw codec) of
 * sha256(`caxton/agent/<id>`). Providing it says "I host this agent".
 */
export async function agentKey (agentId: string): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(encoder.encode(`caxton/agent/${agentId}`)))
}
