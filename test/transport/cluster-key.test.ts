/**
 * The pieces of cluster admission without a network: the key's format, reading a key
 * file, the allow-list gater, composing gaters, and what a node says at start.
 */
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { ConnectionGater, PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { pino, type Logger } from 'pino'
import {
  AllowListError, allowListGater, clusterAdmission, ClusterKeyError, composeGaters, exposedAddrs, generateClusterKey, parseClusterKey, readClusterKey
} from '../../src/transport/index.js'

const tmp = (): string => mkdtempSync(join(tmpdir(), 'caxton-key-'))
const newPeer = async (): Promise<PeerId> => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

function capture (): { logger: Logger, lines: Array<{ level: number, msg: string }> } {
  const lines: Array<{ level: number, msg: string }> = []
  const logger: Logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line)) } })
  return { logger, lines }
}
const WARN = 40

describe('cluster key', () => {
  it('is generated in the libp2p private-network format, a new one each time, and parses back', () => {
    const text = generateClusterKey()
    assert.match(text, /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/)
    assert.notEqual(generateClusterKey(), text)
    const key = parseClusterKey(text, 'here')
    assert.equal(new TextDecoder().decode(key.psk), text.trim())
    assert.match(key.fingerprint, /^[0-9a-f]{16}$/)
    // The same key written with CRLF, surrounding white space or upper-case digits is the same key.
    const same = parseClusterKey(`  ${text.trim().replace(/\n/g, '\r\n').replace(/[0-9a-f]{64}/, h => h.toUpperCase())}\r\n\r\n`, 'there')
    assert.deepEqual(same, key)
  })

  it('refuses anything else, naming where it came from', () => {
    const hex = 'ab'.repeat(32)
    for (const text of ['', 'secret', `/key/swarm/psk/1.0.0/\n/base16/\n${hex.slice(2)}`, `/key/swarm/psk/1.0.0/\n/base16/\n${hex.slice(2)}zz`,
      `/key/swarm/psk/1.0.0/\n/base64/\n${hex}`, `/key/swarm/psk/2.0.0/\n/base16/\n${hex}`, `/key/swarm/psk/1.0.0/\n/base16/\n${hex}\nmore`]) {
      assert.throws(() => parseClusterKey(text, 'key.txt'), (err: unknown) => err instanceof ClusterKeyError && err.source === 'key.txt' && err.code === 'CLUSTER_KEY_INVALID', JSON.stringify(text))
    }
  })

  it('is read from a file, which is reported when others can read it, or when missing', async () => {
    const dir = tmp()
    const path = join(dir, 'cluster.key')
    writeFileSync(path, generateClusterKey())
    chmodSync(path, 0o600)
    assert.equal((await readClusterKey(path)).exposed, false)
    chmodSync(path, 0o640)
    assert.equal((await readClusterKey(path)).exposed, true)
    await assert.rejects(readClusterKey(join(dir, 'nope')), (err: unknown) => err instanceof ClusterKeyError && /no such file/.test(err.message))
  })
})

describe('connection gaters', () => {
  it('an allow-list denies dials to and connections from every other peer', async () => {
    const [friend, stranger] = [await newPeer(), await newPeer()]
    const gater = allowListGater([friend.toString()])
    for (const method of ['denyDialPeer', 'denyInboundEncryptedConnection', 'denyOutboundEncryptedConnection'] as const) {
      const deny = gater[method] as (peer: PeerId) => boolean
      assert.equal(deny(friend), false, method)
      assert.equal(deny(stranger), true, method)
    }
    assert.throws(() => allowListGater(['12D3KooWnotapeeridatall11111111111111111111111111111']), (err: unknown) => err instanceof AllowListError && err.code === 'ALLOW_LIST_INVALID')
  })

  it('compose: denied if any denies, an address kept only if all keep it, absent gaters skipped', async () => {
    const peer = await newPeer()
    const ma = multiaddr('/ip4/127.0.0.1/tcp/1')
    const yes: ConnectionGater = { denyDialPeer: () => false, filterMultiaddrForPeer: () => true }
    const no: ConnectionGater = { denyDialPeer: async () => true, denyDialMultiaddr: () => true, filterMultiaddrForPeer: async () => false }
    assert.equal(composeGaters([undefined, undefined]), undefined)
    assert.equal(composeGaters([yes, undefined]), yes)
    const both = composeGaters([yes, no]) as Required<ConnectionGater>
    assert.equal(await both.denyDialPeer(peer), true)
    assert.equal(await both.denyDialMultiaddr(ma), true)
    assert.equal(await both.filterMultiaddrForPeer(peer, ma), false)
    const open = composeGaters([yes, { denyDialPeer: () => false }]) as Required<ConnectionGater>
    assert.equal(await open.denyDialPeer(peer), false)
    assert.equal(await open.filterMultiaddrForPeer(peer, ma), true)
    assert.equal('denyDialMultiaddr' in open, false, 'only the methods some gater has')
  })
})

describe('cluster admission at start', () => {
  it('tells loopback listen addresses from the others', () => {
    assert.deepEqual(exposedAddrs(['/ip4/127.0.0.1/tcp/7400', '/ip4/127.8.0.1/tcp/1', '/ip6/::1/tcp/1']), [])
    assert.deepEqual(exposedAddrs(['/ip4/0.0.0.0/tcp/7400', '/ip4/192.168.1.4/tcp/1', '/ip6/::/tcp/1', 'junk']), ['/ip4/0.0.0.0/tcp/7400', '/ip4/192.168.1.4/tcp/1', '/ip6/::/tcp/1', 'junk'])
  })

  it('warns when a node without a key listens beyond loopback, and only then', async () => {
    const open = capture()
    assert.deepEqual(await clusterAdmission({ keyFile: null, allowPeers: [], listen: ['/ip4/0.0.0.0/tcp/7400'], logger: open.logger }), {})
    assert.ok(open.lines.some(l => l.level === WARN && /no cluster key/.test(l.msg)), JSON.stringify(open.lines))
    const local = capture()
    await clusterAdmission({ keyFile: null, allowPeers: [], listen: ['/ip4/127.0.0.1/tcp/7400'], logger: local.logger })
    assert.deepEqual(local.lines.filter(l => l.level >= WARN), [])
  })

  it('loads the key (warning when others can read its file) and the allow-list', async () => {
    const path = join(tmp(), 'cluster.key')
    writeFileSync(path, generateClusterKey())
    chmodSync(path, 0o644)
    const peer = (await newPeer()).toString()
    const { logger, lines } = capture()
    const admission = await clusterAdmission({ keyFile: path, allowPeers: [peer], listen: ['/ip4/0.0.0.0/tcp/7400'], logger })
    assert.ok(admission.clusterKey instanceof Uint8Array)
    assert.ok(admission.gater?.denyDialPeer !== undefined)
    assert.deepEqual(lines.filter(l => l.level >= WARN).map(l => l.msg), [`the cluster key file can be read by other users: chmod 600 ${path}`])
    await assert.rejects(clusterAdmission({ keyFile: join(tmp(), 'missing.key'), allowPeers: [], listen: [], logger }), ClusterKeyError)
  })
})
