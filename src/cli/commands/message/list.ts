/**
 * `caxton message list`: GET /messages as a table, newest first.
 */
import type { Command } from 'commander'
import { MAX_MESSAGE_LIMIT } from '../../../api/schemas.js'
import type { MessageQuery } from '../../../api/types.js'
import { addGlobalOptions, integerIn, type CliContext } from '../../context.js'
import { examples, formatTime, previewContent } from '../../output.js'

interface ListOptions {
  limit?: number
  agent?: string
  conversationId?: string
}

export function registerMessageList (message: Command, ctx: CliContext): void {
  addGlobalOptions(message.command('list'))
    .alias('ls')
    .description('recent messages seen by the node, newest first (for debugging)')
    .option('--limit <n>', `how many (1-${MAX_MESSAGE_LIMIT}, node default: 50)`, integerIn(1, MAX_MESSAGE_LIMIT))
    .option('--agent <id>', 'only messages from or to this agent')
    .option('--conversation-id <id>', 'only this conversation')
    .addHelpText('after', examples(['caxton message list', 'caxton message list --agent echo --limit 10', 'caxton message list --conversation-id order-17 --json']))
    .action(async (opts: ListOptions, command: Command) => {
      const { client, out } = ctx.scope(command)
      const query: MessageQuery = {}
      if (opts.limit !== undefined) query.limit = opts.limit
      if (opts.agent !== undefined) query.agent = opts.agent
      if (opts.conversationId !== undefined) query.conversationId = opts.conversationId
      const body = await client.listMessages(query)
      if (out.json) return out.printJson(body)
      if (body.messages.length === 0) return out.line('no messages')
      out.table(
        ['time', 'dir', 'status', 'performative', 'from', 'to', 'conversation', 'content'],
        body.messages.map(r => [
          formatTime(r.at),
          r.direction,
          r.status === 'delivered' ? r.status : out.style('red', r.reason === undefined ? r.status : `${r.status}: ${r.reason}`),
          r.message.performative,
          r.message.sender,
          r.message.receivers.join(','),
          r.message.conversationId ?? '-',
          previewContent(r.message.content)
        ])
      )
    })
}
