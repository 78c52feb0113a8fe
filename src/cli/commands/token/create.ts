/**
 * `caxton token create --role ROLE --name NAME [--ttl]`: POST /tokens; prints the token
 * (the only time it is shown) on stdout, what it is on stderr.
 */
import { Option, type Command } from 'commander'
import { MAX_TOKEN_TTL_MS, MIN_TOKEN_TTL_MS, ROLES, type Role } from '../../../auth/index.js'
import { addGlobalOptions, duration, type CliContext } from '../../context.js'
import { examples, formatTime } from '../../output.js'

export function registerTokenCreate (token: Command, ctx: CliContext): void {
  addGlobalOptions(token.command('create'))
    .description('create a token and print it (the only time it is shown; the node keeps only its hash)')
    .addOption(new Option('--role <role>', 'what it may do').choices([...ROLES]).makeOptionMandatory())
    .requiredOption('--name <name>', 'who or what it is for (1-64 letters, digits, ".", "_", "-", "@")')
    .option('--ttl <duration>', 'lifetime, e.g. 12h, 30d (default: no expiry)', duration(MIN_TOKEN_TTL_MS, MAX_TOKEN_TTL_MS))
    .addHelpText('after', examples(['caxton token create --role reader --name grafana', 'TOKEN=$(caxton token create --role deployer --name ci --ttl 30d --json | jq -r .token)']))
    .action(async (opts: { role: Role, name: string, ttl?: number }, command: Command) => {
      const { client, out } = ctx.scope(command)
      const created = await client.createToken({ name: opts.name, role: opts.role, ...(opts.ttl !== undefined ? { ttlMs: opts.ttl } : {}) })
      if (out.json) return out.printJson(created)
      out.line(created.token)
      ctx.io.stderr(`created ${created.role} token ${created.id} (${created.name})${created.expiresAt !== undefined ? `, expires ${formatTime(created.expiresAt)}` : ''}; it is not shown again\n`)
    })
}
