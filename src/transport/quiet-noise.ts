/**
 * Noise without a thrown exception for every chunk a connection reads.
 *
 * @libp2p/noise 17.0.3 splits the ciphertext it receives into Noise messages with
 * @libp2p/utils' `LengthPrefixedDecoder` and a 2-byte big-endian length decoder that throws
 * a RangeError when fewer than 2 bytes are left. The splitter learns that a chunk is used
 * up by catching it, so every chunk read from a connection builds one exception and
 * captures its stack: the last frame of a chunk is always followed by a read of 0 bytes.
 * With one message in flight that was 1.02 exceptions a remote echo round trip on each
 * node and 9.2% of the sending node's main thread (CPU profile; 0% after, and 5 of 7
 * alternated runs lower in CPU a round trip: docs/performance.md, "Sixth round"), the same
 * cost Caxton's own frame splitter had before it got its own loop (framing.ts).
 *
 * {@link withQuietNoiseFrames} gives the splitter of each connection Noise secures a length
 * decoder that answers "longer than there is" instead of throwing when the length prefix
 * is not all there: the splitter's `maxDataLength`, the longest length it accepts. Such a
 * frame can never be complete in the fewer than 2 bytes held, so the splitter waits for
 * more data, as it did after the exception. Lengths read from 2 bytes are unchanged, and so
 * are the checks on them.
 *
 * This reaches into the library's connection object (its `decoder`). The shape is checked
 * on every connection: a version whose connection has another shape is left as it is, and
 * `test/transport/quiet-noise.test.ts` fails on the pinned version if the check stops
 * recognising it.
 */
import type { ConnectionEncrypter, SecureConnectionOptions, SecuredConnection } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

/** Noise's 2-byte length prefix (the Noise spec §3: messages of at most 65,535 bytes). */
const PREFIX_BYTES = 2

/** What this module uses of @libp2p/utils' `LengthPrefixedDecoder`. */
interface Splitter {
  lengthDecoder: (data: Uint8ArrayList | Uint8Array) => number
  encodingLength: (length: number) => number
  maxDataLength: number
}

/**
 * A 2-byte big-endian length decoder that never throws: with fewer than 2 bytes it returns
 * `incomplete`, which the caller must treat as "wait for more data" (see the module comment).
 */
export function quietUint16Length (incomplete: number): Splitter['lengthDecoder'] {
  return (data) => {
    if (data.byteLength < PREFIX_BYTES) return incomplete
    return data instanceof Uint8Array ? (data[0] << 8) | data[1] : (data.get(0) << 8) | data.get(1)
  }
}

/**
 * Gives the splitter of a connection Noise secured the quiet length decoder.
 * @returns whether it did (false: the connection does not have the expected shape, and is left as it is)
 */
export function quietenNoiseSplitter (connection: unknown): boolean {
  const splitter = (connection as { decoder?: Partial<Splitter> } | undefined)?.decoder
  if (splitter == null || typeof splitter.lengthDecoder !== 'function' || typeof splitter.encodingLength !== 'function' ||
      typeof splitter.maxDataLength !== 'number' || !(splitter.maxDataLength > 0) || splitter.encodingLength(splitter.maxDataLength) !== PREFIX_BYTES) {
    return false
  }
  splitter.lengthDecoder = quietUint16Length(splitter.maxDataLength)
  return true
}

/**
 * Wraps a connection encrypter factory (`noise()`) so that every connection it secures gets
 * {@link quietenNoiseSplitter}. The handshake and everything else are the library's.
 */
export function withQuietNoiseFrames<C, E> (factory: (components: C) => ConnectionEncrypter<E>): (components: C) => ConnectionEncrypter<E> {
  return (components) => {
    const encrypter = factory(components)
    const secureInbound = encrypter.secureInbound.bind(encrypter)
    const secureOutbound = encrypter.secureOutbound.bind(encrypter)
    const quieted = (secured: SecuredConnection<E>): SecuredConnection<E> => {
      quietenNoiseSplitter(secured.connection)
      return secured
    }
    encrypter.secureInbound = async (connection, options?: SecureConnectionOptions) => quieted(await secureInbound(connection, options))
    encrypter.secureOutbound = async (connection, options?: SecureConnectionOptions) => quieted(await secureOutbound(connection, options))
    return encrypter
  }
}
