/**
 * `caxton message <verb>`: send FIPA-ACL messages to agents, list recent ones.
 */
import type { Command } from 'commander'
import type { CliContext } from '../../context.js'
import { examples } from '../../output.js'
import { registerMessageList } from './list.js'
import { registerMessageSend } from './send.js'

export function registerMessageCommands (program: Command, ctx: CliContext): void {
  const message = program
    .command('message')
    .description('send FIPA-ACL messages to agents and inspect recent traffic')
    .addHelpText('after', examples(['caxton message send echo --content hello --wait 2000', 'caxton message list --agent echo']))
  registerMessageSend(message, ctx)
  registerMessageList(message, ctx)
}
