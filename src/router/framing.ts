/**
 * Length-prefixed framing of `/caxton/fipa/1.0.0` (protocols/fipa/SPEC.md): each frame
 * is an unsigned varint byte length followed by that many bytes; many frames share one
 * stream write. Batching is what makes a long-lived libp2p stream fast: one `send()` of
 * 64 frames moves ~10× the messages per second of one `send()` per frame
 * (shared/notes/libp2p.md).
 */
import { LengthPrefixedDecoder } from '@libp2p/utils'
import { encodeUint8Array, encodingLength } from 'uint8-varint'

/** Concatenates frames, each behind its varint length, into one buffer. */
export function encodeBatch (frames: readonly Uint8Array[]): Uint8Array {
  let total = 0
  for (const f of frames) total += encodingLength(f.byteLength) + f.byteLength
  const out = new Uint8Array(total)
  let offset = 0
  for (const f of frames) {
    encodeUint8Array(f.byteLength, out, offset)
    offset += encodingLength(f.byteLength)
    out.set(f, offset)
    offset += f.byteLength
  }
  return out
}

/**
 * Splits a stream's chunks back into frames.
 * @param maxFrameBytes largest accepted frame; a bigger length prefix throws (the peer is broken).
 */
export function createFrameDecoder (maxFrameBytes: number): { decode: (chunk: Uint8Array | import('uint8arraylist').Uint8ArrayList) => Generator<Uint8Array> } {
  // yamux windows grow to 16 MiB, so one chunk may hold many frames: the buffer bound is
  // on top of the frame bound, not equal to it (shared/notes/libp2p.md, trap 3).
  const decoder = new LengthPrefixedDecoder({ maxDataLength: maxFrameBytes, maxBufferSize: maxFrameBytes + 32 * 1024 * 1024 })
  return {
    * decode (chunk) {
      for (const list of decoder.decode(chunk)) yield list.subarray()
    }
  }
}
