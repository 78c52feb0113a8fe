/**
 * What a module's metered form (policy check and fuel pass, `policy.ts` and `fuel.ts`)
 * depends on in this build, as one sha256: the sources of those files, of the binaryen
 * wrapper and of the worker that runs them (as this build runs them: `.ts` under tsx,
 * `.js` compiled), the agent ABI's import and export tables, and binaryen's version. A
 * metered module kept by a build
 * with another fingerprint is checked and metered again (see `MeteredModuleStore`), so
 * that a change to the policy or the fuel pass reaches every agent at the next restart,
 * with nothing to bump by hand. A change to a comment in those files costs one re-check
 * per module, no more.
 */
import { createHash, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ALLOWED_IMPORTS, IMPORT_MODULE, REQUIRED_EXPORTS, RESERVED_EXPORT_PREFIX } from '../../protocols/agent-abi/index.js'

/** The files, next to this one, whose sources the metered form depends on. */
const SOURCES = ['policy', 'policy-worker', 'fuel', 'binaryen']

let fingerprint: string | undefined

/**
 * This build's metering fingerprint (computed once: four small file reads). Never throws:
 * when a source cannot be read it is one made up for this process, which no kept row
 * matches (every module is then checked as if nothing were kept).
 */
export function meteringFingerprint (): string {
  if (fingerprint === undefined) {
    try {
      fingerprint = compute()
    } catch (err) {
      fingerprint = `unavailable (${(err as Error).message}) ${randomUUID()}`
    }
  }
  return fingerprint
}

function compute (): string {
  const here = fileURLToPath(import.meta.url)
  const ext = extname(here)
  const h = createHash('sha256')
  for (const name of SOURCES) {
    h.update(name).update('\0').update(readFileSync(join(dirname(here), name + ext))).update('\0')
  }
  h.update(JSON.stringify({ ALLOWED_IMPORTS, IMPORT_MODULE, REQUIRED_EXPORTS, RESERVED_EXPORT_PREFIX }))
  h.update('\0').update(binaryenVersion())
  return h.digest('hex')
}

/** binaryen's version, from the package.json Node resolves for it (binaryen has no `exports` map). */
function binaryenVersion (): string {
  const pkg = createRequire(import.meta.url)('binaryen/package.json') as { version?: unknown }
  return typeof pkg.version === 'string' ? pkg.version : 'unknown'
}
