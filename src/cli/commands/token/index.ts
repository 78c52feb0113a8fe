/**
 * `caxton token <verb>`: the node's REST API tokens (admin only): create, list, revoke.
 */
import type { Command } from 'commander'
import type { CliContext } from '../../context.js'
import { examples } from '../../output.js'
import { registerTokenCreate } from './create.js'
import { registerTokenList } from './list.js'
import { registerTokenRevoke } from './revoke.js'

export function registerTokenCommands (program: Command, ctx: CliContext): void {
  const token = program
    .command('token')
    .description("the node's REST API tokens: bearer tokens with a role (admin, deployer, sender, reader)")
    .addHelpText('after', examples(['caxton token create --role deployer --name ci --ttl 30d', 'caxton token list', 'caxton token revoke 3f2a9c01b7d4']))

  registerTokenCreate(token, ctx)
  registerTokenList(token, ctx)
  registerTokenRevoke(token, ctx)
}
