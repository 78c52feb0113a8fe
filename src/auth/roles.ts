/**
 * The roles a REST API token carries (DESIGN.md "Trust boundary"), and what each may do.
 * `reader` is the least: every other role includes it. `deployer` and `sender` each add
 * one kind of change; `admin` may do everything.
 */

export const ROLES = ['admin', 'deployer', 'sender', 'reader'] as const
export type Role = typeof ROLES[number]

/** What a route needs: a role, or nothing (`public`: `/health`, `/ready`). */
export type Requirement = Role | 'public'

export function isRole (value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value)
}

/**
 * Whether a token of role `have` may call a route that needs `need`.
 * admin ⊇ deployer, sender ⊇ reader; deployer and sender are disjoint beyond reader.
 */
export function permits (have: Role, need: Requirement): boolean {
  if (need === 'public' || have === 'admin' || have === need) return true
  return need === 'reader'
}
