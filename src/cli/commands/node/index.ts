import type { Command } from 'commander'
import { addStartCommand } from './start.js'

/** Registers the `node` noun: `caxton node start`. */
export function registerNodeCommands (program: Command): void {
  const node = program.command('node').description('Run a Caxton node')
  addStartCommand(node)
}
