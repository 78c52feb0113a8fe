/**
 * Runs `caxton` in-process for the CLI tests: `run(argv, io)` with writers that collect
 * stdout and stderr, and whatever else of {@link CliIo} a test injects (clock, fetch,
 * sleep, confirm).
 */
import { run, type CliIo } from '../../src/cli/index.js'

export interface CliResult { code: number, stdout: string, stderr: string }

export async function runCli (argv: string[], io: Omit<CliIo, 'stdout' | 'stderr'> = {}): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  const code = await run(argv, { env: {}, ...io, stdout: (t) => { stdout += t }, stderr: (t) => { stderr += t } })
  return { code, stdout, stderr }
}
