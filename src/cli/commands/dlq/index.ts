/**
 * `caxton dlq <verb>`: the node's dead-letter queue, the messages it gave up delivering
 * (protocols/delivery/SPEC.md §1.7): list, show, replay, delete, purge.
 */
import type { Command } from 'commander'
import type { CliContext } from '../../context.js'
import { examples } from '../../output.js'
import { registerDlqDelete } from './delete.js'
import { registerDlqList } from './list.js'
import { registerDlqPurge } from './purge.js'
import { registerDlqReplay } from './replay.js'
import { registerDlqShow } from './show.js'

export function registerDlqCommands (program: Command, ctx: CliContext): void {
  const dlq = program
    .command('dlq')
    .description("the node's dead-letter queue: messages it could not deliver, and why")
    .addHelpText('after', examples(['caxton dlq list --cause expired', 'caxton dlq show <id>', 'caxton dlq replay <id>', 'caxton dlq purge --agent billing']))
  registerDlqList(dlq, ctx)
  registerDlqShow(dlq, ctx)
  registerDlqReplay(dlq, ctx)
  registerDlqDelete(dlq, ctx)
  registerDlqPurge(dlq, ctx)
}
