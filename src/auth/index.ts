/**
 * Who may call the REST API: bearer tokens with roles (`admin`, `deployer`, `sender`,
 * `reader`), stored hashed in the node's LevelDB; the bootstrap admin token a node writes
 * to its data folder; and the files the CLI reads to find it.
 *
 * @example
 * ```ts
 * const tokens = await TokenStore.open(storage.sublevel('tokens'))
 * await ensureAdminToken(tokens, config.dataDir, log)     // <data>/admin.token, 0600
 * const v = tokens.verify(bearer)
 * if (v.ok && permits(v.principal.role, 'deployer')) { ... }
 * ```
 */
export { TokenStore, TOKEN_NAME_PATTERN, MAX_TOKEN_TTL_MS, MIN_TOKEN_TTL_MS } from './tokens.js'
export type { Principal, TokenInfo, Verification, CreateTokenRequest, TokenStoreOptions } from './tokens.js'
export { ROLES, isRole, permits, type Role, type Requirement } from './roles.js'
export { ensureAdminToken, BOOTSTRAP_TOKEN_NAME } from './bootstrap.js'
export { ADMIN_TOKEN_FILE, API_FILE, DEFAULT_DATA_ROOT, findLocalAdminToken, writeApiFile } from './files.js'
export {
  AUTH_ERROR_STATUS, ForbiddenError, HostNotAllowedError, InvalidTokenRequestError, RateLimitedError, TokenNotFoundError,
  UnauthenticatedError, type AuthFailureReason
} from './errors.js'
