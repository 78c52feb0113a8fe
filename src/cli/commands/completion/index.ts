/**
 * `caxton completion <shell>`: prints a completion script for bash, zsh, fish or
 * powershell. The script completes by calling back `caxton complete -- <words>` (a hidden
 * command), which answers from the command tree as it is at that moment, so new commands,
 * options and choices are completed without touching this file or re-installing the
 * script. Both come from `@bomb.sh/tab`'s commander adapter. Three things are added here:
 * the output goes through the run's `io` (the library prints with `console.log`); where
 * the tree has nothing to offer (a file, an agent id, free text) the answer lets the shell
 * complete file names, as it would with no script; and the bash script is registered with
 * `-o default` so that bash does so too.
 */
import { format } from 'node:util'
import tab from '@bomb.sh/tab/commander'
import type { Command } from 'commander'
import type { CliContext } from '../../context.js'
import { examples } from '../../output.js'

/** Name of the hidden command the scripts call (fixed by the library's scripts). */
const CALLBACK_COMMAND = 'complete'

/**
 * The answer's last line is `:<directive>` (bit flags of cobra's completion protocol,
 * which the library's scripts follow); the library always sends 4, "no file completion".
 */
const NOTHING_TO_OFFER = /^:\d+\n$/
const LET_THE_SHELL_COMPLETE_FILES = ':0\n'

/**
 * Adds `completion` and the hidden `complete` to `program`. Call it after every other
 * command is registered: the adapter reads the tree when called.
 */
export function registerCompletionCommands (program: Command, ctx: CliContext): void {
  const root = tab(program, { completionCommandName: 'completion' })
  const name = program.name()
  const command = (verb: string): Command => {
    const found = program.commands.find(c => c.name() === verb)
    if (found === undefined) throw new Error(`@bomb.sh/tab did not add '${verb}'`)
    return found
  }
  const description = 'print a shell completion script (bash, zsh, fish or powershell)'
  const completionEntry = root.commands.get('completion')
  if (completionEntry !== undefined) completionEntry.description = description
  command('completion')
    .description(description)
    .addHelpText('after', examples([
      'source <(caxton completion bash)',
      'caxton completion bash > ~/.local/share/bash-completion/completions/caxton',
      'caxton completion zsh > "${fpath[1]}/_caxton"',
      'caxton completion fish > ~/.config/fish/completions/caxton.fish'
    ]))
    .action((shell: string) => {
      const script = printed(() => { root.setup(name, name, shell) })
      // The library's bash script registers without `-o default`: bash would then offer no
      // file names even where the answer allows them. Registering again replaces the spec.
      ctx.io.stdout(shell === 'bash' ? `${script}complete -o default -F __${name}_complete ${name}\n` : script)
    })
  command(CALLBACK_COMMAND)
    .action((words: string[]) => {
      const answer = printed(() => { root.parse(words) })
      ctx.io.stdout(NOTHING_TO_OFFER.test(answer) ? LET_THE_SHELL_COMPLETE_FILES : answer)
    })
}

/** What `work` writes with `console.log`, instead of on the process's stdout. */
function printed (work: () => void): string {
  const log = console.log
  let out = ''
  console.log = (...args: unknown[]) => { out += format(...args) + '\n' }
  try {
    work()
  } finally {
    console.log = log
  }
  return out
}
