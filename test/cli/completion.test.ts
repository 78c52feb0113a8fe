/**
 * `caxton completion <shell>` and the hidden `caxton complete -- <words>` the scripts call
 * back: in-process, then the bash script in a real bash against the built binary.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Option, type Command } from 'commander'
import { run, type RunOptions } from '../../src/cli/index.js'
import { CLI } from '../../sim/cluster/index.js'

async function cli (args: string[], options: RunOptions = {}): Promise<{ code: number, stdout: string, stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await run(args, { stdout: (t) => { stdout += t }, stderr: (t) => { stderr += t }, env: {} }, options)
  return { code, stdout, stderr }
}

/** `complete -- <words>` → the offered values and the directive. */
async function complete (words: string[], options: RunOptions = {}): Promise<{ values: string[], directive: string }> {
  const r = await cli(['complete', '--', ...words], options)
  assert.equal(r.code, 0, r.stderr)
  const lines = r.stdout.trimEnd().split('\n')
  const directive = lines.pop() ?? ''
  return { values: lines.map(l => l.split('\t')[0]), directive }
}

describe('cli: shell completion', function () {
  this.timeout(30_000)

  it('prints a script for bash, zsh and fish that calls back `caxton complete --`', async () => {
    const markers: Record<string, RegExp> = { bash: /^complete -o default -F __caxton_complete caxton$/m, zsh: /^#compdef caxton$/m, fish: /^complete -c caxton /m }
    for (const [shell, marker] of Object.entries(markers)) {
      const r = await cli(['completion', shell])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, marker, shell)
      assert.match(r.stdout, /caxton complete --/, shell)
    }
  })

  it('refuses a shell it does not know (usage error, exit 2)', async () => {
    const r = await cli(['completion', 'tcsh'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /'tcsh' is invalid for argument 'shell'/)
  })

  it('offers the nouns, their verbs, options, and the choices of an option', async () => {
    const nouns = await complete([''])
    for (const noun of ['agent', 'message', 'cluster', 'registry', 'status', 'metrics', 'completion']) assert.ok(nouns.values.includes(noun), noun)
    assert.ok(!nouns.values.includes('complete'), 'the callback stays hidden')
    assert.equal(nouns.directive, ':4', 'nothing else than the words offered')

    assert.deepEqual((await complete(['agent', ''])).values.filter(v => v !== 'help'), ['deploy', 'list', 'remove', 'resume', 'rollback', 'show', 'start', 'stop', 'suspend', 'upgrade', 'versions'])
    assert.deepEqual((await complete(['agent', 'deploy', '--cap'])).values, ['--capability', '--capabilities'])
    assert.deepEqual((await complete(['cluster', 'members', '--state', ''])).values, ['alive', 'suspect', 'dead', 'left'])
  })

  it('lets the shell complete file names where it has nothing to offer', async () => {
    assert.deepEqual(await complete(['agent', 'deploy', 'ech']), { values: [], directive: ':0' })
  })

  it('completes a command added later without any change to completion', async () => {
    const widget = (program: Command): void => {
      program.command('widget').description('a noun added by someone else')
        .command('spin').addOption(new Option('--speed <speed>').choices(['slow', 'fast'])).action(() => {})
    }
    const options: RunOptions = { commands: [widget] }
    assert.ok((await complete([''], options)).values.includes('widget'))
    assert.ok((await complete(['widget', ''], options)).values.includes('spin'))
    assert.deepEqual((await complete(['widget', 'spin', '--speed', ''], options)).values, ['slow', 'fast'])
  })

  describe('the bash script in bash', () => {
    let bin: string

    before(async () => {
      bin = await mkdtemp(join(tmpdir(), 'caxton-completion-'))
      // `caxton` as the script calls it: the built binary, found on PATH
      await writeFile(join(bin, 'caxton'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`)
      await chmod(join(bin, 'caxton'), 0o755)
    })

    after(async () => { await rm(bin, { recursive: true, force: true }) })

    /** Completes `line` (the cursor at its end) in a non-interactive bash; what bash would offer. */
    async function bashComplete (line: string): Promise<{ reply: string[], compopt: string[], spec: string }> {
      const script = `
        # bash-completion's helper, where that package is not installed: the words as typed
        if ! declare -F _get_comp_words_by_ref >/dev/null; then
          _get_comp_words_by_ref () { cur=\${COMP_WORDS[COMP_CWORD]}; prev=\${COMP_WORDS[COMP_CWORD-1]}; words=("\${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
        fi
        # compopt only works while readline completes: record what the script asks of it
        compopt () { echo "compopt $*" >&2; }
        source <(caxton completion bash)
        complete -p caxton >&2
        COMP_LINE="$1"; COMP_POINT=\${#COMP_LINE}
        read -r -a COMP_WORDS <<< "$COMP_LINE"
        [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
        __caxton_complete
        printf '%s\\n' "\${COMPREPLY[@]}"
      `
      const { stdout, stderr } = await promisify(execFile)('bash', ['-c', script, 'bash', line], { env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` } })
      const err = stderr.split('\n')
      return {
        reply: stdout.split('\n').filter(x => x !== ''),
        compopt: err.filter(l => l.startsWith('compopt ')),
        spec: err.find(l => l.startsWith('complete ')) ?? ''
      }
    }

    it('completes verbs, options and choices, and falls back to file names for a module', async () => {
      assert.deepEqual((await bashComplete('caxton agent de')).reply, ['deploy'])
      assert.deepEqual((await bashComplete('caxton agent deploy --capa')).reply.sort(), ['--capabilities', '--capability'])
      assert.deepEqual((await bashComplete('caxton node start --preset ')).reply.sort(), ['lan', 'local', 'wan'])

      const file = await bashComplete('caxton agent deploy ech')
      assert.deepEqual(file.reply, [])
      assert.match(file.spec, /^complete -o default -F __caxton_complete caxton$/)
      assert.ok(!file.compopt.includes('compopt +o default'), 'file names stay allowed')
      assert.ok((await bashComplete('caxton agent ')).compopt.includes('compopt +o default'), 'no file names among the verbs')
    })
  })
})
