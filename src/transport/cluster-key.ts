/**
 * The cluster key: a libp2p private-network pre-shared key (the format of
 * `@libp2p/pnet`, the same as go-libp2p's and IPFS's `swarm.key`):
 *
 * ```
 * /key/swarm/psk/1.0.0/
 * /base16/
 * <64 lowercase hex digits: 32 random bytes>
 * ```
 *
 * Every connection of a node that has one is wrapped in XSalsa20 under the key before the
 * Noise handshake starts, so a peer with another key, or none, cannot complete any
 * handshake with it: it cannot open a connection at all.
 */
import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { generateKey } from '@libp2p/pnet'
import { ClusterKeyError } from './errors.js'

const HEADER = '/key/swarm/psk/1.0.0/'
const CODEC = '/base16/'
/** Bytes of a key in this format: two header lines and 64 hex digits. */
const KEY_TEXT_BYTES = HEADER.length + 1 + CODEC.length + 1 + 64

/** A cluster key ready for libp2p. */
export interface ClusterKey {
  /** The key in the pnet format, as `preSharedKey({ psk })` takes it. */
  psk: Uint8Array
  /**
   * The first 16 hex digits of the SHA-256 of the key's 32 bytes: shown in logs, so that
   * operators can check that two nodes hold the same key without showing it.
   */
  fingerprint: string
}

/** A new random cluster key, as text (three lines and a newline), from `@libp2p/pnet`. */
export function generateClusterKey (): string {
  const bytes = new Uint8Array(KEY_TEXT_BYTES)
  generateKey(bytes)
  return new TextDecoder().decode(bytes) + '\n'
}

/**
 * Reads a key from its text (surrounding white space and CRLF line ends allowed).
 * @param source where the text came from, for the error
 * @throws ClusterKeyError when it is not the three-line format
 */
export function parseClusterKey (text: string, source: string): ClusterKey {
  const lines = text.trim().split(/\r?\n/).map(line => line.trim())
  if (lines.length !== 3 || lines[0] !== HEADER || lines[1] !== CODEC) {
    throw new ClusterKeyError(source, `expected three lines: ${HEADER}, ${CODEC} and 64 hex digits (make one with caxton cluster keygen)`)
  }
  const hex = lines[2].toLowerCase()
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new ClusterKeyError(source, 'the third line must be 64 hex digits (32 bytes)')
  const fingerprint = createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex').slice(0, 16)
  return { psk: new TextEncoder().encode(`${HEADER}\n${CODEC}\n${hex}`), fingerprint }
}

/**
 * Reads a key file.
 * @returns the key, and `exposed`: whether the file's mode lets its group or others read
 *   it (on POSIX systems; the caller warns)
 * @throws ClusterKeyError when the file cannot be read or holds no key
 */
export async function readClusterKey (path: string): Promise<ClusterKey & { exposed: boolean }> {
  let text: string
  let mode: number
  try {
    text = await readFile(path, 'utf8')
    mode = (await stat(path)).mode
  } catch (err) {
    const code = (err as { code?: string }).code
    throw new ClusterKeyError(path, code === 'ENOENT' ? 'no such file' : (err as Error).message, { cause: err })
  }
  return { ...parseClusterKey(text, path), exposed: process.platform !== 'win32' && (mode & 0o077) !== 0 }
}
