/**
 * Anti-entropy summaries (SPEC.md, "Digest"). Entries fall into `bucketCount` buckets by
 * a hash of the agent id; a bucket's hash is the XOR of its entries' hashes, so it is
 * updated in O(1) when one entry changes and does not depend on insertion order. Two
 * replicas compare bucket hashes and exchange only the entries of buckets that differ
 * (a one-level Merkle summary, as Dynamo's anti-entropy does with a tree, DeCandia et al.,
 * SOSP 2007, §4.7).
 */
import { createHash } from 'node:crypto'
import type { ContextSummary, RegistryDigest, RegistryEntry } from './types.js'
import { contextToWire, entryToWire, pack } from './wire.js'

/** Bucket of an agent id: 32-bit FNV-1a over its UTF-16 code units (ids are ASCII), mod `bucketCount`. */
export function bucketOf (agentId: string, bucketCount: number): number {
  let h = 0x811c9dc5
  for (let i = 0; i < agentId.length; i++) {
    h ^= agentId.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h % bucketCount
}

function sha256First8 (bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest().subarray(0, 8)
}

/** First 8 bytes of SHA-256 of the entry's canonical encoding, as two big-endian uint32. */
export function entryHash (entry: RegistryEntry): [number, number] {
  const h = sha256First8(pack(entryToWire(entry)))
  return [((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0, ((h[4] << 24) | (h[5] << 16) | (h[6] << 8) | h[7]) >>> 0]
}

/** First 8 bytes of SHA-256 of the context's canonical encoding. */
export function contextHash (context: ContextSummary): Uint8Array {
  return Uint8Array.from(sha256First8(pack(contextToWire(context))))
}

/** Bucket hashes (pairs of uint32, hi then lo) as `bucketCount × 8` big-endian bytes. */
export function bucketBytes (hashes: Uint32Array): Uint8Array {
  const out = new Uint8Array(hashes.length * 4)
  const view = new DataView(out.buffer)
  for (let i = 0; i < hashes.length; i++) view.setUint32(i * 4, hashes[i])
  return out
}

/** The root: first 8 bytes of SHA-256 over the bucket hashes and the context hash. */
export function rootHash (buckets: Uint8Array, ctxHash: Uint8Array): Uint8Array {
  return Uint8Array.from(createHash('sha256').update(buckets).update(ctxHash).digest().subarray(0, 8))
}

/**
 * Buckets whose hash differs between `local` (this replica's bucket bytes at
 * `bucketCount`) and a remote digest. When the bucket counts differ every bucket is
 * reported, at the local count.
 */
export function differingBuckets (local: Uint8Array, bucketCount: number, remote: RegistryDigest): number[] {
  const out: number[] = []
  if (remote.bucketCount !== bucketCount) {
    for (let b = 0; b < bucketCount; b++) out.push(b)
    return out
  }
  for (let b = 0; b < bucketCount; b++) {
    const o = b * 8
    for (let k = 0; k < 8; k++) {
      if (local[o + k] !== remote.buckets[o + k]) {
        out.push(b)
        break
      }
    }
  }
  return out
}

/** Whether two 8-byte hashes are equal. */
export function hashesEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Whether two digests describe the same state (equal roots). */
export function digestsEqual (a: RegistryDigest, b: RegistryDigest): boolean {
  return a.bucketCount === b.bucketCount && hashesEqual(a.root, b.root)
}
