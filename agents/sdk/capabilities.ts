/**
 * Capabilities the agent offers, declared and withdrawn at run time
 * (protocols/agent-abi/SPEC.md §9). The node publishes them in the cluster registry, where
 * others find the agent by capability name. Like a kv write, a change takes effect when
 * the message being handled is committed; from top-level code (the start function) it is
 * refused with `CAPABILITY_READ_ONLY`.
 *
 * ```ts
 * import { declareCapability, withdrawCapability } from '../../sdk'
 * declareCapability('translate', '1.0.0', 'English to French')
 * withdrawCapability('translate', '1.0.0')
 * ```
 */

// @ts-ignore: decorator
@external('env', 'capability_declare')
declare function hostDeclare (ptr: usize, len: i32): i32

// @ts-ignore: decorator
@external('env', 'capability_withdraw')
declare function hostWithdraw (namePtr: usize, nameLen: i32, versionPtr: usize, versionLen: i32): i32

/** Result: done. */
export const CAPABILITY_OK: i32 = 0
/** `withdrawCapability` result: the agent offers no such capability. */
export const CAPABILITY_NOT_FOUND: i32 = -1
/** `declareCapability` result: the agent already offers 64 capabilities. */
export const CAPABILITY_QUOTA: i32 = -4
/** Result: called from top-level code (the start function). */
export const CAPABILITY_READ_ONLY: i32 = -5
/** `declareCapability` result: longer than 65536 bytes of JSON. */
export const CAPABILITY_TOO_LARGE: i32 = -6
/**
 * `declareCapability` result: not a valid capability: a name of 1-100 characters, a
 * version of 1-64, a description of at most 1000, no control characters, a schema that
 * is a JSON Schema (draft-07).
 */
export const CAPABILITY_INVALID: i32 = -8

/** `s` as a JSON string literal. */
function jsonString (s: string): string {
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c == 34) out += '\\"'
    else if (c == 92) out += '\\\\'
    else if (c < 32) out += '\\u00' + (c < 16 ? '0' : '') + c.toString(16)
    else out += String.fromCharCode(c)
  }
  return out + '"'
}

/**
 * Offers capability `name` (with `version` and `description` when not empty, and
 * `schemaJson`, the JSON Schema of the content it accepts, as JSON text, when not empty),
 * replacing the one with the same name and version. Returns `CAPABILITY_OK`, or
 * `CAPABILITY_INVALID`, `CAPABILITY_QUOTA`, `CAPABILITY_TOO_LARGE`, `CAPABILITY_READ_ONLY`.
 */
export function declareCapability (name: string, version: string = '', description: string = '', schemaJson: string = ''): i32 {
  let json = '{"name":' + jsonString(name)
  if (version.length > 0) json += ',"version":' + jsonString(version)
  if (description.length > 0) json += ',"description":' + jsonString(description)
  if (schemaJson.length > 0) json += ',"schema":' + schemaJson
  const bytes = String.UTF8.encode(json + '}')
  return hostDeclare(changetype<usize>(bytes), bytes.byteLength)
}

/**
 * Stops offering capability `name` at `version` (empty: the one without a version).
 * Returns `CAPABILITY_OK`, or `CAPABILITY_NOT_FOUND`, `CAPABILITY_READ_ONLY`.
 */
export function withdrawCapability (name: string, version: string = ''): i32 {
  const n = String.UTF8.encode(name)
  const v = String.UTF8.encode(version)
  return hostWithdraw(changetype<usize>(n), n.byteLength, changetype<usize>(v), v.byteLength)
}
