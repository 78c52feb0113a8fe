import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../observability/logger.js'
import { writeSecretFile } from '../storage/secret-file.js'
import { ADMIN_TOKEN_FILE } from './files.js'
import type { TokenStore } from './tokens.js'

/** Name of the admin token a node creates for itself. */
export const BOOTSTRAP_TOKEN_NAME = 'admin-bootstrap'

/**
 * Makes sure `<dataDir>/admin.token` holds a valid admin token: on a node's first start
 * (and whenever the file is missing or its token no longer valid: deleted, revoked,
 * expired) a new admin token is created and written there, mode 0600, and the log says
 * where (never the token). Whoever can write the data folder owns the node anyway, so
 * deleting the file and restarting is also how a lost admin token is replaced.
 * @returns the file's path and whether a token was created
 */
export async function ensureAdminToken (tokens: TokenStore, dataDir: string, log: Logger): Promise<{ file: string, created: boolean }> {
  const file = join(dataDir, ADMIN_TOKEN_FILE)
  let existing: string | undefined
  try {
    existing = (await readFile(file, 'utf8')).trim()
  } catch {
    existing = undefined
  }
  if (existing !== undefined) {
    const v = tokens.verify(existing)
    if (v.ok && v.principal.role === 'admin') return { file, created: false }
  }
  const { token, info } = await tokens.create({ name: BOOTSTRAP_TOKEN_NAME, role: 'admin' })
  await writeSecretFile(file, token + '\n', { overwrite: true })
  log.info({ file, tokenId: info.id }, existing === undefined ? 'admin token written' : 'admin token replaced (the old one was no longer valid)')
  return { file, created: true }
}
