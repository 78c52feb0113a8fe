/**
 * `caxton audit verify`: GET /audit/verify; exit code 1 when the chain is broken.
 */
import type { Command } from 'commander'
import { addGlobalOptions, type CliContext } from '../../context.js'
import { examples } from '../../output.js'

export function registerAuditVerify (audit: Command, ctx: CliContext): void {
  addGlobalOptions(audit.command('verify'))
    .description("check the log's hash chain on the node; names the first entry changed or removed (exit 1)")
    .addHelpText('after', examples(['caxton audit verify', 'caxton audit verify --json']))
    .action(async (_opts: unknown, command: Command) => {
      const { client, out } = ctx.scope(command)
      const result = await client.verifyAudit()
      if (!result.ok) ctx.exitCode = 1
      if (out.json) return out.printJson(result)
      if (result.ok) {
        out.line(`audit log intact: ${result.entries} entries, head ${result.head.seq} ${result.head.hash}`)
      } else {
        out.line(`audit log BROKEN at entry ${result.broken?.seq ?? '?'}: ${result.broken?.reason ?? ''}`)
        out.line(`(${result.entries} entries read; the head records ${result.head.seq}, ${result.head.hash})`)
      }
    })
}
