/**
 * `caxton audit list [--after] [--last] [--limit]`: GET /audit as a table, oldest first.
 */
import type { Command } from 'commander'
import { DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT } from '../../../api/security-schemas.js'
import { addGlobalOptions, integerIn, type CliContext } from '../../context.js'
import { examples, formatTime, oneLine } from '../../output.js'

export function registerAuditList (audit: Command, ctx: CliContext): void {
  addGlobalOptions(audit.command('list'))
    .alias('ls')
    .description('audit entries, oldest first')
    .option('--after <seq>', 'only entries after this one', integerIn(0, Number.MAX_SAFE_INTEGER))
    .option('--last <n>', `the last n entries (1-${MAX_AUDIT_LIMIT})`, integerIn(1, MAX_AUDIT_LIMIT))
    .option('--limit <n>', `most entries shown (1-${MAX_AUDIT_LIMIT}, default ${DEFAULT_AUDIT_LIMIT})`, integerIn(1, MAX_AUDIT_LIMIT))
    .addHelpText('after', examples(['caxton audit list', 'caxton audit list --last 50', 'caxton audit list --after 120 --json']))
    .action(async (opts: { after?: number, last?: number, limit?: number }, command: Command) => {
      const { client, out } = ctx.scope(command)
      let after = opts.after
      let limit = opts.limit
      if (opts.last !== undefined) {
        const { head } = await client.auditLog({ limit: 1 })
        after = Math.max(0, head.seq - opts.last)
        limit = opts.last
      }
      const body = await client.auditLog({ ...(after !== undefined ? { after } : {}), ...(limit !== undefined ? { limit } : {}) })
      if (out.json) return out.printJson(body)
      if (body.entries.length === 0) return out.line('no audit entries')
      out.table(['seq', 'time', 'action', 'outcome', 'status', 'who', 'target', 'from', 'detail'], body.entries.map(e => [
        String(e.seq),
        formatTime(e.at),
        e.action,
        e.outcome === 'ok' ? out.style('green', e.outcome) : out.style('red', e.outcome),
        e.status !== undefined ? String(e.status) : '-',
        e.actor !== undefined ? `${e.actor.name} (${e.actor.role})` : '-',
        e.target ?? '-',
        e.source ?? '-',
        oneLine(e.detail ?? '', 60)
      ]))
      const last = body.entries[body.entries.length - 1].seq
      if (last < body.head.seq) out.line(`(up to ${last} of ${body.head.seq}; continue with --after ${last})`)
    })
}
