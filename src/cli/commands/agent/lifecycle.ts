/**
 * `caxton agent stop|start|suspend|resume <id>`: POST /agents/:id/<verb>, printing the
 * agent's state afterwards.
 */
import type { Command } from 'commander'
import { addGlobalOptions, type CliContext } from '../../context.js'
import { examples } from '../../output.js'

type Verb = 'stop' | 'start' | 'suspend' | 'resume'

const VERBS: ReadonlyArray<{ verb: Verb, description: string, help: string }> = [
  {
    verb: 'stop',
    description: 'drain and stop an agent; messages for it wait until it is started',
    help: 'Its mailbox drains first (agents.drainTimeoutMs); its in-memory state is dropped. It stays stopped across node restarts.'
  },
  {
    verb: 'start',
    description: 'start a stopped or failed agent again from its module',
    help: 'Its start function runs again; it then handles the messages that waited for it.'
  },
  {
    verb: 'suspend',
    description: 'suspend an agent: it keeps its state and handles nothing until resumed',
    help: 'Messages for it wait, as for a stopped agent. The node also suspends an agent over its send budget for too long.'
  },
  {
    verb: 'resume',
    description: 'resume a suspended agent',
    help: 'It handles the messages that waited for it.'
  }
]

export function registerAgentLifecycle (agent: Command, ctx: CliContext): void {
  for (const { verb, description, help } of VERBS) {
    const command = addGlobalOptions(agent.command(verb))
      .description(description)
      .argument('<id>', 'agent id')
    if (verb === 'suspend') command.option('--reason <text>', 'why, shown with the agent (GET /agents/:id)')
    command
      .addHelpText('after', examples([`caxton agent ${verb} echo`, ...(verb === 'suspend' ? ['caxton agent suspend flood --reason "floods the node"'] : []), `caxton agent ${verb} echo --json`]) + `\n\n${help}`)
      .action(async (id: string, opts: { reason?: string }, cmd: Command) => {
        const { client, out } = ctx.scope(cmd)
        const info = await client.changeAgent(id, verb, opts.reason)
        if (out.json) return out.printJson(info)
        out.line(`agent ${info.id} is ${out.state(info.state)}` + (info.reason !== undefined ? ` (${info.reason})` : ''))
      })
  }
}
