/**
 * `caxton cluster keygen`: a new cluster key (a libp2p private-network pre-shared key), on
 * stdout or into a file of mode 0600. Local: no node is called.
 */
import type { Command } from 'commander'
import { CliError, type CliContext } from '../../context.js'
import { examples, Output } from '../../output.js'

export function registerClusterKeygen (cluster: Command, ctx: CliContext): void {
  cluster.command('keygen')
    .description('print a new cluster key; start every node of the cluster with it (--cluster-key FILE) and no other peer can connect')
    .option('--out <file>', 'write the key to this file (mode 0600; an existing file is not replaced) instead of stdout')
    .option('--json', 'machine output: { "key", "fingerprint" }, or { "file", "fingerprint" } with --out')
    .addHelpText('after', examples([
      'caxton cluster keygen --out cluster.key',
      '(umask 077; caxton cluster keygen > cluster.key)',
      'caxton node start --cluster-key cluster.key ...'
    ]))
    .action(async (opts: { out?: string, json?: boolean }, command: Command) => {
      const out = new Output(ctx.io, opts.json === true || command.optsWithGlobals<{ json?: boolean }>().json === true)
      // Loaded here: the other commands need no libp2p module.
      const { generateClusterKey, parseClusterKey } = await import('../../../transport/cluster-key.js')
      const { writeSecretFile } = await import('../../../storage/secret-file.js')
      const key = generateClusterKey()
      const { fingerprint } = parseClusterKey(key, 'the new key')
      if (opts.out === undefined) {
        if (out.json) return out.printJson({ key, fingerprint })
        return ctx.io.stdout(key)
      }
      try {
        await writeSecretFile(opts.out, key)
      } catch (err) {
        const exists = (err as { code?: string }).code === 'EEXIST'
        throw new CliError('FILE_UNWRITABLE', `cannot write ${opts.out}: ${exists ? 'the file exists (a key is not replaced; remove it first)' : (err as Error).message}`, 1, { cause: err })
      }
      if (out.json) return out.printJson({ file: opts.out, fingerprint })
      out.line(`wrote a new cluster key to ${opts.out} (mode 0600, fingerprint ${fingerprint})`)
    })
}
