/**
 * `caxton conversation show <id>`: GET /conversations/:id, a conversation as the node saw
 * it: participants, protocol, activity, and the replies still awaited by a reply-by.
 */
import type { Command } from 'commander'
import { addGlobalOptions, type CliContext } from '../../context.js'
import { examples, formatDuration, formatTime } from '../../output.js'

export function registerConversationCommands (program: Command, ctx: CliContext): void {
  const conversation = program
    .command('conversation')
    .description('conversations the node saw: who takes part, under which protocol, what is still awaited')
    .addHelpText('after', examples(['caxton conversation show 91c2d0e4-5b1f-4a57-8d1e-3f6b2a9c7e10']))
  addGlobalOptions(conversation.command('show'))
    .description('one conversation: initiator, participants, protocol, activity, replies awaited')
    .argument('<id>', 'conversation id (a message\'s conversationId; `caxton message send` prints it)')
    .addHelpText('after', examples(['caxton conversation show 91c2d0e4-5b1f-4a57-8d1e-3f6b2a9c7e10', 'caxton conversation show c-42 --json']))
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, out } = ctx.scope(command)
      const c = await client.conversation(id)
      if (out.json) return out.printJson(c)
      const now = (ctx.io.now ?? Date.now)()
      const pairs: Array<[string, string | string[]]> = [
        ['conversation', c.id],
        ['initiator', c.initiator],
        ['participants', c.participants.join(', ')],
        ['protocol', c.protocol ?? out.style('dim', '(none)')],
        ['started', `${formatTime(c.startedAt)} (${formatDuration(now - c.startedAt)} ago)`],
        ['last activity', `${formatTime(c.lastActivity)} (${formatDuration(now - c.lastActivity)} ago)`],
        ['messages', String(c.messages)],
        ['awaiting', c.awaiting.length === 0
          ? out.style('dim', '(no reply awaited)')
          : c.awaiting.map(a => `${a.from} awaits ${a.to.join(', ')} by ${formatTime(a.replyBy)} (reply-with ${a.key})`)]
      ]
      out.keyValue(pairs)
    })
}
