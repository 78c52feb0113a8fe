/**
 * The version of this Caxton build, read once from the project's `package.json`. The
 * REST API sends it as `X-Caxton-Version`; the CLI sends it as `X-Caxton-CLI-Version`.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const PACKAGE_NAME = 'caxton-mesh'

/**
 * Walks up from this file to the first `package.json` named `caxton-mesh`. Walking,
 * rather than a fixed `../../package.json`, because the file runs both from `src/api/`
 * (tsx) and from `dist/src/api/` (compiled).
 */
function readVersion (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown, version?: unknown }
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return pkg.version
    } catch {
      // no package.json here (or unreadable): keep walking up
    }
    const parent = dirname(dir)
    if (parent === dir) return '0.0.0-unknown'
    dir = parent
  }
}

/** Semantic version of this build, e.g. `0.1.0`. */
export const CAXTON_VERSION: string = readVersion()

/** Response header carrying the node's version. */
export const VERSION_HEADER = 'x-caxton-version'
/** Request header carrying the CLI's version. */
export const CLI_VERSION_HEADER = 'x-caxton-cli-version'
