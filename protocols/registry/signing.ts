/**
 * Signed writes (SPEC.md §7, "Signatures"). Every version carries its writer's Ed25519
 * signature (RFC 8032) over {@link signedPayload}: the agent id and every field of the
 * version but the signature, so a signed version cannot be replayed for another agent
 * or altered. Ed25519 signatures are deterministic, so a version has one valid encoding
 * and replicas holding the same writes hash to the same digest.
 *
 * The keys stay outside this folder: the caller passes a {@link RegistrySigning} (the
 * node's libp2p key and a verifier that reads the public key out of the writer's PeerId;
 * the simulator passes a cheap stand-in). Both functions must be deterministic.
 */
import type { AgentId, NodeId, Version } from './types.js'
import { pack, recordToWire } from './wire.js'

/** Bytes of an Ed25519 signature. */
export const SIGNATURE_BYTES = 64

/** Domain separation: these bytes sign a registry version of wire version 2, nothing else. */
export const SIGNATURE_DOMAIN = 'caxton/registry/2/version'

/** How a replica signs its own writes and checks everyone's. */
export interface RegistrySigning {
  /** This replica's signature of `payload` ({@link SIGNATURE_BYTES} bytes). */
  sign: (payload: Uint8Array) => Uint8Array
  /**
   * Whether `signature` is `by`'s signature of `payload`. Returns false (never throws) for
   * a wrong signature, or a node id whose key cannot be known.
   */
  verify: (by: NodeId, payload: Uint8Array, signature: Uint8Array) => boolean
}

/** A version before it is signed. */
export type UnsignedVersion = Omit<Version, 'signature'>

/**
 * The bytes a version's signature covers: msgpack of
 * `[SIGNATURE_DOMAIN, agentId, by, seq, wall, logical, record | nil]` (record as on the wire).
 */
export function signedPayload (agentId: AgentId, v: UnsignedVersion): Uint8Array {
  return pack([SIGNATURE_DOMAIN, agentId, v.by, v.seq, v.hlc.wall, v.hlc.logical, v.record === null ? null : recordToWire(v.record)])
}
