/**
 * The capabilities an agent offers, as its instance sees them (ABI SPEC.md §9): the list
 * as deployed and declared since, the declarations and withdrawals of the message being
 * handled, and the whole list handed to the host when that message changed it (the host
 * stores it with the agent and publishes it in the registry).
 */
import { HOST_RESULT } from '../../../protocols/agent-abi/index.js'
import { LIMITS, type Capability } from '../../../protocols/registry/index.js'
import { parseCapabilities } from '../../registry/capabilities.js'
import { InvalidCapabilityError } from '../../registry/errors.js'

const sameRef = (a: Capability, name: string, version: string | undefined): boolean => a.name === name && a.version === version

export class CapabilityBook {
  private list: Capability[]
  private changed = false

  /** @param offered the agent's capabilities as committed */
  constructor (offered: readonly Capability[] = []) {
    this.list = [...offered]
  }

  /**
   * Declares the capability in `json` (UTF-8 JSON of `{ name, version?, description?,
   * schema? }`), replacing the one with the same name and version.
   * @returns `HOST_RESULT.ok`, `HOST_RESULT.invalid` (with nothing changed) or `HOST_RESULT.quota`
   */
  declare (json: Uint8Array): number {
    let capability: Capability
    try {
      [capability] = parseCapabilities([JSON.parse(Buffer.from(json).toString('utf8'))], 'capability')
    } catch (err) {
      // JSON.parse's SyntaxError, or the shape or schema refused.
      if (err instanceof SyntaxError || err instanceof InvalidCapabilityError) return HOST_RESULT.invalid
      throw err
    }
    const at = this.list.findIndex(c => sameRef(c, capability.name, capability.version))
    if (at < 0 && this.list.length >= LIMITS.capabilities) return HOST_RESULT.quota
    this.list = at < 0 ? [...this.list, capability] : this.list.map((c, i) => i === at ? capability : c)
    this.changed = true
    return HOST_RESULT.ok
  }

  /** Withdraws the capability `name`@`version` (undefined: the one without a version). */
  withdraw (name: string, version: string | undefined): number {
    const at = this.list.findIndex(c => sameRef(c, name, version))
    if (at < 0) return HOST_RESULT.notFound
    this.list = this.list.filter((_, i) => i !== at)
    this.changed = true
    return HOST_RESULT.ok
  }

  /** The list when the message just handled changed it, else undefined; forgets the change. */
  takeChanges (): Capability[] | undefined {
    if (!this.changed) return undefined
    this.changed = false
    return [...this.list]
  }
}
