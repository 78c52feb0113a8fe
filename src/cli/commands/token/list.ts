/**
 * `caxton token list`: GET /tokens as a table.
 */
import type { Command } from 'commander'
import { addGlobalOptions, type CliContext } from '../../context.js'
import { formatTime } from '../../output.js'

export function registerTokenList (token: Command, ctx: CliContext): void {
  addGlobalOptions(token.command('list'))
    .alias('ls')
    .description('every token of the node: id, name, role, state (never the tokens themselves)')
    .action(async (_opts: unknown, command: Command) => {
      const { client, out } = ctx.scope(command)
      const body = await client.listTokens()
      if (out.json) return out.printJson(body)
      const now = (ctx.io.now ?? Date.now)()
      out.table(['id', 'name', 'role', 'state', 'created', 'expires'], body.tokens.map(t => [
        t.id,
        t.name,
        t.role,
        t.revokedAt !== undefined ? out.style('red', 'revoked') : t.expiresAt !== undefined && t.expiresAt <= now ? out.style('yellow', 'expired') : out.style('green', 'valid'),
        formatTime(t.createdAt),
        t.expiresAt !== undefined ? formatTime(t.expiresAt) : '-'
      ]))
    })
}
