/**
 * `caxton message <verb>`: send FIPA-ACL messages to agents, follow one (status), list
 * recent ones, read the handled log.
 */
import type { Command } from 'commander'
import type { CliContext } from '../../context.js'
import { examples } from '../../output.js'
import { registerMessageHandled } from './handled.js'
import { registerMessageList } from './list.js'
import { registerMessageSend } from './send.js'
import { registerMessageStatus } from './status.js'

export function registerMessageCommands (program: Command, ctx: CliContext): void {
  const message = program
    .command('message')
    .description('send FIPA-ACL messages to agents, follow their delivery, inspect recent traffic')
    .addHelpText('after', examples([
      'caxton message send echo --content hello --wait 2000',
      'caxton message status <message id> --wait-for handled',
      'caxton message list --agent echo'
    ]))
  registerMessageSend(message, ctx)
  registerMessageStatus(message, ctx)
  registerMessageList(message, ctx)
  registerMessageHandled(message, ctx)
}
