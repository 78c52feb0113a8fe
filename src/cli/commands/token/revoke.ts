/**
 * `caxton token revoke <id>`: DELETE /tokens/:id.
 */
import type { Command } from 'commander'
import { addGlobalOptions, type CliContext } from '../../context.js'

export function registerTokenRevoke (token: Command, ctx: CliContext): void {
  addGlobalOptions(token.command('revoke'))
    .description('revoke a token: the node refuses it from now on')
    .argument('<id>', 'token id (12 hex digits, as `token list` shows it)')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, out } = ctx.scope(command)
      const info = await client.revokeToken(id)
      if (out.json) return out.printJson(info)
      out.line(`revoked token ${info.id} (${info.name}, ${info.role})`)
    })
}
