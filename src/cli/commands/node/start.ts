/**
 * `caxton node start`: runs a node in the foreground until SIGINT/SIGTERM.
 */
import { join } from 'node:path'
import { Command, Option } from 'commander'
import { ADMIN_TOKEN_FILE } from '../../../auth/files.js'
import { loadConfig, parseHostPort, PRESETS, type ConfigInput } from '../../../config/index.js'
import { createLogger } from '../../../observability/logger.js'
import { CliError } from '../../context.js'

export interface NodeStartFlags {
  config?: string
  preset?: string
  name?: string
  data?: string
  listen?: string[]
  api?: string
  join?: string[]
  clusterKey?: string
  allowPeer?: string[]
  logLevel?: string
  json?: boolean
  enableFaults?: boolean
  apiTlsCert?: string
  apiTlsKey?: string
}

/** Where the command writes: stdout for its result, and the signals it stops on. */
export interface NodeStartIo {
  stdout: (text: string) => void
  /** Resolves when the node should stop (a signal, or a test). */
  untilStopped: () => Promise<string>
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

/** Adds `start` to the `node` noun. */
export function addStartCommand (node: Command, io?: Partial<NodeStartIo>): void {
  node.command('start')
    .description('Start a Caxton node in the foreground (stops cleanly on Ctrl-C / SIGTERM)')
    .option('--config <file>', 'JSON config file (also CAXTON_CONFIG)')
    .addOption(new Option('--preset <preset>', 'defaults preset (also CAXTON_PRESET)').choices([...PRESETS]))
    .option('--name <name>', 'node name, shown in logs and GET /node (default "node")')
    .option('--data <dir>', 'data folder of the node\'s LevelDB (default .caxton/<name>)')
    .option('--listen <multiaddr>', 'libp2p listen address, repeatable (default /ip4/127.0.0.1/tcp/7400)', collect)
    .option('--api <host:port>', 'REST API address (default 127.0.0.1:7420)')
    .option('--api-tls-cert <file>', 'serve the REST API over HTTPS (TLS 1.3) with this PEM certificate (chain); needs --api-tls-key')
    .option('--api-tls-key <file>', 'PEM private key of --api-tls-cert')
    .option('--join <multiaddr>', 'a member to join through, /ip4/.../tcp/.../p2p/<peerId>; repeatable', collect)
    .option('--cluster-key <file>', 'the cluster key (caxton cluster keygen): only nodes holding it can connect (also CAXTON_CLUSTER_KEY)')
    .option('--allow-peer <peerId>', 'only this peer may connect (with the others given); repeatable (config cluster.allowPeers)', collect)
    .addOption(new Option('--log-level <level>', 'log level; logs are JSON lines on stderr').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']))
    .option('--json', 'print one JSON line { peerId, multiaddrs, api } on stdout when ready')
    .option('--enable-faults', 'serve /faults (partition this node, heal) for tests and chaos scripts; needs a loopback --api')
    .addHelpText('after', `
Every flag is also a config key (file or CAXTON_* environment variable); flags win.
Examples:
  $ caxton node start
  $ caxton node start --name n2 --listen /ip4/127.0.0.1/tcp/7401 --api 127.0.0.1:7421 \\
      --join /ip4/127.0.0.1/tcp/7400/p2p/12D3KooW...
  $ caxton cluster keygen --out cluster.key && caxton node start --cluster-key cluster.key`)
    .action(async (flags: NodeStartFlags, cmd: Command) => {
      const global = cmd.optsWithGlobals<{ json?: boolean }>()
      await runNodeStart({ ...flags, json: flags.json === true || global.json === true }, {
        stdout: io?.stdout ?? ((t) => { process.stdout.write(t) }),
        untilStopped: io?.untilStopped ?? untilSignal
      })
    })
}

/**
 * Files the node writes while it runs (its database, which holds its private key; token
 * files) are for its user alone: the process's umask is 077 until the node has stopped.
 */
const NODE_UMASK = 0o077

/**
 * Starts a node from flags + environment + config file, prints where it is, runs until
 * stopped. The umask is {@link NODE_UMASK} meanwhile, and restored after.
 */
export async function runNodeStart (flags: NodeStartFlags, io: NodeStartIo): Promise<void> {
  const umask = process.umask(NODE_UMASK)
  try {
    await runNode(flags, io)
  } finally {
    process.umask(umask)
  }
}

async function runNode (flags: NodeStartFlags, io: NodeStartIo): Promise<void> {
  const input: ConfigInput = {}
  if (flags.preset != null) input.preset = flags.preset as ConfigInput['preset']
  if (flags.name != null) input.name = flags.name
  if (flags.data != null) input.dataDir = flags.data
  if (flags.listen != null && flags.listen.length > 0) input.listen = flags.listen
  if (flags.join != null && flags.join.length > 0) input.join = flags.join
  if (flags.clusterKey != null || (flags.allowPeer != null && flags.allowPeer.length > 0)) {
    input.cluster = {
      ...(flags.clusterKey != null ? { keyFile: flags.clusterKey } : {}),
      ...(flags.allowPeer != null && flags.allowPeer.length > 0 ? { allowPeers: flags.allowPeer } : {})
    }
  }
  if (flags.api != null) input.api = parseHostPort(flags.api)
  if (flags.apiTlsCert != null) input.api = { ...input.api, tlsCertFile: flags.apiTlsCert }
  if (flags.apiTlsKey != null) input.api = { ...input.api, tlsKeyFile: flags.apiTlsKey }
  if (flags.logLevel != null) input.log = { level: flags.logLevel as 'info' }
  const config = loadConfig({ file: flags.config, flags: input })
  const logger = createLogger({ level: config.log.level, base: { node: config.name } })
  // Loaded here, not at the top: every other CLI command would otherwise pay for loading libp2p.
  const { startNode } = await import('../../../node/index.js')
  let node: Awaited<ReturnType<typeof startNode>>
  try {
    node = await startNode(config, { logger, faults: flags.enableFaults === true })
  } catch (err) {
    throw addressInUse(err, config) ?? err
  }
  const info = node.info()
  if (flags.json === true) {
    io.stdout(JSON.stringify({ peerId: info.peerId, multiaddrs: info.multiaddrs, api: info.api }) + '\n')
  } else {
    io.stdout([
      `caxton node "${info.name}" is running (caxton ${info.version})`,
      `  peer id    ${info.peerId}`,
      ...info.multiaddrs.map((a, i) => `  ${i === 0 ? 'listening' : '         '}  ${a}`),
      `  REST API   ${info.api}`,
      `  data       ${config.dataDir}`,
      `  token      ${join(config.dataDir, ADMIN_TOKEN_FILE)} (admin; the CLI finds it when run from this folder)`,
      '',
      'Other nodes join with:',
      `  caxton node start --join ${info.multiaddrs[0]} ...`,
      'Press Ctrl-C to stop.',
      ''
    ].join('\n'))
  }
  const signal = await io.untilStopped()
  logger.info({ signal }, 'stopping')
  await node.stop()
  logger.flush()
}

/**
 * A listen address another process holds (libp2p's or the REST API's) as a short error
 * naming the address and the flag that moves it, instead of the transport's stack.
 */
function addressInUse (err: unknown, config: { listen: string[], api: { host: string, port: number } }): CliError | undefined {
  const text = err instanceof Error ? `${err.message} ${(err as { code?: string }).code ?? ''}` : String(err)
  if (!text.includes('EADDRINUSE')) return undefined
  const p2p = config.listen.find(a => text.includes(a))
  const where = p2p !== undefined
    ? `libp2p cannot listen on ${p2p}: the address is in use (another node running? choose another with --listen)`
    : `the REST API cannot listen on ${config.api.host}:${config.api.port}: the address is in use (another node running? choose another with --api)`
  return new CliError('ADDRESS_IN_USE', where, 1, { cause: err })
}

async function untilSignal (): Promise<string> {
  return await new Promise(resolve => {
    const on = (sig: string): void => {
      process.off('SIGINT', on)
      process.off('SIGTERM', on)
      resolve(sig)
    }
    process.on('SIGINT', on)
    process.on('SIGTERM', on)
  })
}
