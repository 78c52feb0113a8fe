/**
 * `caxton agent <verb>`: deploy, list, show and remove the agents of a node; stop,
 * start, suspend and resume them; upgrade them in place, list their versions, roll back.
 */
import type { Command } from 'commander'
import type { CliContext } from '../../context.js'
import { examples } from '../../output.js'
import { registerAgentDeploy } from './deploy.js'
import { registerAgentLifecycle } from './lifecycle.js'
import { registerAgentList } from './list.js'
import { registerAgentRemove } from './remove.js'
import { registerAgentRollback } from './rollback.js'
import { registerAgentShow } from './show.js'
import { registerAgentUpgrade } from './upgrade.js'
import { registerAgentVersions } from './versions.js'

export function registerAgentCommands (program: Command, ctx: CliContext): void {
  const agent = program
    .command('agent')
    .description('deploy and manage the WebAssembly agents of a node')
    .addHelpText('after', examples(['caxton agent deploy echo.wasm --id echo', 'caxton agent list', 'caxton agent show echo', 'caxton agent stop echo', 'caxton agent start echo', 'caxton agent upgrade echo echo.wasm', 'caxton agent rollback echo', 'caxton agent remove echo']))
  registerAgentDeploy(agent, ctx)
  registerAgentList(agent, ctx)
  registerAgentShow(agent, ctx)
  registerAgentRemove(agent, ctx)
  registerAgentLifecycle(agent, ctx)
  registerAgentUpgrade(agent, ctx)
  registerAgentVersions(agent, ctx)
  registerAgentRollback(agent, ctx)
}
