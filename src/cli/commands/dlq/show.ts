/**
 * `caxton dlq show <id>`: GET /dead-letters/:id as a key/value block, the message included.
 */
import type { Command } from 'commander'
import type { AclMessageJson } from '../../../api/types.js'
import { addGlobalOptions, type CliContext } from '../../context.js'
import { examples, formatDuration, formatTime, fullContent } from '../../output.js'

export function registerDlqShow (dlq: Command, ctx: CliContext): void {
  addGlobalOptions(dlq.command('show'))
    .description('one dead letter: why it was given up, and the message')
    .argument('<id>', 'dead letter id (as `caxton dlq list` shows it)')
    .addHelpText('after', examples(['caxton dlq show 0193a4f2c1d2e00001', 'caxton dlq show 0193a4f2c1d2e00001 --json']))
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, out } = ctx.scope(command)
      const d = await client.getDeadLetter(id)
      if (out.json) return out.printJson(d)
      const now = (ctx.io.now ?? Date.now)()
      // The node sends the whole message, or only its id, sender and receivers when the stored bytes cannot be read.
      const m = d.message as Partial<AclMessageJson>
      const pairs: Array<[string, string | string[]]> = [
        ['id', d.id],
        ['dead-lettered', `${formatTime(d.at)} (${formatDuration(now - d.at)} ago)`],
        ['cause', out.style('red', d.cause)],
        ['reason', d.reason],
        ['attempts', String(d.attempts)]
      ]
      if (d.peer !== undefined) pairs.push(['last peer', d.peer])
      pairs.push(
        ['message', d.messageId],
        ['from', d.sender],
        ['to', d.receiver]
      )
      if (m.performative !== undefined) pairs.push(['performative', m.performative])
      if (m.conversationId !== undefined) pairs.push(['conversation', m.conversationId])
      if (m.protocol !== undefined) pairs.push(['protocol', m.protocol])
      if (m.replyBy !== undefined) pairs.push(['reply-by', formatTime(m.replyBy)])
      pairs.push(['content', m.content === undefined ? out.style('dim', '(none)') : fullContent(m.content).split('\n')])
      out.keyValue(pairs)
    })
}
