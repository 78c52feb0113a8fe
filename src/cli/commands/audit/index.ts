/**
 * `caxton audit <verb>`: the node's hash-chained audit log (admin only): list, verify.
 */
import type { Command } from 'commander'
import type { CliContext } from '../../context.js'
import { examples } from '../../output.js'
import { registerAuditList } from './list.js'
import { registerAuditVerify } from './verify.js'

export function registerAuditCommands (program: Command, ctx: CliContext): void {
  const audit = program
    .command('audit')
    .description("the node's audit log: every change made through the API and every refusal, hash-chained")
    .addHelpText('after', examples(['caxton audit list --last 20', 'caxton audit verify']))

  registerAuditList(audit, ctx)
  registerAuditVerify(audit, ctx)
}
